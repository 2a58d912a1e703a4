import XCTest

@testable import MemoryModel

/// `__alloc_pages_slowpath`'s decisions after a round of direct reclaim: a costly order
/// retries only with __GFP_RETRY_MAYFAIL (`costly_order && !__GFP_RETRY_MAYFAIL` → nopage,
/// even when reclaim made progress), and `__alloc_pages_may_oom` does not kill for a lowmem
/// request (`ac->highest_zoneidx < ZONE_NORMAL`).
final class SlowpathRetryTests: XCTestCase {
    /// One zone of 16384 pages filled at the min watermark by two movable owners taking
    /// turns, page cache and anonymous memory, and what is left free taken by the kernel with
    /// every even page given back: reclaim then frees page-cache pages between allocated ones
    /// and no order-9 block can form.
    private func interleaved() throws -> (Machine, pageCache: Int) {
        let m = syntheticMachine([[(.normal, 16384)]])
        let z = m.zoneIndex(node: 0, type: .normal)
        let pc = try m.createOwner(name: "pc", kind: .pageCache, gfp: GFP.highuserMovable.subtracting(.reclaim))
        let anon = try m.createOwner(name: "anon", kind: .anon, gfp: GFP.highuserMovable.subtracting(.reclaim))
        while m.allocate(owner: pc, blocks: 1) == 1 && m.allocate(owner: anon, blocks: 1) == 1 {}
        m.drainAllPCP()
        var rest: [PFN] = []
        while let (p, zz) = m.getPageFromFreelist(order: 0, gfp: .kernel, zonelist: [z], level: .none) {
            m.markAllocated(p, order: 0, kind: .kernel, z: zz)
            rest.append(p)
        }
        for p in rest where p % 2 == 0 { m.freePages(p, order: 0) }
        m.drainAllPCP()
        XCTAssertEqual((1..<Geometry.maxOrder).reduce(0) { $0 + m.zones[z].freeBlocks(order: $1) }, 0)
        XCTAssertGreaterThan(try XCTUnwrap(m.owners[pc]).pages, 4 * 512)
        try m.verify()
        return (m, pc)
    }

    /// A huge page without __GFP_RETRY_MAYFAIL: one direct reclaim (allocstall 1) of
    /// max(SWAP_CLUSTER_MAX, 512) = 512 page-cache pages, no order-9 block, nopage. (kswapd,
    /// woken by the slow path, reclaims besides.)
    func testCostlyOrderWithoutRetryMayfailReclaimsOnce() throws {
        let (m, pc) = try interleaved()
        let cached = try XCTUnwrap(m.owners[pc]).pages
        let stalls = m.vmstat.allocstallMovable, stolen = m.vmstat.pgstealDirect, kswapd = m.vmstat.pgstealKswapd
        let gfp: GFP = [.highuserMovable, .comp, .nowarn]
        XCTAssertNil(m.allocPages(order: 9, gfp: gfp, node: 0, kind: .hugetlb))
        XCTAssertEqual(m.vmstat.allocstallMovable - stalls, 1)
        XCTAssertEqual(m.vmstat.pgstealDirect - stolen, 512)
        XCTAssertEqual(m.owners[pc]?.pages, cached - 512 - (m.vmstat.pgstealKswapd - kswapd))
        XCTAssertGreaterThan(m.owners[pc]?.pages ?? 0, 0)
        XCTAssertEqual(m.vmstat.oomKill, 0)
        try m.verify()
    }

    /// The same request with __GFP_RETRY_MAYFAIL keeps reclaiming while reclaim makes
    /// progress: every page-cache page goes (to direct reclaim or kswapd) before it gives up.
    func testCostlyOrderWithRetryMayfailReclaimsWhileThereIsProgress() throws {
        let (m, pc) = try interleaved()
        let cached = try XCTUnwrap(m.owners[pc]).pages
        let stolen = m.vmstat.pgstealDirect, kswapd = m.vmstat.pgstealKswapd
        let gfp: GFP = [.highuserMovable, .comp, .nowarn, .retryMayfail]
        XCTAssertNil(m.allocPages(order: 9, gfp: gfp, node: 0, kind: .hugetlb))
        XCTAssertEqual(m.vmstat.pgstealDirect - stolen + m.vmstat.pgstealKswapd - kswapd, cached)
        XCTAssertEqual(m.owners[pc]?.pages, 0)
        XCTAssertEqual(m.vmstat.oomKill, 0)
        try m.verify()
    }

    /// A DMA32-only zone at its min watermark with an anonymous owner to kill: a GFP_KERNEL
    /// page kills it, a GFP_DMA32 page fails instead.
    func testLowmemRequestDoesNotInvokeTheOOMKiller() throws {
        for (gfp, kills) in [(GFP.kernel.union(.dma32), 0), (GFP.kernel, 1)] {
            let m = syntheticMachine([[(.dma32, 16384)]])
            let anon = try m.createOwner(name: "anon", kind: .anon)
            XCTAssertEqual(m.allocate(owner: anon, blocks: 1024), 1024)
            let k = try m.createOwner(name: "k", kind: .kernel, gfp: GFP.kernel.subtracting(.reclaim))
            while m.allocate(owner: k, blocks: 1) == 1 {}
            _ = m.allocPages(order: 0, gfp: gfp, node: 0, kind: .kernel)
            XCTAssertEqual(m.vmstat.oomKill, kills, "\(gfp)")
            XCTAssertEqual(m.owners[anon] == nil, kills == 1, "\(gfp)")
            try m.verify()
        }
    }
}
