import Foundation
import XCTest

@testable import KernelRunner
@testable import Scenario

final class KernelRunnerTests: XCTestCase {
    /// memhp-guest.c compiles (warnings are errors) with the header rendered from
    /// ObservationSchema, as `guestBinary` builds it.
    func testGuestCompilesWithTheSchemaHeader() throws {
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc"), "no gcc (scripts/kernel-setup.sh installs it)"
        )
        let dir = NSTemporaryDirectory() + "memhp-guest-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GuestSource.load().write(toFile: dir + "/memhp-guest.c", atomically: true, encoding: .utf8)
        try GuestHeader.render().write(toFile: dir + "/" + GuestHeader.fileName, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        p.arguments = ["-fsyntax-only", "-Wall", "-Werror", "-Wno-format-truncation", dir + "/memhp-guest.c"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
    }

    /// The C guest, built natively, runs a read-only program on this host (no dump that
    /// writes vm.stat_refresh) and every line it prints fits ObservationSchema: the params in
    /// the schema's order, the pageflags classes by the schema's names.
    func testGuestLinesFitTheSchema() throws {
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc"), "no gcc (scripts/kernel-setup.sh installs it)"
        )
        let dir = NSTemporaryDirectory() + "memhp-guest-run-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GuestSource.load().write(toFile: dir + "/memhp-guest.c", atomically: true, encoding: .utf8)
        try GuestHeader.render().write(toFile: dir + "/" + GuestHeader.fileName, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run("/usr/bin/gcc", ["-O0", "-w", "-o", dir + "/guest", dir + "/memhp-guest.c"]).status, 0)
        let program: [GuestInstruction] = [
            .step(n: 1, label: "read-only"), .read(path: "/sys/devices/system/memory/block_size_bytes"),
            .dump(.params), .dump(.blocks([0, 1])), .dump(.pageflags([0])), .dump(.layout), .dump(.buddyinfo)
        ]
        try (program.map(\.encoded).joined(separator: "\n") + "\n").write(
            toFile: dir + "/steps", atomically: true, encoding: .utf8)
        // The "control port": a plain file here.
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/out", contents: nil))
        XCTAssertEqual(try run(dir + "/guest", [dir + "/steps", dir + "/out"]).status, 0)
        let lines = try String(contentsOfFile: dir + "/out", encoding: .utf8).split(separator: "\n").map(String.init)
        var observations: [Observation] = []
        for l in lines where !l.hasPrefix("@") {
            guard let o = try Observation.parse(l) else { continue }
            if let v = ObservationSchema.violation(o) { XCTFail("\(v): \(l)") }
            observations.append(o)
        }
        XCTAssertEqual(
            observations.filter { $0.kind == "param" }.compactMap { $0["path"] }, ObservationSchema.paramPaths)
        let pf = try XCTUnwrap(observations.first { $0.kind == "pageflags" })
        if pf["errno"] == nil && pf["state"] == nil {
            XCTAssertEqual(
                pf.fields.map(\.key), ["block", "pages"] + ObservationSchema.PageClass.allCases.map(\.rawValue))
        }
        XCTAssertEqual(observations.last?.line, "scenario_exit rc=0")
    }

    func run(_ exe: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, out)
    }

    /// The C guest keeps no list of its own: every key, path and class it reads comes from the
    /// generated header, so a key added to the schema reaches both runners.
    func testGuestSourceHasNoListOfItsOwn() throws {
        let src = try GuestSource.load()
        // A list restated in C would show two of its items as neighbouring literals.
        let lists = [
            ObservationSchema.meminfoKeys, ObservationSchema.vmstatKeys, ObservationSchema.paramPaths,
            ObservationSchema.bootLogKeys, ObservationSchema.PageClass.allCases.map(\.rawValue)
        ]
        for list in lists {
            for (a, b) in zip(list, list.dropFirst()) {
                XCTAssertFalse(src.contains("\"\(a)\", \"\(b)\""), "memhp-guest.c lists \(a), \(b) itself")
            }
        }
        XCTAssertFalse(src.contains("nopage=%ld"), "memhp-guest.c spells the pageflags classes itself")
        let h = GuestHeader.render()
        XCTAssertTrue(h.contains("#define MEMHP_MEMINFO_KEYS \"MemTotal\", \"MemFree\", "), h)
        XCTAssertTrue(h.contains("PC_huge_heads, PC_thp, PC_other, PC_COUNT"), h)
        XCTAssertEqual(GuestHeader.cString("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\001\"")
    }

    func testQMPEventData() throws {
        let m = try XCTUnwrap(
            QMPMessage(
                #"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm3", "source": 1, "status": 0, "slot": "2", "slot-type": "DIMM"}}}"#
            ))
        XCTAssertEqual(m.event, "ACPI_DEVICE_OST")
        XCTAssertEqual(m.compactData, "{'info':{'device':'dimm3','source':1,'status':0,'slot':'2','slot-type':'DIMM'}}")
        XCTAssertEqual(KernelRunner.ostStatus(m, device: "dimm3"), 0)
        XCTAssertNil(KernelRunner.ostStatus(m, device: "dimm1"))
    }
}

final class KernelSetupTests: XCTestCase {
    func testDebianVersionOrder() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg"))
        XCTAssertTrue(KernelInstall.debVersionLess("6.1.176-1", "6.1.192-2"))
        XCTAssertTrue(KernelInstall.debVersionLess("6.1.192-2", "6.1.192-10"))
        XCTAssertFalse(KernelInstall.debVersionLess("6.1.192-2", "6.1.192-2"))
    }

    func testFixtureVersions() throws {
        let dir = NSTemporaryDirectory() + "/memhp-fixtures-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "# memhp observations v1\n# kernel: 6.1.0-56-amd64 linux-image-6.1.0-56-amd64 6.1.192-2\n".write(
            toFile: dir + "/a.kernel.txt", atomically: true, encoding: .utf8)
        try "# kernel: x y 6.1.176-1\n".write(toFile: dir + "/b.kernel.txt", atomically: true, encoding: .utf8)
        try "# kernel: x y 9\n".write(toFile: dir + "/c.scn", atomically: true, encoding: .utf8)
        XCTAssertEqual(KernelInstall.fixtureVersions(in: dir), ["6.1.192-2", "6.1.176-1"])
    }

    /// The kernel side reads the victim from the console (6.1's oom_kill_process message,
    /// as seed 117's run printed it); another process's kill is not the guest's.
    func testKernelConsoleNamesTheGuest() {
        let console = """
            [   12.194291] Out of memory: Killed process 87 (memhp-guest) total-vm:71592kB, anon-rss:2244kB, file-rss:4kB, shmem-rss:752kB, UID:0 pgtables:52kB oom_score_adj:0\r
            [   12.365378] Out of memory: Killed process 88 (init) total-vm:2260kB, anon-rss:60kB, file-rss:0kB, shmem-rss:20kB, UID:0 pgtables:28kB oom_score_adj:0\r
            [   12.401170] Kernel panic - not syncing: System is deadlocked on memory\r
            """
        XCTAssertTrue(KernelRunner.oomKilled(GuestProgram.processName, console: console))
        let initOnly = console.split(whereSeparator: \.isNewline).filter { !$0.contains("memhp-guest") }
        XCTAssertEqual(initOnly.count, 2)
        XCTAssertFalse(KernelRunner.oomKilled(GuestProgram.processName, console: initOnly.joined(separator: "\n")))
        XCTAssertFalse(KernelRunner.oomKilled(GuestProgram.processName, console: ""))
    }
}
