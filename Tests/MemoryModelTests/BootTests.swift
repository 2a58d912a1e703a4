import XCTest
@testable import MemoryModel

/// The booted machine against the real 6.1 captures (../shared/reference/linux-6.1-captures).
final class BootTests: XCTestCase {
    /// a-baseline.txt, step 1: `-m 1G,slots=4,maxmem=4G`, no command line.
    func testBaselineZonesMatchCapture() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        try m.verify()
        let dma = m.zone(node: 0, type: .dma), dma32 = m.zone(node: 0, type: .dma32)
        XCTAssertEqual([dma.startPFN, dma.spannedPages, dma.presentPages], [1, 4095, 3998])
        XCTAssertEqual([dma32.startPFN, dma32.spannedPages, dma32.presentPages], [4096, 258016, 258016])
        XCTAssertEqual(Double(dma.managedPages), 3840, accuracy: 38.4)
        XCTAssertEqual(Double(dma32.managedPages), 225520, accuracy: 2255)
        XCTAssertEqual(m.zone(node: 0, type: .normal).spannedPages, 0)
        XCTAssertEqual(m.zone(node: 0, type: .movable).spannedPages, 0)
        // min_free_kbytes=45056 (THP's recommendation), DMA32 min 11073, protection 880.
        XCTAssertEqual(m.minFreeKbytes, 45056)
        XCTAssertEqual(Double(dma32.watermark.min), 11073, accuracy: 111)
        // The protection is computed at boot, before the init sections are freed; the capture
        // read /proc/sys/vm/lowmem_reserve_ratio first, and 6.1's handler recomputes it even
        // on a read — with the final managed counts.
        XCTAssertEqual(dma.lowmemReserve, [0, 872, 872, 872, 872])
        m.setupPerZoneLowmemReserve()
        XCTAssertEqual(m.zone(node: 0, type: .dma).lowmemReserve, [0, 880, 880, 880, 880])
        // DMA32 free=216288 with pcp=2428 at the first look: within 1%.
        XCTAssertEqual(Double(dma32.freePages + dma32.pcp.count), 216288 + 2428, accuracy: 2187)
        XCTAssertEqual(m.blocks.count, 8)
        XCTAssertNil(m.blocks[0]!.zone, "memory0 spans DMA and DMA32: valid_zones none")
        XCTAssertEqual((1...7).map { m.blocks[$0]!.zone }, Array(repeating: ZoneType.dma32, count: 7))
    }

    /// c-movablecore.txt: `movablecore=256M` carves ZONE_MOVABLE out of DMA32.
    func testMovablecoreZonesMatchCapture() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, cmdline: "movablecore=256M"))
        try m.verify()
        let dma32 = m.zone(node: 0, type: .dma32), movable = m.zone(node: 0, type: .movable)
        XCTAssertEqual([dma32.startPFN, dma32.spannedPages, dma32.presentPages], [4096, 192512, 192512])
        XCTAssertEqual([movable.startPFN, movable.spannedPages, movable.presentPages], [196608, 65504, 65504])
        XCTAssertEqual(Double(dma32.managedPages), 181194, accuracy: 1812)
        XCTAssertEqual(Double(movable.managedPages), 44326, accuracy: 443)
        XCTAssertEqual(m.minFreeKbytes, 36396, accuracy: 364)
        XCTAssertEqual(m.blocks[6]!.zone, .movable)
        XCTAssertEqual(m.blocks[5]!.zone, .dma32)
    }

    func testSameSeedSameMachine() throws {
        let config = MachineConfig(memBytes: 2 << 30, maxmemBytes: 8 << 30, slots: 4, seed: 7)
        let a = try Machine.boot(config), b = try Machine.boot(config)
        for z in a.zones.indices {
            XCTAssertEqual(a.zones[z].freePages, b.zones[z].freePages)
            XCTAssertEqual(a.zones[z].freeArea.map(\.pfns), b.zones[z].freeArea.map(\.pfns))
        }
    }

    func testRefusedConfigurationsThrowWithAMessage() {
        for bad in [MachineConfig(memBytes: 0), MachineConfig(memBytes: 1 << 30, maxmemBytes: 512 << 20, slots: 2),
                    MachineConfig(memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 1, dimms: [DIMMConfig(id: "d", sizeBytes: 2 << 30)])] {
            XCTAssertThrowsError(try Machine.boot(bad)) { error in
                XCTAssertFalse((error as? MachineConfigError)?.message.isEmpty ?? true, "\(error)")
            }
        }
    }
}
