import XCTest

@testable import Scenario

/// Every hold lives in the guest program's address space, so when the kernel's OOM killer
/// fires during a scenario it kills memhp-guest (campaign seeds 117 and 122: a 64 MiB anon
/// hold after a pool of 600 huge pages on 1 GiB; the console shows "Out of memory: Killed
/// process 87 (memhp-guest)" and the log ends). Both runners end the log the same way.
final class GuestOOMKillTests: XCTestCase {
    func testModelRunEndsWhereTheGuestIsKilled() throws {
        let sc = try Scenario.parse(
            """
            mem: 1G
            maxmem: 4G
            slots: 2
            ---
            step pool
            write $VM/nr_hugepages 600
            step hold
            read $MEM/block_size_bytes
            hold anon h1 64M
            read $MEM/memory0/state
            step after
            read $MEM/memory1/state
            """, file: "oom.scn")
        let r = ModelRunner(scenario: sc).run()
        XCTAssertFalse(r.completed)
        let kinds = r.lines.compactMap { try? Observation.parse($0) }.map(\.kind).filter {
            $0 != "kmsg" && $0 != "dmesg"
        }
        // The read before the hold printed; the hold and everything after it did not.
        XCTAssertEqual(Array(kinds.suffix(5)), ["step", "read", "oom_kill", "scenario_exit", "end"])
        XCTAssertEqual(kinds.filter { $0 == "step" }.count, 2, "the third step never ran")
        XCTAssertFalse(kinds.contains("hold"))
        XCTAssertTrue(r.lines.contains("oom_kill process=memhp-guest"))
        XCTAssertTrue(r.lines.contains("scenario_exit rc=-1"))
        XCTAssertTrue(r.lines.last?.hasPrefix("end completed=0 reason=oom-kill") == true, r.lines.last ?? "")
    }

    /// A scenario whose holds fit never sees the OOM killer and completes as before.
    func testModelRunWithoutOOMCompletes() throws {
        let sc = try Scenario.parse(
            """
            mem: 1G
            maxmem: 4G
            slots: 2
            ---
            step hold
            hold anon h1 64M
            """, file: "fits.scn")
        let r = ModelRunner(scenario: sc).run()
        XCTAssertTrue(r.completed)
        XCTAssertFalse(r.lines.contains { $0.hasPrefix("oom_kill") })
    }
}
