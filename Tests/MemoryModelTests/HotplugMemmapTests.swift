import XCTest

@testable import MemoryModel

/// Where the memmap of hot-added memory comes from (sparse-vmemmap): each 128 MiB section's
/// 32768 `struct page`s × 64 bytes = 2 MiB = 512 pages = one PMD, populated by
/// `vmemmap_populate_hugepages` as ONE order-9 block from `alloc_pages_node(nid,
/// GFP_KERNEL|__GFP_RETRY_MAYFAIL|__GFP_NOWARN, 9)`: unmovable, from the node's kernel zones,
/// through the pcp THP list (refilled two blocks at a time); and what removal gives back.
final class HotplugMemmapTests: XCTestCase {
    let blockBytes = 128 << 20
    let base = 4 << 30  // the captures' QEMU puts DIMMs above 4 GiB
    let order9 = Geometry.pageblockOrder

    func machine() throws -> Machine {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        m.setAutoOnlineBlocks(.offline)
        return m
    }

    /// Pages on the unmovable/reclaimable pcp list of pageblock order.
    func thpList(_ m: Machine, _ z: Int) -> Int {
        m.zones[z].fast.pcpCount(PerCPUPages.index(order: 9, migrateType: .unmovable)!) << 9
    }

    func memmapPages(_ m: Machine) -> Int {
        m.zones.reduce(0) { $0 + $1.kindPages[Int(PageKind.memmap.rawValue)] }
    }

    func testAddTakesOneOrder9BlockPerSectionThroughThePCPTHPList() throws {
        let m = try machine()
        let z = m.zoneIndex(node: 0, type: .dma32)
        XCTAssertEqual(thpList(m, z), 0)
        let free0 = m.zones[z].freePages, pcp0 = m.zones[z].pcp.count
        let order0PCP = m.zones[z].pcp.count - thpList(m, z)

        // First section: the THP list is empty, so rmqueue_pcplist refills max(batch >> 9, 2)
        // = 2 order-9 blocks from the buddy lists and hands out one.
        try m.addMemory(node: 0, startBytes: base, sizeBytes: blockBytes)
        XCTAssertEqual(memmapPages(m), 512)
        XCTAssertEqual(m.zones[z].kindPages[Int(PageKind.memmap.rawValue)], 512)
        XCTAssertEqual(m.zones[z].freePages, free0 - 1024)
        XCTAssertEqual(m.zones[z].pcp.count, pcp0 + 512)
        XCTAssertEqual(m.zones[z].pcp.count - thpList(m, z), order0PCP, "order-0 pcp lists untouched")
        let s32 = try XCTUnwrap(m.sectionMemmapOf(32))
        XCTAssertFalse(s32.bootmem)
        XCTAssertEqual(s32.start % 512, 0)
        XCTAssertEqual(m.memmap.kind(s32.start), .memmap)
        XCTAssertEqual(m.memmap.order(s32.start), order9)
        XCTAssertEqual(m.memmap.owner(s32.start), 0)
        XCTAssertEqual(m.pageblockMigrateType(s32.start), .unmovable)
        XCTAssertEqual(m.zoneIndex(ofPFN: s32.start), z)
        try m.verify()

        // Second section: the other block waiting on the THP list; the buddy is not touched.
        try m.addMemory(node: 0, startBytes: base + blockBytes, sizeBytes: blockBytes)
        XCTAssertEqual(memmapPages(m), 1024)
        XCTAssertEqual(m.zones[z].freePages, free0 - 1024)
        XCTAssertEqual(m.zones[z].pcp.count, pcp0)
        let s33 = try XCTUnwrap(m.sectionMemmapOf(33))
        XCTAssertNotEqual(s33.start, s32.start)
        try m.verify()

        // Removal: vmemmap_free gives each block back whole (free_hugepage_table), to the
        // pcp THP list (pcp high is far above); free + pcp is what it was before the adds.
        try m.removeMemory(startBytes: base, sizeBytes: 2 * blockBytes)
        XCTAssertEqual(memmapPages(m), 0)
        XCTAssertNil(m.sectionMemmapOf(32))
        XCTAssertNil(m.sectionMemmapOf(33))
        XCTAssertEqual(m.zones[z].freePages + m.zones[z].pcp.count, free0 + pcp0)
        XCTAssertEqual(thpList(m, z), 1024)
        try m.verify()
    }

    /// 6.1's two THP pcp lists (NR_PCP_THP 2, `order_to_pindex`: NR_LOWORDER_PCP_LISTS +
    /// movable): the block a memmap refill leaves on the unmovable list waits there while a
    /// pool grows; a huge page (GFP_HIGHUSER_MOVABLE) refills the movable list from the buddy.
    /// Campaign seed 171 on 6.1.0-57 (mm_page_alloc order 9, trace in tests/campaign's cause):
    /// hp1's memmap took 0x100200 and left 0x100400 on the pcp; the grow that followed began at
    /// 0x120000, never 0x100400.
    func testMemmapRefillBlockIsNotTakenByAMovableHugePage() throws {
        let m = try machine()
        m.hugetlbInit()
        let z = m.zoneIndex(node: 0, type: .dma32)
        let unmovableTHP = PerCPUPages.index(order: 9, migrateType: .unmovable)!
        let movableTHP = PerCPUPages.index(order: 9, migrateType: .movable)!
        XCTAssertEqual(unmovableTHP, 12)
        XCTAssertEqual(movableTHP, 13)
        XCTAssertEqual(PerCPUPages.index(order: 9, migrateType: .reclaimable), unmovableTHP)
        XCTAssertEqual(PerCPUPages.order(ofIndex: 13), 9)
        try m.addMemory(node: 0, startBytes: base, sizeBytes: blockBytes)
        let s32 = try XCTUnwrap(m.sectionMemmapOf(32))
        XCTAssertEqual(m.zones[z].fast.pcpCount(unmovableTHP), 1)
        // The one order-9 block on the zone's pcp lists (blocks are 512-aligned).
        func order9OnPCP() -> [PFN] {
            stride(from: m.zones[z].startPFN, to: m.zones[z].endPFN, by: 512).filter {
                m.memmap.kind($0) == .pcp && m.memmap.order($0) == order9
            }
        }
        let waiting = try XCTUnwrap(order9OnPCP().first)
        XCTAssertEqual(order9OnPCP().count, 1)
        XCTAssertNotEqual(waiting, s32.start)
        XCTAssertEqual(m.pageblockMigrateType(waiting), .unmovable)

        m.setMaxHugePages(hstate: 0, count: 2)
        XCTAssertEqual(m.hugetlb.hstates[0].nrHugePages, 2)
        XCTAssertEqual(m.zones[z].fast.pcpCount(unmovableTHP), 1, "still waiting")
        XCTAssertTrue(order9OnPCP().contains(waiting))
        try m.verify()

        // The next memmap takes it, without touching the buddy.
        let free = m.zones[z].freePages
        try m.addMemory(node: 0, startBytes: base + blockBytes, sizeBytes: blockBytes)
        XCTAssertEqual(m.sectionMemmapOf(33)?.start, waiting)
        XCTAssertEqual(m.zones[z].freePages, free)
        XCTAssertEqual(m.zones[z].fast.pcpCount(unmovableTHP), 0)
        try m.verify()
    }

    func testMultiSectionAddAndPartialRemoveFreeExactlyTheirSections() throws {
        let m = try machine()
        let z = m.zoneIndex(node: 0, type: .dma32)
        let total0 = m.zones[z].freePages + m.zones[z].pcp.count
        let ids = try m.addMemory(node: 0, startBytes: base, sizeBytes: 4 * blockBytes)
        XCTAssertEqual(ids, [32, 33, 34, 35])
        XCTAssertEqual(memmapPages(m), 4 * 512)
        XCTAssertEqual(m.zones[z].freePages + m.zones[z].pcp.count, total0 - 2048)
        let heads = (32...35).map { m.sectionMemmapOf($0)!.start }
        XCTAssertEqual(Set(heads).count, 4)
        for h in heads { XCTAssertEqual(m.memmap.order(h), order9) }
        try m.verify()

        // Remove the last block only: its section's block goes, the others stay where they are.
        try m.removeMemory(startBytes: base + 3 * blockBytes, sizeBytes: blockBytes)
        XCTAssertEqual(memmapPages(m), 3 * 512)
        XCTAssertNotEqual(m.memmap.kind(heads[3]), .memmap)
        for s in 32...34 { XCTAssertEqual(m.sectionMemmapOf(s)?.start, heads[s - 32]) }
        XCTAssertEqual(m.zones[z].freePages + m.zones[z].pcp.count, total0 - 1536)
        try m.verify()
        try m.removeMemory(startBytes: base, sizeBytes: 3 * blockBytes)
        XCTAssertEqual(memmapPages(m), 0)
        XCTAssertEqual(m.zones[z].freePages + m.zones[z].pcp.count, total0)
        try m.verify()
    }

    /// memmap_on_memory: the memmap lives on the added block (altmap), nothing from the buddy.
    func testMemmapOnMemoryTakesNothingFromTheKernelZones() throws {
        let m = try machine()
        m.params.memmapOnMemory = true
        let z = m.zoneIndex(node: 0, type: .dma32)
        let free0 = m.zones[z].freePages, pcp0 = m.zones[z].pcp.count
        let ids = try m.addMemory(node: 0, startBytes: base, sizeBytes: blockBytes, memmapOnMemory: true)
        XCTAssertEqual(m.blocks[ids[0]]!.vmemmapPages, 512)
        XCTAssertEqual(memmapPages(m), 0)
        XCTAssertNil(m.sectionMemmapOf(32))
        XCTAssertEqual(m.zones[z].freePages, free0)
        XCTAssertEqual(m.zones[z].pcp.count, pcp0)
        try m.verify()
        try m.removeMemory(startBytes: base, sizeBytes: blockBytes)
        try m.verify()
    }

    /// With no order-9 block above the watermark, vmemmap_populate_basepages maps the section
    /// with a PTE table page and 512 single pages, after one "vmemmap alloc failure" warning;
    /// removal frees all 513.
    func testBasePageFallbackWhenNoOrder9BlockIsLeft() throws {
        let m = try machine()
        // Every order-9 block gone, whatever the watermarks: min_free_kbytes at its floor so the
        // hog stops for want of blocks, and the per-cpu lists (the boot's late frees, the hog's
        // own order-9 refills) drained so no block hides there.
        try m.setMinFreeKbytes(128)
        m.drainAllPCP()
        let hog = try m.createOwner(name: "hog", kind: .kernel, order: order9, gfp: [.kernel, .noretry, .nowarn])
        _ = m.allocate(owner: hog, blocks: 1 << 20)
        m.drainAllPCP()
        _ = m.allocate(owner: hog, blocks: 1 << 20)
        m.drainAllPCP()
        let z = m.zoneIndex(node: 0, type: .dma32)
        let before = m.zones.map { $0.freePages + $0.pcp.count }.reduce(0, +)
        try m.addMemory(node: 0, startBytes: base, sizeBytes: blockBytes)
        XCTAssertNil(m.sectionMemmapOf(32), "no order-9 block")
        XCTAssertEqual(m.vmemmap.sectionMemmap[32], SparseVmemmap.basePages)
        XCTAssertEqual(memmapPages(m), 512)
        let pt = m.vmemmap.splitPMD[32]
        XCTAssertEqual(m.memmap.kind(pt), .pageTable)
        XCTAssertEqual(m.kmsg.filter { $0.contains("vmemmap alloc failure: order:9") }.count, 1)
        XCTAssertEqual(m.zones.map { $0.freePages + $0.pcp.count }.reduce(0, +), before - 513)
        XCTAssertGreaterThan(m.zones[z].kindPages[Int(PageKind.memmap.rawValue)], 0)
        try m.verify()
        try m.removeMemory(startBytes: base, sizeBytes: blockBytes)
        XCTAssertEqual(memmapPages(m), 0)
        XCTAssertEqual(m.vmemmap.splitPMD[32], 0)
        XCTAssertEqual(m.zones.map { $0.freePages + $0.pcp.count }.reduce(0, +), before)
        try m.verify()
        m.destroyOwner(hog)
        try m.verify()
    }

    /// HVO on a hot-added section: the PMD split turns the order-9 block into 512 tracked
    /// pages, 7 per 2 MiB huge page go back to the buddy, restores bring fresh ones; after
    /// offline and removal every memmap page and the PTE table are free again.
    func testHVOOnHotAddedSectionThenRemoveLosesNothing() throws {
        let m = try machine()
        m.hugetlbInit()
        try m.setHugetlbOptimizeVmemmap(true)
        let kernelZones = [m.zoneIndex(node: 0, type: .dma), m.zoneIndex(node: 0, type: .dma32)]
        func kernelFree() -> Int { kernelZones.reduce(0) { $0 + m.zones[$1].freePages + m.zones[$1].pcp.count } }
        let free0 = kernelFree()
        let ids = try m.addMemory(node: 0, startBytes: base, sizeBytes: blockBytes)
        try m.storeState(block: ids[0], .onlineMovable)
        XCTAssertEqual(kernelFree(), free0 - 512)
        // 32 pages fit in the new ZONE_MOVABLE above its watermarks: all on section 32.
        m.setMaxHugePages(hstate: 0, count: 32)
        XCTAssertEqual(m.hugetlb.hstates[0].nrHugePages, 32)
        XCTAssertEqual(m.vmemmap.sectionMemmap[32], SparseVmemmap.basePages, "PMD split")
        // 32 pages × 7 vmemmap pages freed, one PTE table page taken for the split.
        XCTAssertEqual(m.hugetlb.stats.vmemmapPagesFreed, 32 * 7)
        XCTAssertEqual(memmapPages(m), 512 - 32 * 7)
        XCTAssertEqual(kernelFree(), free0 - 512 + 32 * 7 - 1)
        try m.verify()
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual(memmapPages(m), 512)
        try m.verify()
        try m.storeState(block: ids[0], .offline)
        try m.removeMemory(startBytes: base, sizeBytes: blockBytes)
        XCTAssertEqual(memmapPages(m), 0)
        XCTAssertEqual(kernelFree(), free0)
        try m.verify()
    }

    /// The 512 MiB plug of v-virtio-mem, block by block, onlined movable: the four memmap
    /// blocks come out of the buddy two at a time through the THP pcp list, and onlining
    /// (init_per_zone_wmark_min sets the watermarks twice, the first time with a far lower
    /// pcp high) leaves the DMA32 pcp lists alone: pageset_update only stores the limits.
    func testPlugBlockByBlockLeavesTheKernelZonePCPListsAlone() throws {
        let m = try machine()
        let z = m.zoneIndex(node: 0, type: .dma32)
        let free0 = m.zones[z].freePages, pcp0 = m.zones[z].pcp.count
        for b in 0..<4 {
            let ids = try m.addMemory(node: 0, startBytes: base + b * blockBytes, sizeBytes: blockBytes)
            try m.storeState(block: ids[0], .onlineMovable)
        }
        XCTAssertEqual(m.zones[z].freePages, free0 - 2048)
        XCTAssertEqual(m.zones[z].pcp.count, pcp0)
        XCTAssertEqual(thpList(m, z), 0)
        XCTAssertEqual(m.zones[z].pcp.high, m.zones[z].watermark.low)
        try m.verify()
    }
}

final class PCPLimitTests: XCTestCase {
    /// nr_pcp_free: the freed batch doubles with each free without an allocation in between,
    /// but free_factor stops at CONFIG_PCP_BATCH_SCALE_MAX = 5.
    func testFreeFactorStopsAtBatchScaleMax() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        let z = m.zoneIndex(node: 0, type: .dma32)
        let batch = m.zones[z].pcp.batch
        let high = 1 << 20
        m.zones[z].pcp.freeFactor = 0
        var got: [Int] = []
        for _ in 0..<8 { got.append(m.nrPCPFree(z, high: high, freeHigh: false)) }
        XCTAssertEqual(got, [0, 1, 2, 3, 4, 5, 5, 5].map { batch << $0 })
        XCTAssertEqual(m.zones[z].pcp.freeFactor, 5)
    }

    /// A lower pcp high (watermark recomputation, percpu_pagelist_high_fraction) does not
    /// free anything by itself.
    func testLoweringHighKeepsThePages() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        let z = m.zoneIndex(node: 0, type: .dma32)
        let pcp0 = m.zones[z].pcp.count
        XCTAssertGreaterThan(pcp0, 0)
        try m.setPercpuPagelistHighFraction(100000)
        XCTAssertLessThan(m.zones[z].pcp.high, pcp0)
        XCTAssertEqual(m.zones[z].pcp.count, pcp0)
        try m.verify()
    }
}
