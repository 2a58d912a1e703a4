import XCTest

@testable import Scenario

/// The scenario compiled into the guest program, as memhp-guest.c reads it from /steps.
final class GuestProgramTests: XCTestCase {
    func testTranslation() throws {
        let sc = try Scenario.parse(
            """
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
        let p = GuestProgram(sc)
        XCTAssertEqual(p.modules.map(\.name), ["virtio_pci", "virtio_mem"])
        let cmds = p.commands.filter { !$0.hasPrefix("DYNDBG") }
        let state35 = GuestProgram.hex("/sys/devices/system/memory/memory35/state")
        XCTAssertEqual(
            cmds,
            [
                "STEP 1 \(GuestProgram.hex("one"))",
                "WRITE 0 0 60 \(state35) -",
                "WRITE 0 1 60 \(state35) \(GuestProgram.hex("online_movable"))",
                "WRITE 0 0 60 \(GuestProgram.hex("/sys/devices/system/memory/memory32/state")) \(GuestProgram.hex("online_kernel"))",
                "WRITE 1 0 45 \(GuestProgram.hex("/sys/devices/system/memory/memory33/state")) \(GuestProgram.hex("offline"))",
                "HOST 1 60 \(GuestProgram.hex("dimm-add d3 512M node=0"))",
                "HOST 2 120 \(GuestProgram.hex("vmem-resize vm0 256M 120"))",
                "HOLD 2 \(GuestProgram.hex("r")) 4194304 0",
                "RELEASE \(GuestProgram.hex("r"))",
                "FILL 0 50 \(GuestProgram.hex("fill"))",
                "DUMP blocks 32,33",
                "DUMP zones -",
                "SLEEP 1500"
            ])
        XCTAssertEqual(p.hostSteps.count, 2)
        XCTAssertEqual(p.steps.count, sc.steps.count, "one instruction list per scenario step")
        XCTAssertEqual(GuestProgram.hex(""), "-")
        XCTAssertEqual(GuestProgram.hex("a é"), "6120c3a9")
    }
}
