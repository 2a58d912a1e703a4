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

    /// Campaign seed 54 (6.1.0-57, recorded with and without the runner's THP): a pool of 400
    /// on 1 GiB leaves the zones at their min watermark, the 256M DIMM's memmap cannot be
    /// allocated ("add_memory failed", yet `_OST` 0), and the guest's first settle after the
    /// host request is its first directory listing, which faults in the runner's heap and
    /// `blocks` pages: the OOM killer kills it there. The host runner's `hotplug` line stays;
    /// nothing after it runs.
    func testFirstSettleAfterAFailedHotAddIsKilled() throws {
        let sc = try Scenario.parse(
            """
            mem: 1G
            maxmem: 4G
            slots: 4
            dimm: dimm1 512M
            dimm: dimm2 512M
            ---
            step s1
            write $VM/nr_hugepages 400
            dimm-add hp1 256M
            dump hugepages
            step s2
            read $MEM/memory5/online
            """, file: "settle-oom.scn")
        let r = ModelRunner(scenario: sc).run()
        XCTAssertFalse(r.completed)
        let kinds = r.lines.compactMap { try? Observation.parse($0) }.map(\.kind).filter {
            $0 != "kmsg" && $0 != "dmesg"
        }
        XCTAssertEqual(Array(kinds.suffix(5)), ["write", "hotplug", "oom_kill", "scenario_exit", "end"])
        let hotplug = try XCTUnwrap(r.lines.first { $0.hasPrefix("hotplug ") })
        XCTAssertTrue(hotplug.contains(" addr=0x140000000 blocks=40-41 ost=0 ok=1"), hotplug)
        XCTAssertTrue(r.lines.contains { $0.contains("add_memory failed") })
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
