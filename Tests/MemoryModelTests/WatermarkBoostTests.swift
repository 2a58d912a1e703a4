import XCTest

@testable import MemoryModel

/// `boost_watermark` on a fallback steal below pageblock order, ZONE_BOOSTED_WATERMARK's
/// kswapd wake in `rmqueue`, and `balance_pgdat`'s boosted pass, on a one-zone machine whose
/// free memory is all in movable order-8 blocks (half pageblocks): the first unmovable page
/// has to steal one.
final class WatermarkBoostTests: XCTestCase {
    /// DMA32 of 8192 pages (16 pageblocks). min_free_kbytes: the sqrt rule gives
    /// isqrt(32768 × 16) = 724 kB (min 181, high 271); THP's recommendation is
    /// min(512 × 11, (8192 − 271) / 20) = 396 pages = 1584 kB, which wins: min 396,
    /// step max(396 / 4, 8192 × 10 / 10000) = 99, low 495, high 594; max_boost = 594 × 1.5 = 891.
    private func fragmentedMachine(pageCache: Int = 0) throws -> (Machine, Int) {
        let m = syntheticMachine([[(.dma32, 8192)]])
        let z = m.zoneIndex(node: 0, type: .dma32)
        XCTAssertEqual(m.zones[z].watermark.baseMin, 396)
        XCTAssertEqual(m.zones[z].watermark.baseLow, 495)
        XCTAssertEqual(m.zones[z].watermark.baseHigh, 594)
        if pageCache > 0 {
            let id = try m.createOwner(name: "cache", kind: .pageCache)
            XCTAssertEqual(m.allocate(owner: id, blocks: pageCache), pageCache)
        }
        // Take every block of order 8 and above as order-8 anon pages, then free every other
        // one: no two free order-8 blocks are buddies, so the largest free block is order 8.
        var taken: [PFN] = []
        while let pfn = m.rmqueueSmallest(z, order: 8, mt: .movable) {
            m.markAllocated(pfn, order: 8, kind: .anon, z: z)
            taken.append(pfn)
        }
        for pfn in taken where (pfn >> 8) & 1 == 0 { m.freePages(pfn, order: 8) }
        XCTAssertEqual(m.zones[z].freeBlocks(order: 9) + m.zones[z].freeBlocks(order: 10), 0)
        XCTAssertGreaterThan(m.zones[z].freeBlocks(order: 8, migrateType: .movable), 0)
        XCTAssertEqual(m.zones[z].watermark.boost, 0)
        return (m, z)
    }

    /// A hopeless node's kswapd is not woken: the boost stays, and every watermark reads a
    /// pageblock higher. The next steal raises it to max_boost, not by another pageblock.
    func testUnmovableFallbackBoostsAndHopelessNodeKeepsIt() throws {
        let (m, z) = try fragmentedMachine()
        m.nodes[0].kswapd.failures = Machine.maxReclaimRetries
        XCTAssertNotNil(m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel))
        XCTAssertEqual(m.zones[z].watermark.boost, 512)
        XCTAssertEqual(m.zones[z].watermark.min, 396 + 512)
        XCTAssertEqual(m.zones[z].watermark.low, 495 + 512)
        XCTAssertEqual(m.zones[z].watermark.high, 594 + 512)
        XCTAssertEqual(m.nodes[0].kswapd.passes, 0)
        XCTAssertFalse(m.zones[z].boostedWatermark)
        // The stolen pageblock held 256 free pages: the refills after them steal again.
        for _ in 0..<300 { XCTAssertNotNil(m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel)) }
        XCTAssertEqual(m.zones[z].watermark.boost, 891)
        XCTAssertEqual(m.zones[z].watermark.min, 396 + 891)
        XCTAssertEqual(m.nodes[0].kswapd.passes, 0)
        // MemAvailable's low watermarks carry it; totalreserve_pages (stored at the last
        // recomputation) does not.
        XCTAssertEqual(m.totalReservePages, 594)
        // Recomputing the watermarks drops it (__setup_per_zone_wmarks).
        m.setupPerZoneWmarks()
        XCTAssertEqual(m.zones[z].watermark.boost, 0)
        XCTAssertEqual(m.zones[z].watermark.min, 396)
        try m.verify()
    }

    /// kswapd woken by the boost on a balanced node runs the boosted pass after the
    /// allocation: nothing reclaimable, so it stops at once, counts a failure and clears the
    /// boost it saw.
    func testKswapdClearsTheBoostEvenWhenItReclaimsNothing() throws {
        let (m, z) = try fragmentedMachine()
        XCTAssertNotNil(m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel))
        XCTAssertEqual(m.nodes[0].kswapd.passes, 1)
        XCTAssertEqual(m.zones[z].watermark.boost, 0)
        XCTAssertEqual(m.zones[z].watermark.min, 396)
        XCTAssertEqual(m.nodes[0].kswapd.failures, 1)
        XCTAssertEqual(m.vmstat.pgstealKswapd, 0)
        XCTAssertNil(m.nodes[0].kswapd.woken)
        try m.verify()
    }

    /// With clean page cache on the node the boosted pass reclaims nr_boost_reclaim pages,
    /// the boost's 512, though the node is balanced; then it stops (balanced, boost repaid).
    func testBoostedPassReclaimsTheBoost() throws {
        let (m, z) = try fragmentedMachine(pageCache: 2048)
        XCTAssertNotNil(m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel))
        XCTAssertEqual(m.nodes[0].kswapd.passes, 1)
        XCTAssertEqual(m.vmstat.pgstealKswapd, 512)
        XCTAssertEqual(m.owners[try XCTUnwrap(m.ownerID(named: "cache"))]?.pages, 2048 - 512)
        XCTAssertEqual(m.zones[z].watermark.boost, 0)
        XCTAssertEqual(m.nodes[0].kswapd.failures, 0)
        try m.verify()
    }

    /// `boost_watermark` does not look at the flags, but without __GFP_KSWAPD_RECLAIM
    /// (ALLOC_KSWAPD) no ZONE_BOOSTED_WATERMARK is set: kswapd stays asleep, the boost stays.
    func testNoKswapdWakeWithoutKswapdReclaim() throws {
        let (m, z) = try fragmentedMachine()
        XCTAssertNotNil(m.allocPages(order: 0, gfp: [.io, .fs], node: 0, kind: .kernel))
        XCTAssertEqual(m.zones[z].watermark.boost, 512)
        XCTAssertEqual(m.nodes[0].kswapd.passes, 0)
        XCTAssertFalse(m.zones[z].boostedWatermark)
    }

    /// watermark_boost_factor 0 turns boosting off; zones under four pageblocks never boost.
    func testBoostFactorZeroAndSmallZones() throws {
        let (m, z) = try fragmentedMachine()
        try m.setWatermarkBoostFactor(0)
        XCTAssertFalse(m.boostWatermark(z))
        try m.setWatermarkBoostFactor(15000)
        XCTAssertTrue(m.boostWatermark(z))
        XCTAssertEqual(m.zones[z].watermark.boost, 512)
        let small = syntheticMachine([[(.dma32, 1536)]])
        XCTAssertFalse(small.boostWatermark(small.zoneIndex(node: 0, type: .dma32)))
    }
}
