import XCTest
import Foundation
@testable import KernelRunner
@testable import Scenario

final class GuestPlanTests: XCTestCase {
    func testTranslation() throws {
        let sc = try Scenario.parse("""
        virtio-mem: vm0 size=1G
        ---
        step one
        write $MEM/memory35/state ""
        write-raw $MEM/memory35/state online_movable
        online 32 online_kernel
        offline 33 45
        dimm-add d3 512M
        vmem-resize vm0 256M
        hold ramfs r 4M node=0
        release r
        fill-kernel 0 50
        dump blocks:32-33 zones
        sleep 1.5
        """, file: "t.scn")
        let p = GuestPlan(sc)
        XCTAssertEqual(p.modules.map(\.name), ["virtio_pci", "virtio_mem"])
        let cmds = p.commands.filter { !$0.hasPrefix("DYNDBG") }
        let state35 = GuestPlan.hex("/sys/devices/system/memory/memory35/state")
        XCTAssertEqual(cmds, [
            "STEP 1 \(GuestPlan.hex("one"))",
            "WRITE 0 0 60 \(state35) -",
            "WRITE 0 1 60 \(state35) \(GuestPlan.hex("online_movable"))",
            "WRITE 0 0 60 \(GuestPlan.hex("/sys/devices/system/memory/memory32/state")) \(GuestPlan.hex("online_kernel"))",
            "WRITE 1 0 45 \(GuestPlan.hex("/sys/devices/system/memory/memory33/state")) \(GuestPlan.hex("offline"))",
            "HOST 1 60 \(GuestPlan.hex("dimm-add d3 512M node=0"))",
            "HOST 2 120 \(GuestPlan.hex("vmem-resize vm0 256M 120"))",
            "HOLD 2 \(GuestPlan.hex("r")) 4194304 0",
            "RELEASE \(GuestPlan.hex("r"))",
            "FILL 0 50 \(GuestPlan.hex("fill"))",
            "DUMP blocks 32,33",
            "DUMP zones -",
            "SLEEP 1500",
        ])
        XCTAssertEqual(p.hostSteps.count, 2)
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
