import DequeModule

/// One free list of one order and migratetype: pfns of free buddy heads. The position of a
/// pfn in `pfns` is kept in the memmap's `link`, so removal from the middle is O(1). The
/// end of the array is the list's head: the kernel allocates from the head and usually frees
/// to it, so the model is LIFO like the kernel.
public struct FreeList: Sendable {
    public var pfns: [UInt32] = []
    public var count: Int { pfns.count }
}

/// Per-cpu page lists (`struct per_cpu_pages`) of one zone. 6.1 keeps orders 0–3 per
/// pcp migratetype plus one list for pageblock order (THP), 13 lists in all.
public struct PerCPUPages: Sendable {
    public static let listCount = 13
    public var lists: [Deque<UInt32>] = Array(repeating: Deque(), count: listCount)
    /// Pages on all lists.
    public var count = 0
    public var high = 0
    public var batch = 1
    /// Doubles the pages freed at each consecutive drain without an allocation in between.
    public var freeFactor = 0

    /// `order_to_pindex`: which list holds pages of this order and migratetype.
    @inlinable public static func index(order: Int, migrateType: MigrateType) -> Int? {
        if order <= 3 { return order * 3 + Int(migrateType.rawValue) }
        if order == Geometry.pageblockOrder { return 12 }
        return nil
    }
    @inlinable public static func order(ofIndex index: Int) -> Int { index == 12 ? Geometry.pageblockOrder : index / 3 }
}

/// Watermarks of a zone, in pages.
public struct Watermarks: Sendable, Equatable {
    public var min = 0, low = 0, high = 0, boost = 0
}

/// `struct zone`: the pages of one node in one zone type.
public struct Zone: Sendable {
    public let node: Int
    public let type: ZoneType
    /// zone_start_pfn and spanned_pages: the span grows on online and shrinks on offline,
    /// and may contain holes and other zones' pages.
    public var startPFN: PFN = 0
    public var spannedPages = 0
    public var presentPages = 0
    /// Present pages that were there at boot (`present_early_pages`, for auto-movable).
    public var presentEarlyPages = 0
    public var managedPages = 0
    /// NR_FREE_PAGES: pages in the buddy free lists (not the pcp lists).
    public var freePages = 0
    public var watermark = Watermarks()
    /// `lowmem_reserve[]` by the zone index of the allocation (the zoneinfo "protection").
    public var lowmemReserve = [Int](repeating: 0, count: ZoneType.allCases.count)
    /// free_area[order].free_list[migratetype], indexed order * 5 + migratetype.
    public var freeArea = [FreeList](repeating: FreeList(), count: Geometry.maxOrder * MigrateType.allCases.count)
    public var pcp = PerCPUPages()
    public var nrIsolatePageblock = 0
    /// Allocated pages by PageKind raw value (zone vmstat counters).
    public var kindPages = [Int](repeating: 0, count: PageKind.allCases.count)

    public init(node: Int, type: ZoneType) { self.node = node; self.type = type }

    public var endPFN: PFN { startPFN + spannedPages }
    public var span: PFNRange { PFNRange(start: startPFN, count: spannedPages) }
    public var isPopulated: Bool { presentPages > 0 }
    public var isManaged: Bool { managedPages > 0 }
    public func intersects(_ range: PFNRange) -> Bool { spannedPages > 0 && span.intersects(range) }

    @inlinable static func listIndex(_ order: Int, _ mt: MigrateType) -> Int { order * 5 + Int(mt.rawValue) }
    /// Free blocks of `order` over every migratetype (one /proc/buddyinfo column).
    public func freeBlocks(order: Int) -> Int {
        (0..<MigrateType.allCases.count).reduce(0) { $0 + freeArea[order * 5 + $1].count }
    }
    public func freeBlocks(order: Int, migrateType: MigrateType) -> Int { freeArea[Zone.listIndex(order, migrateType)].count }
}
