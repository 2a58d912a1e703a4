import XCTest

@testable import MemoryModel

/// kswapd's `balance_pgdat` window (ZONE_RECLAIM_ACTIVE, `nr_pcp_high`) and the kvfree_rcu
/// page cache its shrinker frees: the last pages of a 1 GiB guest's pool grown until failure.
final class KswapdPCPDrainTests: XCTestCase {
    private func boot1G() throws -> Machine {
        try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
    }

    /// `rcu_min_cached_objs` pages per CPU, owned at boot; nothing frees them without pressure.
    func testBootHoldsTheKvfreeRCUPageCache() throws {
        let m = try boot1G()
        let id = try XCTUnwrap(m.ownerID(named: "kernel:kvfree_rcu_cache"))
        XCTAssertEqual(m.owners[id]?.pages, Machine.rcuMinCachedObjs)
        XCTAssertEqual(m.kvfreeRCU.cached.count, Machine.rcuMinCachedObjs - 1)
        XCTAssertNotNil(m.kvfreeRCU.inUse)
        let dma32 = m.zoneIndex(node: 0, type: .dma32)
        XCTAssertEqual(m.zoneIndex(ofPFN: m.kvfreeRCU.cached[0]), dma32)
    }

    /// `nr_pcp_high` is `batch << 2` only while kswapd is in balance_pgdat on the zone's node.
    func testPCPHighIsCappedOnlyWhileReclaimIsActive() throws {
        let m = try boot1G()
        let z = m.zoneIndex(node: 0, type: .dma32)
        XCTAssertEqual(m.nrPCPHigh(z, freeHigh: false), m.zones[z].pcp.high)
        m.setReclaimActive(0, highest: .movable, true)
        XCTAssertEqual(m.nrPCPHigh(z, freeHigh: false), m.zones[z].pcp.batch << 2)
        m.setReclaimActive(0, highest: .movable, false)
        XCTAssertEqual(m.nrPCPHigh(z, freeHigh: false), m.zones[z].pcp.high)
    }

    /// pool-grow-until-fail-1g on 6.1.0-57 (two runs, tests/conformance): the pool stops at 406.
    /// kswapd's first pass frees the four cached pages at priority 1 (do_shrink_slab's deferred
    /// arithmetic: freeable 19), each free draining DMA32's pcp by nr_pcp_free's doubling
    /// batch, 63 + 126 + 189 + 189 = 567 pages (the kernel run's DMA32 pcp 3150 → 2588 =
    /// −567 + 5); the array in use comes back after the grace period and the failing
    /// allocation's direct reclaim frees it without a drain. 17 direct reclaims, and the node
    /// ends hopeless for kswapd (zoneinfo node_unreclaimable 1).
    func testPoolGrownUntilFailureGetsTheDrainedPages() throws {
        let m = try boot1G()
        let z = m.zoneIndex(node: 0, type: .dma32)
        m.setMaxHugePages(hstate: 0, count: 395)
        let pcpBefore = m.zones[z].pcp.count
        m.setMaxHugePages(hstate: 0, count: 600)
        XCTAssertEqual(m.hugetlb.hstates[0].nrHugePages, 406)
        XCTAssertEqual(m.zones[z].pcp.count, pcpBefore - 567 + 5)
        XCTAssertTrue(m.kvfreeRCU.cached.isEmpty)
        XCTAssertNil(m.kvfreeRCU.inUse)
        XCTAssertNil(m.kvfreeRCU.inGracePeriod)
        XCTAssertEqual(m.vmstat.allocstallMovable, 17)
        XCTAssertTrue(m.nodeUnreclaimable(0))
        XCTAssertFalse(m.zones[z].reclaimActive)
        try m.verify()
    }

    /// `do_shrink_slab` with DEFAULT_SEEKS and SHRINK_BATCH: 19 objects are first scanned at
    /// priority 1 (deferred 0, 2, 6, 14 at priorities 5 to 2), leaving 7 deferred.
    func testShrinkerDeferredArithmetic() throws {
        let m = try boot1G()
        for p in stride(from: Machine.defPriority, through: 2, by: -1) {
            m.shrinkSlab(priority: p)
            XCTAssertEqual(m.kvfreeRCU.cached.count, 4, "priority \(p)")
        }
        XCTAssertEqual(m.kvfreeRCU.nrDeferred, 14)
        m.shrinkSlab(priority: 1)
        XCTAssertTrue(m.kvfreeRCU.cached.isEmpty)
        XCTAssertEqual(m.kvfreeRCU.nrDeferred, 7)
    }
}
