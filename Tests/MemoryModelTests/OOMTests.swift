import SystemPackage
import XCTest

@testable import MemoryModel

/// The OOM killer (mm/oom_kill.c): who it may select, and what happens to the allocating
/// task when it selects that task itself.
final class OOMTests: XCTestCase {
    func machine() throws -> Machine {
        try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 1 << 30, slots: 0, cmdline: ""))
    }

    /// Issue 11: `hold anon a1 2G` on a 1 GiB machine. The OOM killer's largest task is the
    /// allocating one; it dies (its memory freed, the page being faulted in included) and the
    /// allocation stops without a trap.
    func testAllocatingOwnerKilledByOOMStopsCleanly() throws {
        let m = try machine()
        let freeBefore = m.zones.reduce(0) { $0 + $1.freePages }
        let a1 = try m.createOwner(name: "a1", kind: .anon)
        let got = m.allocate(owner: a1, blocks: (2 << 30) >> 12)
        XCTAssertLessThan(got, (1 << 30) >> 12, "cannot get more than the machine has")
        XCTAssertNil(m.owners[a1], "the allocating task was the OOM victim")
        XCTAssertNil(m.ownerID(named: "a1"))
        XCTAssertGreaterThanOrEqual(m.vmstat.oomKill, 1)
        XCTAssertTrue(m.explain.entries.contains { $0.message.hasPrefix("killed a1 holding") })
        XCTAssertNotNil(m.ownerID(named: "init:anon"), "init survives")
        m.drainAllPCP()
        // Everything a1 held (and the page in flight) is back: free memory within what
        // reclaim took from page cache and slab on the way.
        XCTAssertGreaterThanOrEqual(m.zones.reduce(0) { $0 + $1.freePages }, freeBefore)
        try m.verify()
    }

    /// Issue 15 item 10: `oom_unkillable_task` never lets init be selected. A kernel
    /// allocation that exhausts memory with only init's anonymous memory left to kill fails
    /// instead.
    func testOOMNeverSelectsInit() throws {
        let m = try machine()
        let initID = try XCTUnwrap(m.ownerID(named: "init:anon"))
        let initPages = try XCTUnwrap(m.owners[initID]).pages
        XCTAssertGreaterThan(initPages, 0)
        XCTAssertTrue(try XCTUnwrap(m.owners[initID]).oomUnkillable)
        let k = try m.createOwner(name: "k", kind: .slabUnreclaimable)
        let got = m.allocate(owner: k, blocks: (2 << 30) >> 12)
        XCTAssertLessThan(got, (1 << 30) >> 12)
        XCTAssertEqual(m.owners[initID]?.pages, initPages, "init keeps its memory")
        XCTAssertFalse(m.explain.entries.contains { $0.message.contains("killed init") })
        XCTAssertEqual(m.vmstat.oomKill, 0, "nothing but init was eligible")
        try m.verify()
    }

    /// A process the model does not track (the scenario runner's guest program) is the victim
    /// when no tracked owner qualifies: counted and logged once, and the allocation still
    /// fails (its pages are not in the model to be freed).
    func testUntrackedProcessIsTheLastVictim() throws {
        let m = try machine()
        m.untrackedOOMVictim = "memhp-guest"
        let k = try m.createOwner(name: "k", kind: .slabUnreclaimable)
        let got = m.allocate(owner: k, blocks: (2 << 30) >> 12)
        XCTAssertLessThan(got, (1 << 30) >> 12)
        XCTAssertEqual(m.vmstat.oomKill, 1, "killed once: a dead process is no victim")
        XCTAssertNil(m.untrackedOOMVictim)
        XCTAssertTrue(m.kmsg.contains("Out of memory: Killed process (memhp-guest)"))
        XCTAssertNotNil(m.ownerID(named: "init:anon"), "init survives")
        try m.verify()
    }
}
