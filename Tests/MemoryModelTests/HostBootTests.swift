import SystemPackage
import XCTest

@testable import MemoryModel

/// The host boot path (`Machine.boot(host:pages:)`) on a machine no QEMU shape gives: 2 GiB
/// memory blocks, two nodes, holes (below 1 MiB, the 32-bit PCI hole, a missing block), a boot
/// block spanning two zones, a movable block on node 1, an offline block, HugeTLB pages of both
/// sizes (a free 1 GiB page, in-use and reserved 2 MiB pages), and every page placed by hand.
final class HostBootTests: XCTestCase {
    static let gib = 1 << 18  // pages

    func host() -> (HostLayout, [HostPageRun]) {
        var h = HostLayout()
        h.blockBytes = 2 << 30
        let g = Self.gib
        // node 0: [0x100, 2 GiB) in block 0 (DMA + DMA32), [4 GiB, 6 GiB) in block 2 (Normal);
        // block 1 is the PCI hole; node 1: [6 GiB, 8 GiB) movable (block 3), [8 GiB, 10 GiB) offline (block 4).
        h.ram = [
            .init(range: PFNRange(start: 0x100, end: 2 * g), node: 0),
            .init(range: PFNRange(start: 4 * g, end: 6 * g), node: 0),
            .init(range: PFNRange(start: 6 * g, end: 8 * g), node: 1),
            .init(range: PFNRange(start: 8 * g, end: 10 * g), node: 1)
        ]
        h.zones = [
            .init(node: 0, type: .dma, span: PFNRange(start: 0x100, end: 0x1000)),
            .init(node: 0, type: .dma32, span: PFNRange(start: 0x1000, end: 2 * g)),
            .init(node: 0, type: .normal, span: PFNRange(start: 4 * g, end: 6 * g)),
            .init(node: 1, type: .movable, span: PFNRange(start: 6 * g, end: 8 * g))
        ]
        h.blocks = [
            .init(id: 0, online: true, zone: nil, node: 0), .init(id: 2, online: true, zone: .normal, node: 0),
            .init(id: 3, online: true, zone: .movable, node: 1), .init(id: 4, online: false, zone: nil, node: 1)
        ]
        h.pools = [.init(sizeBytes: 2 << 20, resv: 1), .init(sizeBytes: 1 << 30)]
        h.gbpages = true
        h.endPFN = 10 * g
        let runs: [HostPageRun] = [
            .init(PFNRange(start: 0x100, end: 0x1000), .reserved),
            .init(PFNRange(start: 0x1000, end: 2 * g - 4096), .free),
            .init(PFNRange(start: 2 * g - 4096, end: 2 * g), .allocated(.slabUnreclaimable)),
            .init(PFNRange(start: 4 * g, end: 4 * g + 1000), .allocated(.kernel)),
            .init(PFNRange(start: 4 * g + 1000, end: 5 * g), .free),
            .init(PFNRange(start: 5 * g, end: 6 * g), .hugetlb(order: 18, inUse: false)),
            .init(PFNRange(start: 6 * g, end: 6 * g + 20480), .allocated(.anon)),
            .init(PFNRange(start: 6 * g + 20480, end: 6 * g + 20480 + 4 * 512), .hugetlb(order: 9, inUse: true)),
            .init(PFNRange(start: 6 * g + 22528, end: 6 * g + 22528 + 2 * 512), .hugetlb(order: 9, inUse: false)),
            .init(PFNRange(start: 6 * g + 23552, end: 8 * g), .free)
        ]
        return (h, runs)
    }

    func testLargeBlocksNodesAndHolesBootAsPlaced() throws {
        let (h, runs) = host()
        let m = try Machine.boot(host: h, pages: runs)
        XCTAssertNoThrow(try m.verify())
        XCTAssertEqual(m.blockPages, 2 * Self.gib)
        XCTAssertEqual(m.blocks.keys.sorted(), [0, 2, 3, 4])
        XCTAssertNil(m.blocks[0]?.zone, "block 0 spans DMA and DMA32: valid_zones none")
        XCTAssertTrue(m.hotplug.holeBlocks.contains(0), "block 0 starts with a hole")
        XCTAssertEqual(m.blocks[3]?.zone, .movable)
        XCTAssertEqual(m.blocks[3]?.node, 1)
        XCTAssertEqual(m.blocks[4]?.state, .offline)
        // Zones: spans as stated, present = System RAM of the online blocks, managed = not reserved.
        let dma = m.zone(node: 0, type: .dma), dma32 = m.zone(node: 0, type: .dma32)
        XCTAssertEqual(dma.presentPages, 0x1000 - 0x100)
        XCTAssertEqual(dma.managedPages, 0)
        XCTAssertEqual(dma32.presentPages, 2 * Self.gib - 0x1000)
        XCTAssertEqual(dma32.freePages, 2 * Self.gib - 0x1000 - 4096)
        XCTAssertEqual(m.zone(node: 1, type: .movable).managedPages, 2 * Self.gib)
        XCTAssertEqual(m.zone(node: 1, type: .movable).kindPages[Int(PageKind.anon.rawValue)], 20480)
        // Pools: per size and node, in-use pages mapped, the reservation held.
        let h2 = try XCTUnwrap(m.hugetlb.index(ofSizeBytes: 2 << 20)),
            h1 = try XCTUnwrap(m.hugetlb.index(ofSizeBytes: 1 << 30))
        XCTAssertEqual(m.hugetlb.hstates[h2].nrHugePagesNode, [0, 6])
        XCTAssertEqual(m.hugetlb.hstates[h2].freeHugePages, 2)
        XCTAssertEqual(m.hugetlb.hstates[h2].resvHugePages, 1)
        XCTAssertEqual(m.hugetlb.hstates[h1].nrHugePagesNode, [1, 0])
        XCTAssertEqual(m.hugetlb.hstates[h1].freeHugePages, 1)
        // The reservation needs one of the block's two free huge pages: dissolve refuses (EBUSY),
        // as dissolve_free_huge_page does when free - resv would fall short.
        XCTAssertThrowsError(try m.storeState(block: 3, .offline)) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .resourceBusy)
            XCTAssertTrue("\($0)".contains("failure to dissolve huge pages"), "\($0)")
        }
        XCTAssertNoThrow(try m.verify())
        // Without the reservation the 2 GiB movable block (anonymous memory, in-use and free huge
        // pages) offlines, its pages moving to node 0; the offline block onlines movable.
        var free = h
        free.pools[0].resv = 0
        let m2 = try Machine.boot(host: free, pages: runs)
        try m2.storeState(block: 3, .offline)
        XCTAssertEqual(m2.blocks[3]?.state, .offline)
        XCTAssertEqual(m2.zone(node: 0, type: .normal).kindPages[Int(PageKind.anon.rawValue)], 20480)
        try m2.storeState(block: 4, .onlineMovable)
        XCTAssertEqual(m2.blocks[4]?.zone, .movable)
        XCTAssertNoThrow(try m2.verify())
        // The multi-zone boot block refuses offline (EINVAL), as memory_block_offline does.
        XCTAssertThrowsError(try m.storeState(block: 0, .offline)) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .invalidArgument)
        }
    }

    func testLayoutsTheModelCannotHoldAreRefused() {
        var (h, runs) = host()
        h.blockBytes = 3 << 30
        XCTAssertThrowsError(try Machine.boot(host: h, pages: runs)) { XCTAssertTrue("\($0)".contains("power of two")) }
        (h, runs) = host()
        h.blockBytes = 4 << 30
        XCTAssertThrowsError(try Machine.boot(host: h, pages: runs))
        (h, runs) = host()
        h.zones.append(.init(node: 0, type: .normal, span: PFNRange(start: 0x2000, end: 0x3000)))
        XCTAssertThrowsError(try Machine.boot(host: h, pages: runs)) { XCTAssertTrue("\($0)".contains("overlap")) }
        (h, runs) = host()
        h.pools.append(.init(sizeBytes: 4 << 20))
        XCTAssertThrowsError(try Machine.boot(host: h, pages: runs)) {
            XCTAssertTrue("\($0)".contains("hugepage size"))
        }
    }
}
