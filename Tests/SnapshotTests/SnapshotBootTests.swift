import Foundation
import KernelFS
import MemoryModel
import XCTest

@testable import Snapshot

/// `--snapshot`: a real 6.1 guest's snapshot (tests/snapshot/NAME.kernel.txt, dumped by the
/// guest itself) booted as a model machine reproduces the guest's own views.
final class SnapshotBootTests: XCTestCase {
    static let dir = KernelAccuracyTests.dir

    func guests() throws -> [(String, GuestLog.Result)] {
        let logs = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).filter {
            $0.hasSuffix(".kernel.txt")
        }.sorted()
        XCTAssertGreaterThanOrEqual(logs.count, 3, "the committed real-kernel fixtures are missing")
        return try logs.map { log in
            let text = try String(contentsOf: Self.dir.appendingPathComponent(log), encoding: .utf8)
            return (log, try GuestLog.parse(text, path: log))
        }
    }

    func testInvariants() throws {
        for (log, g) in try guests() {
            let m = try SnapshotMachine.boot(g.snapshot, census: g.census, source: log)
            XCTAssertNoThrow(try m.verify(), log)
        }
    }

    /// Zone spans and present pages exactly, block states, zones and nodes exactly, and
    /// /proc/meminfo within the tolerance `meminfoTolerance` states.
    func testRealGuestViewsReproduced() throws {
        for (log, g) in try guests() {
            let m = try SnapshotMachine.boot(g.snapshot, census: g.census, source: log)
            let fs = KernelFS(machine: m)
            for z in g.snapshot.zones where z.present > 0 {
                let t = try XCTUnwrap(SnapshotMachine.zoneType(z.name))
                let mz = m.zone(node: z.node, type: t)
                XCTAssertEqual(mz.startPFN, z.startPFN, "\(log): node \(z.node) \(z.name) start_pfn")
                XCTAssertEqual(mz.spannedPages, z.spanned, "\(log): node \(z.node) \(z.name) spanned")
                XCTAssertEqual(mz.presentPages, z.present, "\(log): node \(z.node) \(z.name) present")
                XCTAssertEqual(mz.managedPages, z.managed, "\(log): node \(z.node) \(z.name) managed")
            }
            for b in g.snapshot.blocks {
                let dir = "/sys/devices/system/memory/memory\(b.id)"
                XCTAssertEqual(try fs.read(dir + "/state"), b.state + "\n", "\(log): memory\(b.id) state")
                if b.state == "online" {
                    XCTAssertEqual(
                        try fs.read(dir + "/valid_zones"), (b.validZones ?? "") + "\n",
                        "\(log): memory\(b.id) valid_zones")
                }
                XCTAssertEqual(m.blocks[b.id]?.node, b.node, "\(log): memory\(b.id) node")
            }
            let model = Self.meminfo(try fs.read("/proc/meminfo"))
            for (k, v) in g.snapshot.meminfo.sorted(by: { $0.key < $1.key }) {
                guard let mv = model[k] else { XCTFail("\(log): the model's /proc/meminfo has no \(k)"); continue }
                let tolerance = Self.exactMeminfo.contains(k) ? 0 : Swift.max(v / 200, 2048)
                XCTAssertLessThanOrEqual(
                    abs(mv - v), tolerance, "\(log): \(k) model \(mv) kernel \(v) (tolerance \(tolerance))")
            }
        }
    }

    /// The meminfo lines that must match exactly: totals of pages the census places one for
    /// one (MemTotal is managed pages: present minus PageReserved), and the pools. Shmem,
    /// SReclaimable, SUnreclaim and KernelStack take their split from the host's own meminfo
    /// (docs/snapshot.md), so they match by construction and are held to the tolerance only.
    /// Everything else within 0.5% or 2 MiB: free and anonymous pages move while the census
    /// is read (kpageflags is read page by page, meminfo a moment later).
    static let exactMeminfo: Set<String> = [
        "MemTotal", "Buffers", "Cached", "PageTables", "HugePages_Total", "HugePages_Free", "HugePages_Rsvd",
        "HugePages_Surp", "Hugepagesize", "Hugetlb"
    ]

    static func meminfo(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let p = line.split(separator: ":", maxSplits: 1)
            guard p.count == 2, let v = Int(p[1].split(separator: " ").first ?? "") else { continue }
            out[String(p[0])] = v
        }
        return out
    }
}
