import XCTest
import Foundation
@testable import KernelRunner
@testable import Scenario

final class KernelRunnerTests: XCTestCase {
    /// memhp-guest.c compiles (warnings are errors) with the header rendered from
    /// ObservationSchema, as `guestBinary` builds it.
    func testGuestCompilesWithTheSchemaHeader() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc"), "no gcc (scripts/kernel-setup.sh installs it)")
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

    /// The C guest keeps no list of its own: every key, path and class it reads comes from the
    /// generated header, so a key added to the schema reaches both runners.
    func testGuestSourceHasNoListOfItsOwn() throws {
        let src = try GuestSource.load()
        // A list restated in C would show two of its items as neighbouring literals.
        let lists = [ObservationSchema.meminfoKeys, ObservationSchema.vmstatKeys, ObservationSchema.paramPaths,
                     ObservationSchema.bootLogKeys, ObservationSchema.PageClass.allCases.map(\.rawValue)]
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
        let m = try XCTUnwrap(QMPMessage(#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "ACPI_DEVICE_OST", "data": {"info": {"device": "dimm3", "source": 1, "status": 0, "slot": "2", "slot-type": "DIMM"}}}"#))
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
        try "# memhp observations v1\n# kernel: 6.1.0-56-amd64 linux-image-6.1.0-56-amd64 6.1.192-2\n".write(toFile: dir + "/a.kernel.txt", atomically: true, encoding: .utf8)
        try "# kernel: x y 6.1.176-1\n".write(toFile: dir + "/b.kernel.txt", atomically: true, encoding: .utf8)
        try "# kernel: x y 9\n".write(toFile: dir + "/c.scn", atomically: true, encoding: .utf8)
        XCTAssertEqual(KernelInstall.fixtureVersions(in: dir), ["6.1.192-2", "6.1.176-1"])
    }
}
