import Foundation
import KernelFS
import MemoryModel
import Scenario
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

    /// What a snapshot cannot know, set by `--assume`, changes the booted model as it changes the
    /// prediction: memory33 of the two-node guest (ZONE_MOVABLE, anonymous memory) offlines as
    /// the kernel did; assumed long-term pinned, or holding page cache whose writeback is
    /// assumed stuck, the model's offline spins until the writer's signal (EINTR), as predicted.
    func testAssumptionsChangeTheModelAsThePrediction() throws {
        let (log, g) = try XCTUnwrap(try guests().first { $0.0 == "snap-two-nodes.kernel.txt" })
        func offline(_ block: Int, _ a: Assumptions) throws -> (model: String, predicted: String) {
            let m = try SnapshotMachine.boot(g.snapshot, census: g.census, assumptions: a, source: log)
            let fs = KernelFS(machine: m)
            var model = "0"
            do { try fs.write("/sys/devices/system/memory/memory\(block)/state", "offline\n") } catch let e
                as KernelError
            {
                model = e.errno.symbol
            }
            XCTAssertNoThrow(try m.verify())
            let p = OfflinePredictor(snapshot: g.snapshot, census: g.census, assumptions: a).predictAll()
            return (model, try XCTUnwrap(p.first { $0.block == block }).errno)
        }
        let plain = try offline(33, Assumptions())
        XCTAssertEqual(plain.model, "0")
        XCTAssertEqual(plain.predicted, "0")
        var pinned = Assumptions()
        try pinned.apply("pinned=0x108000-0x110000")  // memory33
        let p = try offline(33, pinned)
        XCTAssertEqual(p.model, "EINTR")
        XCTAssertEqual(p.predicted, "EINTR")
        // Page cache (the guests hold none but shmem): memory33 filled with file LRU pages, most
        // of them page cache by the meminfo split; with dirty=stuck they never migrate.
        let withCache = g.census.overlaid([(0x108000..<0x110000, .file)])
        func offlineCache(_ a: Assumptions) throws -> (model: String, predicted: String) {
            let m = try SnapshotMachine.boot(g.snapshot, census: withCache, assumptions: a, source: log)
            var model = "0"
            do { try KernelFS(machine: m).write("/sys/devices/system/memory/memory33/state", "offline\n") } catch let e
                as KernelError
            {
                model = e.errno.symbol
            }
            let p = OfflinePredictor(snapshot: g.snapshot, census: withCache, assumptions: a).predictAll()
            return (model, try XCTUnwrap(p.first { $0.block == 33 }).errno)
        }
        let clean = try offlineCache(Assumptions())
        XCTAssertEqual(clean.model, "0")
        XCTAssertEqual(clean.predicted, "0")
        var stuck = Assumptions()
        try stuck.apply("dirty=stuck")
        let dirty = try offlineCache(stuck)
        XCTAssertEqual(dirty.model, "EINTR")
        XCTAssertEqual(dirty.predicted, "EINTR")
    }

    /// The guests that also read their whole /proc/meminfo right after the snapshot: the model's
    /// has the same lines in the same order (Debian 6.1's config: no HIGHMEM, ZSWAP, MEMORY_FAILURE,
    /// THP, no CMA, x86's DirectMap lines), and every line the census decides is within the
    /// tolerance there too. Not compared: the lines the model keeps as calibrated constants of its
    /// QEMU guest (Mapped, Committed_AS's base, VmallocUsed, Percpu, DirectMap*: docs/snapshot.md),
    /// AnonHugePages (the model has no THP), and the Active/Inactive split (kpageflags' KPF_ACTIVE
    /// is not in the census; the model puts shmem on the active list).
    func testMeminfoHasTheGuestsLines() throws {
        var checked = 0
        for (log, g) in try guests() {
            let text = try String(contentsOf: Self.dir.appendingPathComponent(log), encoding: .utf8)
            guard
                let read = try Observation.parseLog(text).first(where: {
                    $0.kind == "read" && $0["path"] == "/proc/meminfo"
                }), let guest = read["value"]
            else { continue }
            checked += 1
            let m = try SnapshotMachine.boot(g.snapshot, census: g.census, source: log)
            let model = try KernelFS(machine: m).read("/proc/meminfo")
            func keys(_ t: String) -> [String] { t.split(separator: "\n").map { String($0.split(separator: ":")[0]) } }
            XCTAssertEqual(keys(model), keys(guest), "\(log): /proc/meminfo lines")
            let mv = Self.meminfo(model), gv = Self.meminfo(guest)
            let skip: Set<String> = [
                "Mapped", "Committed_AS", "VmallocUsed", "Percpu", "DirectMap4k", "DirectMap2M", "DirectMap1G",
                "AnonHugePages", "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)",
                "Inactive(file)"
            ]
            for k in keys(guest) where !skip.contains(k) {
                let v = gv[k] ?? 0, tolerance = Self.exactMeminfo.contains(k) ? 0 : Swift.max(v / 200, 2048)
                XCTAssertLessThanOrEqual(
                    abs((mv[k] ?? -1) - v), tolerance, "\(log): \(k) model \(mv[k] ?? -1) kernel \(v)")
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 1, "no guest read its /proc/meminfo (tests/snapshot/snap-two-nodes)")
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
