import XCTest

@testable import MemoryModel

/// `alloc_flags_nofragment`: an allocation preferring ZONE_NORMAL, with DMA32 populated below,
/// falls back to another migratetype's pages only by stealing a whole pageblock on its fast path
/// (`__rmqueue_fallback` with ALLOC_NOFRAGMENT), and takes fragments only in the slow path.
final class AllocNoFragmentTests: XCTestCase {
    /// Normal holds only order-0 movable fragments (every other page allocated), DMA32 is free.
    private func fragmentedNormal() throws -> (Machine, normal: Int, dma32: Int) {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 65536)]])
        let normal = m.zoneIndex(node: 0, type: .normal), dma32 = m.zoneIndex(node: 0, type: .dma32)
        var held: [PFN] = []
        while let p = m.rmqueue(normal, order: 0, mt: .movable) {
            m.markAllocated(p, order: 0, kind: .anon, z: normal)
            held.append(p)
        }
        m.drainAllPCP()
        for (i, p) in held.enumerated() where i % 2 == 0 { m.freePages(p, order: 0) }
        m.drainAllPCP()
        for o in Geometry.pageblockOrder..<Geometry.maxOrder { XCTAssertEqual(m.zones[normal].freeBlocks(order: o), 0) }
        XCTAssertTrue(m.allocNoFragment(zonelist: m.zonelist(gfp: .kernel, node: 0)))
        return (m, normal, dma32)
    }

    func testFastPathStealsAWholePageblockInDMA32RatherThanANormalFragment() throws {
        let (m, _, dma32) = try fragmentedNormal()
        let r = try XCTUnwrap(
            m.getPageFromFreelist(order: 0, gfp: .kernel, zonelist: m.zonelist(gfp: .kernel, node: 0), level: .low))
        XCTAssertEqual(r.1, dma32)
        XCTAssertEqual(m.pageblockMigrateType(r.0), .unmovable)
    }

    func testSlowPathTakesTheFragment() throws {
        let (m, normal, _) = try fragmentedNormal()
        let r = try XCTUnwrap(
            m.getPageFromFreelist(order: 0, gfp: .kernel, zonelist: m.zonelist(gfp: .kernel, node: 0), level: .min))
        XCTAssertEqual(r.1, normal)
    }
}
