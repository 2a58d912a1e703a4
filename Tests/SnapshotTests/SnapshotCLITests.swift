import Foundation
import KernelFS
import MemhpTestSupport
import XCTest

@testable import MemoryModel
@testable import Snapshot

/// `memhp snapshot`, `predict` and `host metrics` as a user meets them: bad snapshots and
/// unusable hosts exit with status 2 and say why; the live host is only read.
final class SnapshotCLITests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func memhp(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = try MemhpBinary.run(args)
        return (r.status, r.out, r.err)
    }

    func tmp(_ name: String) -> String { NSTemporaryDirectory() + "memhp-\(UUID().uuidString)-\(name)" }

    /// A fake root of the default machine (1 GiB) with a small pool.
    func modelRoot() throws -> String {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        if !m.hugetlb.initialized { m.hugetlbInit() }
        let fs = KernelFS(machine: m)
        try fs.write("/proc/sys/vm/nr_hugepages", "16\n")
        return try ModelFakeRoot.make(fs)
    }

    func testSnapshotFileRoundTripAndDamage() throws {
        let root = try modelRoot()
        defer { ModelFakeRoot.remove(root) }
        let (s, c) = SnapshotCapture(root: HostRoot(root)).capture()
        let bytes = try SnapshotFile.encode(s, census: c)
        let (s2, c2) = try SnapshotFile.decode(bytes, path: "x")
        XCTAssertEqual(c2, c)
        XCTAssertEqual(s2.blocks, s.blocks)
        XCTAssertEqual(s2.zones, s.zones)
        func message(_ b: [UInt8]) -> String {
            do { _ = try SnapshotFile.decode(b, path: "f"); return "decoded" } catch { return "\(error)" }
        }
        XCTAssertTrue(
            message(Array(bytes.dropLast(5))).hasPrefix("f:3: truncated: the census has"),
            message(Array(bytes.dropLast(5))))
        XCTAssertTrue(message(Array(bytes.prefix(100))).hasPrefix("f:2: truncated"))
        XCTAssertTrue(message(Array("hello\n".utf8)).hasPrefix("f:1: not a memhp snapshot"))
        XCTAssertTrue(message([]).contains("empty file"))
        var newer = bytes
        newer.replaceSubrange(0..<16, with: Array("memhp-snapshot 9".utf8))
        XCTAssertTrue(message(newer).contains("format 9 is newer"), message(newer))
        var flipped = bytes
        flipped[flipped.count - 2] ^= 0x40
        XCTAssertTrue(message(flipped).contains("hash"), message(flipped))
    }

    func testBadSnapshotsAndUnusableHostsExitWithStatus2() throws {
        let root = try modelRoot()
        defer { ModelFakeRoot.remove(root) }
        let good = tmp("good.memhp")
        defer { try? FileManager.default.removeItem(atPath: good) }
        let r0 = try memhp(["snapshot", "--root", root, "-o", good])
        XCTAssertEqual(r0.status, 0, r0.err)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cases: [(Data, String)] = [
            (bytes.dropLast(7), "truncated"),
            (Data("#!/bin/sh\necho hi\n".utf8), "not a memhp snapshot"),
            (Data("memhp-snapshot 2\n{}\n".utf8), "newer"),
            (Data("memhp-snapshot 1\n{\"format\":1}\n".utf8), "is missing")
        ]
        for (data, needle) in cases {
            let f = tmp("bad.memhp")
            try data.write(to: URL(fileURLWithPath: f))
            defer { try? FileManager.default.removeItem(atPath: f) }
            for cmd in [["predict"], ["host", "metrics"]] {
                let r = try memhp(cmd + ["--snapshot", f])
                XCTAssertEqual(r.status, 2, "\(needle): \(r.err)")
                XCTAssertTrue(r.err.contains(needle) && r.err.contains(f), "\(needle): stderr was \(r.err)")
                XCTAssertTrue(r.out.isEmpty)
            }
        }
        // A host without memory hotplug: no /sys/devices/system/memory.
        let bare = tmp("bare")
        try FileManager.default.createDirectory(atPath: bare + "/proc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: bare) }
        let r1 = try memhp(["predict", "--root", bare])
        XCTAssertEqual(r1.status, 2)
        XCTAssertTrue(r1.err.contains("no memory hotplug"), r1.err)
        // A non-x86 host.
        let arm = try modelRoot()
        defer { ModelFakeRoot.remove(arm) }
        try "aarch64\n".write(toFile: arm + "/proc/sys/kernel/arch", atomically: false, encoding: .utf8)
        let r2 = try memhp(["predict", "--root", arm])
        XCTAssertEqual(r2.status, 2)
        XCTAssertTrue(r2.err.contains("aarch64") && r2.err.contains("x86_64 only"), r2.err)
        // Unknown column, bad assumption, a what-if on an online block.
        for (args, needle) in [
            (["-o", "BLOCK,NOPE"], "NOPE"), (["--assume", "pinned=9-3"], "pinned"),
            (["--online-movable", "1"], "not offline")
        ] {
            let r = try memhp(["predict", "--root", root] + args)
            XCTAssertEqual(r.status, 2, r.err)
            XCTAssertTrue(r.err.contains(needle), r.err)
        }
    }

    /// The live host's kernel settings read the same before and after snapshot, predict and
    /// metrics: nothing here writes to /sys or /proc.
    func testTheLiveHostIsOnlyRead() throws {
        let host = HostRoot("/")
        var paths = ["/sys/devices/system/memory/auto_online_blocks"]
        paths += (host.list("/sys/devices/system/memory") ?? []).filter { $0.hasPrefix("memory") }.map {
            "/sys/devices/system/memory/\($0)/state"
        }
        paths += SnapshotCapture.sysctlNames.map { "/proc/sys/vm/" + $0 }
        for h in host.list("/sys/kernel/mm/hugepages") ?? [] {
            paths += ["nr_hugepages", "nr_overcommit_hugepages"].map { "/sys/kernel/mm/hugepages/\(h)/\($0)" }
        }
        paths += (host.list("/sys/module/memory_hotplug/parameters") ?? []).map {
            "/sys/module/memory_hotplug/parameters/" + $0
        }
        let before = paths.map { host.read($0) }
        XCTAssertGreaterThan(before.compactMap { $0 }.count, 3, "this host exposes too little to test against")
        let out = tmp("live.memhp")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r1 = try memhp(["snapshot", "-o", out])
        XCTAssertEqual(r1.status, 0, r1.err)
        let r2 = try memhp(["predict", "--snapshot", out, "--hvo", "on", "--pool", "8"])
        XCTAssertEqual(r2.status, 0, r2.err)
        let r3 = try memhp(["host", "metrics", "--snapshot", out])
        XCTAssertEqual(r3.status, 0, r3.err)
        let after = paths.map { host.read($0) }
        for (i, p) in paths.enumerated() { XCTAssertEqual(before[i], after[i], p) }
    }

    func testMetricsPassPromtoolAndAreServedOverHTTP() throws {
        let root = try modelRoot()
        defer { ModelFakeRoot.remove(root) }
        let (s, c) = SnapshotCapture(root: HostRoot(root)).capture()
        let text = HostMetrics.render(
            snapshot: s, predictions: OfflinePredictor(snapshot: s, census: c).predictAll(), assumptions: Assumptions())
        XCTAssertTrue(text.contains("memhp_memory_block_offlinable{block=\"0\",node=\"0\",zone=\"none\"} 0"), text)
        XCTAssertTrue(text.contains("memhp_hugepages_pool_pages{size_bytes=\"2097152\",node=\"all\"} 16"), text)

        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        if let promtool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: promtool)
            p.arguments = ["check", "metrics"]
            let inPipe = Pipe(), errPipe = Pipe()
            p.standardInput = inPipe; p.standardError = errPipe; p.standardOutput = errPipe
            try p.run()
            inPipe.fileHandleForWriting.write(Data(text.utf8)); try inPipe.fileHandleForWriting.close()
            let msg = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, msg)
        } else if ProcessInfo.processInfo.environment["MEMHP_REQUIRE_PROMTOOL"] == "1" {
            XCTFail("promtool is required (scripts/test installs Debian's prometheus)")
        }

        // Scrape with curl: /metrics, then a 404.
        let server = try MetricsServer(address: "127.0.0.1:0") { text }
        let t = Thread { server.serve(limit: 2) }
        t.start()
        func curl(_ path: String) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            p.arguments = ["-sS", "-w", "\n%{http_code} %{content_type}", "http://127.0.0.1:\(server.port)\(path)"]
            let o = Pipe(); p.standardOutput = o
            try p.run()
            let d = o.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: d, as: UTF8.self))
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("no curl") }
        let (st, body) = try curl("/metrics")
        XCTAssertEqual(st, 0)
        XCTAssertEqual(body, text + "\n200 text/plain; version=0.0.4; charset=utf-8")
        let (_, nf) = try curl("/")
        XCTAssertTrue(nf.hasSuffix("404 text/plain"), nf)
    }
}

/// Without root: no kpageflags. The snapshot says what is missing and why; predictions that
/// depend on the pages say `unknown`, those the files decide (zones, holes, state) stand.
final class SnapshotWithoutCensusTests: XCTestCase {
    func testMissingKpageflagsIsReportedAndPredictionsSayUnknown() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        let root = try ModelFakeRoot.make(KernelFS(machine: m))
        defer { ModelFakeRoot.remove(root) }
        try ModelFakeRoot.writable(root + "/proc") {
            try FileManager.default.removeItem(atPath: root + "/proc/kpageflags")
        }
        let (s, c) = SnapshotCapture(root: HostRoot(root)).capture()
        XCTAssertNil(c)
        let miss = try XCTUnwrap(s.missing.first { $0.path == "/proc/kpageflags" })
        XCTAssertEqual(miss.why, String(cString: strerror(ENOENT)))
        XCTAssertTrue(miss.effect.contains("no per-page census"))
        let ps = OfflinePredictor(snapshot: s, census: c).predictAll()
        XCTAssertEqual(ps.first { $0.block == 0 }?.outcome, .einval)  // several zones: known from valid_zones
        XCTAssertEqual(ps.first { $0.block == 1 }?.outcome, .unknown)
        XCTAssertEqual(ps.first { $0.block == 1 }?.reason, "no census")
    }
}
