import Foundation
import KernelFS
import MemhpTestSupport
import XCTest

@testable import MemoryModel
@testable import Snapshot

/// `--snapshot FILE` on every command that takes a machine, as a user meets it: a model
/// machine's snapshot boots back into the same machine (its views, its blocks), every command
/// runs on it, and a truncated, foreign, newer-format or census-less file is refused by each
/// with FILE:LINE and exit status 2.
final class SnapshotSourceCLITests: XCTestCase {
    /// The built binary, as SnapshotCLITests runs it.
    enum cli {
        static func memhp(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            let r = try MemhpBinary.run(args)
            return (r.status, r.out, r.err)
        }
        static func tmp(_ name: String) -> String { NSTemporaryDirectory() + "memhp-\(UUID().uuidString)-\(name)" }
    }

    /// 2 GiB + a 512 MiB DIMM (memory32 online movable, 33-35 offline), a 2 MiB pool of 24, an
    /// anonymous hold: its snapshot, and its own /proc/meminfo.
    func snapshotOfAModel() throws -> (file: String, meminfo: String) {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 2 << 30, maxmemBytes: 4 << 30, slots: 2, dimms: [.init(id: "d1", sizeBytes: 512 << 20)]))
        let fs = KernelFS(machine: m)
        try fs.write("/sys/devices/system/memory/memory32/state", "online_movable\n")
        try fs.write("/proc/sys/vm/nr_hugepages", "24\n")
        try fs.withLock { m in
            let id = try m.createOwner(name: "hold", kind: .anon)
            m.allocate(owner: id, blocks: 20000)
        }
        let root = try ModelFakeRoot.make(fs)
        defer { ModelFakeRoot.remove(root) }
        let file = cli.tmp("model.memhp")
        let r = try cli.memhp(["snapshot", "--root", root, "-o", file])
        XCTAssertEqual(r.status, 0, r.err)
        return (file, try fs.read("/proc/meminfo"))
    }

    func testEveryMachineCommandRunsOnASnapshot() throws {
        let (f, meminfo) = try snapshotOfAModel()
        defer { try? FileManager.default.removeItem(atPath: f) }
        let original = SnapshotBootTests.meminfo(meminfo)
        // boot: the machine's own totals back (the census saw every page).
        let b = try cli.memhp(["boot", "--snapshot", f, "--show", "meminfo", "--show", "blocks"])
        XCTAssertEqual(b.status, 0, b.err)
        let booted = SnapshotBootTests.meminfo(b.out)
        for k in ["MemTotal", "AnonPages", "HugePages_Total", "HugePages_Free", "Hugetlb"] {
            XCTAssertEqual(booted[k], original[k], "\(k)")
        }
        XCTAssertLessThanOrEqual(abs((booted["MemFree"] ?? 0) - (original["MemFree"] ?? 0)), 2048, b.out)
        XCTAssertTrue(b.out.contains("memory32 state=online valid_zones=\"Movable\""), b.out)
        XCTAssertTrue(b.out.contains("memory33 state=offline"), b.out)
        // read
        let r = try cli.memhp(["read", "--snapshot", f, "/sys/devices/system/memory/memory34/state"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "offline\n")
        // export
        let dir = cli.tmp("export")
        defer { ModelFakeRoot.remove(dir) }
        let e = try cli.memhp(["export", dir, "--snapshot", f])
        XCTAssertEqual(e.status, 0, e.err)
        XCTAssertEqual(
            SnapshotBootTests.meminfo(try String(contentsOfFile: dir + "/proc/meminfo", encoding: .utf8))["MemTotal"],
            original["MemTotal"])
        // run: the steps on the host's machine; the scenario's header is not used.
        let scn = cli.tmp("steps.scn")
        defer { try? FileManager.default.removeItem(atPath: scn) }
        try "mem: 1G\n---\nonline 33 online_movable\noffline 33\noffline 32\ndump blocks:32-33\n".write(
            toFile: scn, atomically: true, encoding: .utf8)
        let run = try cli.memhp(["run", scn, "--snapshot", f])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.out.contains("memory33/state value=\"online_movable\" rc=0"), run.out)
        XCTAssertTrue(run.out.contains("memory32/state value=\"offline\""), run.out)
        XCTAssertTrue(run.out.contains("block idx=33"), run.out)
        // sandbox (root and /dev/fuse): a program sees the host's machine.
        if getuid() == 0, FileManager.default.fileExists(atPath: "/dev/fuse") {
            let s = try cli.memhp([
                "sandbox", "--snapshot", f, "--", "cat", "/sys/devices/system/memory/memory32/valid_zones"
            ])
            XCTAssertEqual(s.status, 0, s.err)
            XCTAssertEqual(s.out, "Movable\n")
        }
        // study: the offline blocks play the DIMM.
        let out = cli.tmp("study")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let st = try cli.memhp([
            "study", "hvo", "--snapshot", f, "--pool", "10", "--page-size", "2M", "--pressure", "none", "--online",
            "movable", "--reps", "1", "--validation", "none", "--plain", "-o", out
        ])
        XCTAssertEqual(st.status, 0, st.err)
        let csv = try String(contentsOfFile: out + "/runs.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3, csv)  // header + HVO off and on
    }

    func testBadSnapshotsAreRefusedByEveryCommand() throws {
        let (good, _) = try snapshotOfAModel()
        defer { try? FileManager.default.removeItem(atPath: good) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let (header, _) = try SnapshotFile.decode(Array(bytes), path: good)
        let censusless = try SnapshotFile.encode(header, census: nil)
        let cases: [(Data, String)] = [
            (bytes.dropLast(7), ":3: truncated"),
            (Data("#!/bin/sh\necho hi\n".utf8), ":1: not a memhp snapshot"),
            (Data("memhp-snapshot 2\n{}\n".utf8), ":1: snapshot format 2 is newer"),
            (Data("memhp-snapshot 1\n{\"format\":1}\n".utf8), ":2: the header is not valid"),
            (Data(censusless), ":2: no page census")
        ]
        let scn = cli.tmp("steps.scn")
        try "mem: 1G\n---\ndump blocks\n".write(toFile: scn, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: scn) }
        let dir = cli.tmp("dir")
        for (data, needle) in cases {
            let f = cli.tmp("bad.memhp")
            try data.write(to: URL(fileURLWithPath: f))
            defer { try? FileManager.default.removeItem(atPath: f) }
            let commands: [[String]] = [
                ["boot", "--snapshot", f], ["read", "--snapshot", f, "/proc/meminfo"], ["export", dir, "--snapshot", f],
                ["mount", dir, "--snapshot", f], ["sandbox", "--snapshot", f, "--", "true"],
                ["run", scn, "--snapshot", f],
                ["study", "hvo", "--snapshot", f, "--validation", "none", "-o", dir]
            ]
            for cmd in commands {
                let r = try cli.memhp(cmd)
                XCTAssertEqual(r.status, 2, "\(cmd[0]) \(needle): \(r.err)")
                XCTAssertTrue(r.err.contains(f + needle), "\(cmd[0]) \(needle): stderr was \(r.err)")
                XCTAssertFalse(r.err.contains("Fatal error"), r.err)
                XCTAssertTrue(r.out.isEmpty, r.out)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing was written for a refused snapshot")
        }
        // --assume without --snapshot, and a bad assumption.
        let a = try cli.memhp(["boot", "--assume", "ramfs=migrates"])
        XCTAssertEqual(a.status, 2)
        XCTAssertTrue(a.err.contains("only with --snapshot"), a.err)
        let b = try cli.memhp(["boot", "--snapshot", good, "--assume", "pinned=9-3"])
        XCTAssertEqual(b.status, 2)
        XCTAssertTrue(b.err.contains("pinned=START-END"), b.err)
    }
}
