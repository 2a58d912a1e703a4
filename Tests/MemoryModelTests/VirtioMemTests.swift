import SystemPackage
import XCTest

@testable import MemoryModel

/// virtio-mem in subblock mode: plugging adds and onlines whole blocks, unplugging goes through
/// alloc_contig_range from the top block down, busy memory makes the driver retry on its timer.
/// The numbers are capture v (tests/conformance/v-virtio-mem.kernel.txt): 1 GiB guest, a 2 GiB
/// device at 4 GiB, memhp_default_state=online_movable.
final class VirtioMemTests: XCTestCase {
    static let mib = 1 << 20

    func machine(cmdline: String = "memhp_default_state=online_movable", requested: Int = 0) throws -> Machine {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                virtioMem: [VirtioMemConfig(id: "vm0", regionBytes: 2 << 30, requestedBytes: requested)],
                cmdline: cmdline))
        try m.verify()
        return m
    }

    func memTotalKB(_ m: Machine) -> Int { m.totalManagedPages * 4 }
    func blockIDs(_ m: Machine) -> [Int] { m.blocks.keys.sorted() }
    func device(_ m: Machine) -> VirtioMemDevice { m.drivers.virtioMem["vm0"]! }

    func resize(_ m: Machine, _ bytes: Int, timeout: UInt64 = 120) throws -> Bool {
        let t0 = m.clock
        try m.virtioMemSetRequestedSize(id: "vm0", bytes: bytes)
        let done = m.virtioMemWait(id: "vm0", until: t0 + timeout * 1_000_000_000)
        try m.verify()
        return done
    }

    func testProbeLogsTheDeviceAndPlugsNothing() throws {
        let m = try machine()
        XCTAssertEqual(device(m).startBytes, 1 << 32)
        XCTAssertEqual(device(m).subblockBytes, 2 * Self.mib)
        XCTAssertEqual(device(m).pluggedBytes, 0)
        XCTAssertTrue(m.kmsg.contains("virtio_mem virtio0: start address: 0x100000000"))
        XCTAssertTrue(m.kmsg.contains("virtio_mem virtio0: subblock size: 0x200000"))
        XCTAssertEqual(memTotalKB(m), 917440)
        XCTAssertEqual(blockIDs(m), Array(0...7))
    }

    /// Capture v, step by step: MemTotal, blocks and zones after each resize.
    func testPlugUnplugPlugAsInCaptureV() throws {
        let m = try machine()
        let movable = m.zoneIndex(node: 0, type: .movable)

        XCTAssertTrue(try resize(m, 512 * Self.mib))
        XCTAssertEqual(device(m).pluggedBytes, 512 * Self.mib)
        XCTAssertEqual(blockIDs(m), Array(0...7) + Array(32...35))
        for b in 32...35 { XCTAssertEqual(m.blocks[b]?.state, .online); XCTAssertEqual(m.blocks[b]?.zone, .movable) }
        XCTAssertEqual(memTotalKB(m), 1441728)
        XCTAssertEqual(m.zones[movable].managedPages, 131072)
        XCTAssertEqual(m.zones[movable].startPFN, 1048576)
        XCTAssertTrue(m.kmsg.contains("<7>virtio_mem virtio0: adding memory: 0x118000000 - 0x11fffffff"))

        XCTAssertTrue(try resize(m, 256 * Self.mib))
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32, 33])
        XCTAssertEqual(memTotalKB(m), 1179584)
        XCTAssertEqual(m.zones[movable].spannedPages, 65536)
        XCTAssertTrue(
            m.kmsg.contains("<7>virtio_mem virtio0: offlining and removing memory: 0x110000000 - 0x117ffffff"))

        XCTAssertTrue(try resize(m, 0))
        XCTAssertEqual(blockIDs(m), Array(0...7))
        XCTAssertEqual(memTotalKB(m), 917440)
        XCTAssertEqual(m.zones[movable].presentPages, 0)
        XCTAssertEqual(device(m).pluggedBytes, 0)

        XCTAssertTrue(try resize(m, 1 << 30))
        XCTAssertEqual(blockIDs(m), Array(0...7) + Array(32...39))
        XCTAssertEqual(memTotalKB(m), 1966016)
        XCTAssertEqual(m.zones[movable].managedPages, 262144)
        XCTAssertEqual(device(m).retryAt, nil)
    }

    /// A request that is not a whole number of blocks: the last block is partly plugged, its
    /// unplugged subblocks are present but not managed; unplugging empties that block first.
    func testPartialBlocksAreFakeOfflined() throws {
        let m = try machine()
        let movable = m.zoneIndex(node: 0, type: .movable)
        XCTAssertTrue(try resize(m, 130 * Self.mib))
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32, 33])
        XCTAssertEqual(m.zones[movable].presentPages, 65536)
        XCTAssertEqual(m.zones[movable].managedPages, 32768 + 512)
        XCTAssertEqual(memTotalKB(m), 917440 + 130 * 1024)
        XCTAssertEqual(m.virtioMemBlockState("vm0", block: 33), .movablePartial)

        // Plugging more fills the partial block before adding another.
        XCTAssertTrue(try resize(m, 200 * Self.mib))
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32, 33])
        XCTAssertEqual(m.zones[movable].managedPages, 200 * 256)

        XCTAssertTrue(try resize(m, 128 * Self.mib))
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32])
        XCTAssertEqual(memTotalKB(m), 917440 + 128 * 1024)

        // Unplug part of a full block: subblocks from its top; it stays online.
        XCTAssertTrue(try resize(m, 64 * Self.mib))
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32])
        XCTAssertEqual(m.zones[movable].managedPages, 64 * 256)
        XCTAssertEqual(m.memmap.kind(m.blocks[32]!.range.end - 1), .reserved)
        XCTAssertTrue(try resize(m, 0))
        XCTAssertEqual(blockIDs(m), Array(0...7))
    }

    /// Unmovable memory in the top block: the whole-block attempt is EBUSY, the other subblocks
    /// go, the driver retries after 50 s, then 100 s; once the memory is freed a retry completes.
    func testBusyUnplugRetriesOnTheTimerUntilTheMemoryIsFreed() throws {
        let m = try machine()
        XCTAssertTrue(try resize(m, 256 * Self.mib))
        let top = m.blocks[33]!.range
        let busy = PFNRange(start: top.end - 512, count: 512)
        try m.allocContigRange(busy, kind: .kernel)
        try m.verify()

        let t0 = m.clock
        XCTAssertFalse(try resize(m, 0, timeout: 60))
        XCTAssertEqual(m.clock, t0 + 60_000_000_000)
        XCTAssertEqual(device(m).pluggedBytes, 2 * Self.mib)
        XCTAssertEqual(blockIDs(m), Array(0...7) + [33])
        XCTAssertEqual(m.virtioMemBlockState("vm0", block: 33), .movablePartial)
        // First try at t0, the retry at t0 + 50 s failed too: the next is 100 s later.
        XCTAssertEqual(device(m).retryTimerMs, 100_000)
        XCTAssertEqual(device(m).retryAt, t0 + 150_000_000_000)
        XCTAssertEqual(memTotalKB(m), 917440 + 2048)

        m.freeContigRange(busy)
        try m.verify()
        XCTAssertTrue(m.virtioMemWait(id: "vm0", until: m.clock + 120_000_000_000))
        XCTAssertEqual(m.clock, t0 + 150_000_000_000)
        XCTAssertEqual(blockIDs(m), Array(0...7))
        XCTAssertEqual(memTotalKB(m), 917440)
        XCTAssertEqual(device(m).retryTimerMs, VirtioMemDevice.retryMinMs)
        try m.verify()
    }

    /// memhp_default_state=offline: blocks stay offline; unplugging removes them without
    /// alloc_contig_range, and onlining a partly plugged block keeps its holes out of the buddy.
    func testOfflineBlocksAndLaterOnlining() throws {
        let m = try machine(cmdline: "")
        XCTAssertTrue(try resize(m, 132 * Self.mib))
        XCTAssertEqual(m.blocks[33]?.state, .offline)
        XCTAssertEqual(memTotalKB(m), 917440)
        try m.storeState(block: 33, .onlineMovable)
        try m.verify()
        XCTAssertEqual(memTotalKB(m), 917440 + 4 * 1024)
        XCTAssertTrue(try resize(m, 0))
        XCTAssertEqual(blockIDs(m), Array(0...7))
        XCTAssertEqual(memTotalKB(m), 917440)
    }

    /// Blocks left offline count against the 1 GiB offline threshold: adding stops (ENOSPC, no
    /// timer); onlining half of them lets the driver add more.
    func testOfflineThresholdStopsAddingUntilBlocksAreOnlined() throws {
        let m = try machine(cmdline: "")
        XCTAssertFalse(try resize(m, 2 << 30, timeout: 30))
        XCTAssertEqual(device(m).pluggedBytes, 1 << 30)
        XCTAssertEqual(device(m).lastResult, -Int(Errno.noSpace.rawValue))
        XCTAssertNil(device(m).retryAt)
        for b in 32...35 { try m.storeState(block: b, .onlineMovable) }
        try m.verify()
        XCTAssertTrue(device(m).kicked)
        XCTAssertFalse(m.virtioMemWait(id: "vm0", until: m.clock + 1_000_000_000))
        XCTAssertEqual(device(m).pluggedBytes, (1 << 30) + (512 << 20))
        XCTAssertEqual(blockIDs(m).count, 8 + 12)
        try m.verify()
    }

    /// Offlining a partly plugged block by hand succeeds in 6.1: isolation passes over the
    /// fake-offline (PageOffline) pages, the driver drops them in MEM_GOING_OFFLINE and counts
    /// them as managed again, offline_pages subtracts the whole block. Onlining it again keeps
    /// the unplugged subblocks out of the buddy. A later notifier's veto (MEM_CANCEL_OFFLINE)
    /// leaves the counts as they were.
    func testManualOfflineOfAPartlyPluggedBlock() throws {
        let m = try machine()
        let movable = m.zoneIndex(node: 0, type: .movable)
        XCTAssertTrue(try resize(m, 132 * Self.mib))  // block 32 full, block 33: 2 of 64 subblocks
        XCTAssertEqual(m.virtioMemBlockState("vm0", block: 33), .movablePartial)
        XCTAssertEqual(m.zones[movable].managedPages, 32768 + 1024)
        XCTAssertEqual(m.zones[movable].presentPages, 65536)
        let b33 = m.blocks[33]!.range
        XCTAssertEqual(m.kpageflags(b33.start + 1024), 1 << 23)  // KPF_OFFLINE: fake-offline subblock

        try m.storeState(block: 33, .offline)
        try m.verify()
        XCTAssertEqual(m.blocks[33]?.state, .offline)
        XCTAssertEqual(m.virtioMemBlockState("vm0", block: 33), .offlinePartial)
        XCTAssertEqual(m.zones[movable].managedPages, 32768)
        XCTAssertEqual(m.zones[movable].presentPages, 32768)
        XCTAssertEqual(memTotalKB(m), 917440 + 128 * 1024)
        XCTAssertEqual(device(m).pluggedBytes, 132 * Self.mib)  // nothing was unplugged
        XCTAssertTrue(m.drivers.virtioMemGoingOffline.isEmpty)

        // Online again: only the two plugged subblocks reach the buddy.
        try m.storeState(block: 33, .onlineMovable)
        try m.verify()
        XCTAssertEqual(m.virtioMemBlockState("vm0", block: 33), .movablePartial)
        XCTAssertEqual(m.zones[movable].managedPages, 32768 + 1024)
        XCTAssertEqual(m.kpageflags(b33.start + 1024), 1 << 23)

        let managed = m.zones[movable].managedPages
        // MEM_GOING_OFFLINE vetoed after the driver ran: MEM_CANCEL_OFFLINE takes the count back.
        m.registerMemoryNotifier(name: "veto") { _, n in n.event == .goingOffline ? -16 : 0 }
        XCTAssertThrowsError(try m.storeState(block: 33, .offline)) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .resourceBusy)
        }
        m.unregisterMemoryNotifier(name: "veto")
        XCTAssertEqual(m.zones[movable].managedPages, managed)
        XCTAssertTrue(m.drivers.virtioMemGoingOffline.isEmpty)
        try m.verify()

        // The driver unplugs the rest of the offline-partial block and removes it.
        try m.storeState(block: 33, .offline)
        XCTAssertTrue(try resize(m, 128 * Self.mib))
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32])
        XCTAssertEqual(memTotalKB(m), 917440 + 128 * 1024)
        try m.verify()
    }

    func testRequestedSizeAtBootIsPluggedByProbe() throws {
        let m = try machine(requested: 256 * Self.mib)
        XCTAssertEqual(device(m).pluggedBytes, 256 * Self.mib)
        XCTAssertEqual(blockIDs(m), Array(0...7) + [32, 33])
        XCTAssertThrowsError(try m.virtioMemSetRequestedSize(id: "vm0", bytes: 3 << 30))
        XCTAssertThrowsError(try m.virtioMemSetRequestedSize(id: "vm0", bytes: 1 << 20))
    }
}
