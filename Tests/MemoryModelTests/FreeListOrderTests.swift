import XCTest

@testable import MemoryModel

/// The buddy free lists keep the kernel's order (mm/page_alloc.c, 6.1): `__free_one_page`
/// queues a merged block at the head unless FPI_TO_TAIL or `buddy_merge_likely` (the buddy of
/// its order+1 parent is free at that order) sends it to the tail; `del_page_from_free_list`
/// keeps the others' order; `move_to_free_list` is `list_move_tail`. The expected lists below
/// were worked out by hand from those rules, page by page.
final class FreeListOrderTests: XCTestCase {
    /// A booted machine with one free order-10 Movable block taken off the lists and all its
    /// pages allocated, so that only the test's frees touch it (nothing outside an order-10
    /// block merges with or sits beside its pages in these rules).
    func machineWithEmptiedBlock() throws -> (Machine, zone: Int, base: PFN) {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 1 << 30, slots: 0, cmdline: ""))
        let li = Zone.listIndex(Geometry.maxOrder - 1, .movable)
        let z = try XCTUnwrap(m.zones.indices.first { m.zones[$0].freeArea[li].count > 0 })
        let base = try XCTUnwrap(m.zones[z].freeArea[li].first)
        m.removeFromFreeList(z, base)
        for p in base..<base + Geometry.maxOrderPages { m.markAllocated(p, order: 0, kind: .kernel, z: z) }
        return (m, z, base)
    }

    /// Free one order-0 page of the block straight to the buddy (`free_one_page`, FPI_NONE).
    func free(_ m: Machine, _ z: Int, _ pfn: PFN, toTail: Bool = false) {
        m.zones[z].kindPages[Int(PageKind.kernel.rawValue)] -= 1
        m.freeOneBlock(z, pfn, order: 0, mt: .movable, toTail: toTail)
    }

    /// The block's entries on each non-empty list of `mt`, head to tail, as offsets.
    func lists(_ m: Machine, _ z: Int, _ base: PFN, _ mt: MigrateType = .movable) -> [Int: [Int]] {
        var out: [Int: [Int]] = [:]
        for o in 0..<Geometry.maxOrder {
            let l = m.zones[z].freeArea[Zone.listIndex(o, mt)].pfns.filter {
                $0 >= base && $0 < base + Geometry.maxOrderPages
            }
            if !l.isEmpty { out[o] = l.map { $0 - base } }
        }
        return out
    }

    func testFreeOrderMergeLikelyAndRemoval() throws {
        let (m, z, b) = try machineWithEmptiedBlock()
        // offset freed → the block's lists afterwards (order: head ... tail).
        let steps: [(Int, [Int: [Int]])] = [
            (2, [0: [2]]),  // buddy 3 busy; the order-1 parent 2's buddy 0 is not free: head
            (3, [1: [2]]),  // merges with 2; parent 0's order-2 buddy 4 busy: head
            (0, [0: [0], 1: [2]]),  // buddy 1 busy, but the parent's buddy 2 is free at order 1: tail
            (8, [0: [8, 0], 1: [2]]),  // head, before 0
            (13, [0: [13, 8, 0], 1: [2]]),
            (10, [0: [10, 13, 8, 0], 1: [2]]),
            (11, [0: [13, 8, 0], 1: [10, 2]]),  // 10 leaves order 0, 10-11 at the head of order 1
            (17, [0: [17, 13, 8, 0], 1: [10, 2]]),
            (21, [0: [21, 17, 13, 8, 0], 1: [10, 2]]),
            (25, [0: [25, 21, 17, 13, 8, 0], 1: [10, 2]]),
            // 8+9 → order 1, + 10-11 → order 2 at 8; its order-3 parent 8's buddy 0 is not free: head
            (9, [0: [25, 21, 17, 13, 0], 1: [2], 2: [8]]),
            // 12+13 → order 1; its order-2 parent 12's buddy 8 is free at order 2: tail
            (12, [0: [25, 21, 17, 0], 1: [2, 12], 2: [8]]),
            // 20+21 → order 1 at 20 (21 leaves the middle of order 0, the rest keep their order)
            (20, [0: [25, 17, 0], 1: [20, 2, 12], 2: [8]])
        ]
        for (offset, want) in steps {
            free(m, z, b + offset)
            XCTAssertEqual(lists(m, z, b), want, "after freeing offset \(offset)")
        }
        // move_to_free_list goes to the tail: 25 to Unmovable and back ends behind 0.
        m.moveToFreeList(z, b + 25, mt: .unmovable)
        XCTAssertEqual(lists(m, z, b, .unmovable), [0: [25]])
        XCTAssertEqual(lists(m, z, b)[0], [17, 0])
        m.moveToFreeList(z, b + 25, mt: .movable)
        XCTAssertEqual(lists(m, z, b)[0], [17, 0, 25])
        // FPI_TO_TAIL: 31 (parent 30's buddy 28 busy, so merge-likely says head) goes to the tail.
        free(m, z, b + 31, toTail: true)
        XCTAssertEqual(lists(m, z, b)[0], [17, 0, 25, 31])
        // Everything else freed: the block is whole again, alone on its list.
        let freed: Set<Int> = [0, 2, 3, 8, 9, 10, 11, 12, 13, 17, 20, 21, 25, 31]
        for o in 0..<Geometry.maxOrderPages where !freed.contains(o) { free(m, z, b + o) }
        XCTAssertEqual(lists(m, z, b), [Geometry.maxOrder - 1: [0]])
        try m.verify()
    }

    /// Boot memory goes through `__free_pages_core` (FPI_TO_TAIL) in ascending pfn order, and
    /// an onlined block's pages are queued behind what was free before (move_to_free_list on
    /// undoing the isolation): each order-10 list runs in ascending pfn order, boot blocks
    /// first, the onlined block's behind them.
    func testBootAndOnlineQueueAtTheTail() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 4, dimms: [DIMMConfig(id: "d", sizeBytes: 512 << 20)]))
        let li = Zone.listIndex(Geometry.maxOrder - 1, .movable)
        let boot = m.zones[m.zoneIndex(node: 0, type: .dma32)].freeArea[li].pfns
        XCTAssertGreaterThan(boot.count, 100)
        XCTAssertEqual(boot, boot.sorted())
        for id in [32, 33] { try m.storeState(block: id, .onlineMovable) }
        let z = m.zoneIndex(node: 0, type: .movable)
        let blocks = [32, 33].map { m.blocks[$0]!.startPFN..<m.blocks[$0]!.startPFN + m.blocks[$0]!.pages }
        let list = m.zones[z].freeArea[li].pfns
        XCTAssertEqual(list.count, 2 * Geometry.pagesPerSection / Geometry.maxOrderPages)
        XCTAssertEqual(list, list.sorted(), "block 32's free blocks, then block 33's behind them")
        XCTAssertTrue(list.suffix(list.count / 2).allSatisfy { blocks[1].contains($0) })
        try m.verify()
    }
}
