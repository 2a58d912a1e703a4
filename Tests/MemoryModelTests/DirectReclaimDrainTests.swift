import XCTest

@testable import MemoryModel

/// `__alloc_pages_direct_reclaim`: when reclaim made progress but the freelists still fail
/// the min watermark, `drain_all_pages(NULL)` returns the per-cpu lists to the buddy and the
/// allocation is retried once; without progress the kernel neither drains nor retries.
final class DirectReclaimDrainTests: XCTestCase {
    /// A zone filled with unreclaimable kernel pages until an allocation fails at min, then
    /// a few pages freed to the pcp list (not counted in NR_FREE_PAGES).
    private func zoneAtMinWithPCPPages() throws -> (Machine, Int) {
        let m = syntheticMachine([[(.normal, 16384)]])
        let z = m.zoneIndex(node: 0, type: .normal)
        let noReclaim = GFP.kernel.subtracting(.reclaim)
        var held: [PFN] = []
        while let p = m.allocPages(order: 0, gfp: noReclaim, node: 0, kind: .kernel) { held.append(p) }
        XCTAssertGreaterThan(held.count, 10_000)
        for p in held.suffix(5) { m.freePages(p, order: 0) }
        XCTAssertGreaterThanOrEqual(m.zones[z].pcp.count, 5)
        // Still below min for a fresh order-0 request: the freed pages sit on the pcp list.
        XCTAssertNil(m.getPageFromFreelist(order: 0, gfp: .kernel, zonelist: [z], level: .min))
        try m.verify()
        return (m, z)
    }

    func testNoProgressNoDrain() throws {
        let (m, z) = try zoneAtMinWithPCPPages()
        let pcp = m.zones[z].pcp.count, free = m.zones[z].freePages
        XCTAssertNil(m.directReclaimRetry(order: 0, gfp: .kernel, zonelist: [z], progress: 0))
        XCTAssertEqual(m.zones[z].pcp.count, pcp)
        XCTAssertEqual(m.zones[z].freePages, free)
    }

    func testProgressDrainsPCPAndRetrySucceeds() throws {
        let (m, z) = try zoneAtMinWithPCPPages()
        let before = m.zones[z].pcp.count + m.zones[z].freePages
        guard let (pfn, zz) = m.directReclaimRetry(order: 0, gfp: .kernel, zonelist: [z], progress: 1) else {
            return XCTFail("the drained pcp pages should satisfy the min watermark")
        }
        m.markAllocated(pfn, order: 0, kind: .kernel, z: zz)
        XCTAssertEqual(zz, z)
        // One page left the zone; the rest of the drained pages are free (or back on pcp
        // through the retry's own batch refill).
        XCTAssertEqual(m.zones[z].pcp.count + m.zones[z].freePages, before - 1)
        try m.verify()
    }
}
