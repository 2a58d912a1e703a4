/// Pageblock isolation as memory offlining uses it (mm/page_isolation.c): a pageblock becomes
/// MIGRATE_ISOLATE only if it holds nothing the kernel considers unmovable, its free pages
/// move to the isolate free lists (which no allocation takes from), and at the end the
/// whole range must be free.
extension Machine {
    /// Why a page is unmovable, in the words the explanation uses.
    func unmovableDescription(_ pfn: PFN) -> String {
        let k = memmap.kind(pfn) == .tail ? memmap.kind(memmap.head(of: pfn)) : memmap.kind(pfn)
        if memmap.kind(pfn) == .tail && memmap.head(of: pfn) < pfn && k == .hugetlb
            && memmap.order(memmap.head(of: pfn)) > Geometry.maxOrder - 1
        {
            return
                "part of a gigantic huge page (pfn \(hex(memmap.head(of: pfn)))) across the range's edge: gigantic pages are never migrated or replaced to isolate a range"
        }
        switch k {
        case .reserved: return "reserved (PageReserved)"
        case .slabReclaimable: return "slab (reclaimable, still unmovable)"
        case .slabUnreclaimable: return "slab (unmovable)"
        case .pageTable: return "a page table (unmovable)"
        case .kernelStack: return "a kernel stack (unmovable)"
        case .memmap: return "memmap (unmovable)"
        case .kernel: return "kernel memory (unmovable)"
        case .kmallocLarge: return "a large kmalloc (unmovable)"
        default: return "\(k) (unmovable)"
        }
    }

    /// `has_unmovable_pages` over one pageblock's [start, end): the first page that makes
    /// isolation fail, or nil. PageReserved always counts; in ZONE_MOVABLE everything else
    /// is assumed movable; elsewhere only free pages, LRU pages and migratable HugeTLB pages
    /// may be present.
    ///
    /// `memoryOffline` (MEMORY_OFFLINE, memory offlining only): PageOffline pages pass, so
    /// that their driver can let go of them in MEM_GOING_OFFLINE (the model keeps such pages
    /// as reserved frames with the PageOffline page type).
    func firstUnmovablePage(_ start: PFN, _ end: PFN, zone z: Int, memoryOffline: Bool = false) -> PFN? {
        let movableZone = zones[z].type == .movable
        var pfn = start
        while pfn < end {
            let k = memmap.kind(pfn)
            switch k {
            case .reserved:
                if memoryOffline && memmap.pageOffline.contains(pfn) { pfn += 1; continue }
                return pfn
            case .absent, .offline:
                pfn += 1
            case .buddy, .pcp:
                pfn += 1 << memmap.order(pfn)
            case .buddyTail, .tail:
                let h = memmap.head(of: pfn)
                if k == .tail && !movableZone && !memmap.kind(h).isLRU && memmap.kind(h) != .hugetlb { return pfn }
                pfn = Swift.max(pfn + 1, h + (1 << memmap.order(h)))
            default:
                // LRU pages (anon, file, shmem, ramfs on the unevictable list, pinned user pages)
                // and HugeTLB pages (migration is supported for every x86_64 hstate) pass.
                if !movableZone && !k.isLRU && k != .hugetlb { return pfn }
                pfn += 1 << memmap.order(pfn)
            }
        }
        return nil
    }

    /// `move_freepages_block`: every free buddy block whose head lies in the pageblock goes to
    /// the tail of `mt`'s list (`move_to_free_list`), in pfn order. Returns the pages moved.
    @discardableResult
    func moveFreeBlocks(_ z: Int, pageblock pb: PFN, to mt: MigrateType) -> Int {
        var pfn = pb, moved = 0
        while pfn < pb + Geometry.pageblockPages {
            if memmap.kind(pfn) == .buddy {
                let o = memmap.order(pfn)
                moveToFreeList(z, pfn, mt: mt)
                moved += 1 << o
                pfn += 1 << o
            } else {
                pfn += 1
            }
        }
        return moved
    }

    /// `set_migratetype_isolate` for one pageblock; returns the unmovable pfn on failure.
    func isolatePageblock(_ pb: PFN, range: PFNRange, zone z: Int, memoryOffline: Bool = false) -> PFN? {
        if pageblockMigrateType(pb) == .isolate { return pb }
        let start = Swift.max(pb, range.start), end = Swift.min(pb + Geometry.pageblockPages, range.end)
        if let bad = firstUnmovablePage(start, end, zone: z, memoryOffline: memoryOffline) { return bad }
        setPageblockMigrateType(pb, .isolate)
        zones[z].nrIsolatePageblock += 1
        moveFreeBlocks(z, pageblock: pb, to: .isolate)
        return nil
    }

    /// `unset_migratetype_isolate`: back to `mt`, free pages to the tail of its lists. A free
    /// block of pageblock order (up to MAX_ORDER-2) heading the pageblock whose buddy is free
    /// and not isolated could not merge with it while isolated: it is taken off
    /// (`__isolate_free_page`) and freed again (`__putback_isolated_page`, FPI_TO_TAIL), which
    /// merges it.
    func unisolatePageblock(_ pb: PFN, zone z: Int, to mt: MigrateType) {
        guard pageblockMigrateType(pb) == .isolate else { return }
        var putBack: Int? = nil
        if memmap.kind(pb) == .buddy {
            let order = memmap.order(pb)
            let buddy = pb ^ (1 << order)
            if order >= Geometry.pageblockOrder && order < Geometry.maxOrder - 1 && buddy < memmap.pfnCount
                && memmap.kind(buddy) == .buddy && memmap.order(buddy) == order && zoneIndex(ofPFN: buddy) == z
                && pageblockMigrateType(buddy) != .isolate
            {
                removeFromFreeList(z, pb)
                putBack = order
            }
        }
        if putBack == nil { moveFreeBlocks(z, pageblock: pb, to: mt) }
        setPageblockMigrateType(pb, mt)
        zones[z].nrIsolatePageblock -= 1
        if let order = putBack { freeOneBlock(z, pb, order: order, mt: mt, toTail: true) }
    }

    /// `start_isolate_page_range` (range pageblock aligned): the first and the last pageblock,
    /// then the ones between in order. On failure everything isolated so far goes back to
    /// MIGRATE_MOVABLE (whatever it was before) and the unmovable pfn is returned.
    func startIsolatePageRange(_ range: PFNRange, zone z: Int, memoryOffline: Bool = false) -> PFN? {
        let first = range.start, last = range.end - Geometry.pageblockPages
        if let bad = isolatePageblock(first, range: range, zone: z, memoryOffline: memoryOffline) { return bad }
        if let bad = compoundPageStraddling(range.start, isolateBefore: false) {
            unisolatePageblock(first, zone: z, to: .movable)
            return bad
        }
        if last != first, let bad = isolatePageblock(last, range: range, zone: z, memoryOffline: memoryOffline) {
            unisolatePageblock(first, zone: z, to: .movable)
            return bad
        }
        if let bad = compoundPageStraddling(range.end, isolateBefore: true) {
            undoIsolatePageRange(PFNRange(start: first, count: Geometry.pageblockPages), zone: z)
            if last != first { unisolatePageblock(last, zone: z, to: .movable) }
            return bad
        }
        var pb = first + Geometry.pageblockPages
        while pb < last {
            if let bad = isolatePageblock(pb, range: range, zone: z, memoryOffline: memoryOffline) {
                undoIsolatePageRange(PFNRange(start: first, end: pb), zone: z)
                unisolatePageblock(last, zone: z, to: .movable)
                return bad
            }
            pb += Geometry.pageblockPages
        }
        return nil
    }

    /// `isolate_single_pageblock`'s look across an edge of the range (6.0+): it walks the
    /// MAX_ORDER-aligned stretch just before `boundary` (inside the range at its end, outside
    /// at its start: empty for a block-aligned start) and fails when an allocated HugeTLB page
    /// found there reaches past `boundary`, because such a page would have to be migrated or
    /// replaced first and `isolate_or_dissolve_huge_page` refuses gigantic pages (-ENOMEM),
    /// free or in use. Only gigantic pages can straddle a memory block's edge: offlining the
    /// first or a middle block of a 1 GiB page is EBUSY, the last one is not (a free page
    /// straddling the edge is merely split). Returns the straddling page's pfn, or nil.
    func compoundPageStraddling(_ boundary: PFN, isolateBefore: Bool) -> PFN? {
        let pageblock = isolateBefore ? boundary - Geometry.pageblockPages : boundary
        let windowStart = pageblock & ~(Geometry.maxOrderPages - 1)
        guard boundary > windowStart, boundary <= memmap.pfnCount, zoneIndex(ofPFN: boundary - 1) != nil else {
            return nil
        }
        let last = boundary - 1
        let head = memmap.head(of: last)
        guard memmap.kind(head) == .hugetlb, head + (1 << memmap.order(head)) > boundary else { return nil }
        return last
    }

    /// `undo_isolate_page_range(..., MIGRATE_MOVABLE)`.
    func undoIsolatePageRange(_ range: PFNRange, zone z: Int) {
        var pb = range.start
        while pb < range.end { unisolatePageblock(pb, zone: z, to: .movable); pb += Geometry.pageblockPages }
    }

    /// `test_pages_isolated(MEMORY_OFFLINE)`: every pageblock isolated and every page free.
    /// Returns the first pfn that is not, or nil. With `memoryOffline`, PageOffline pages
    /// whose driver dropped its reference in MEM_GOING_OFFLINE (page_count 0) count as done.
    func testPagesIsolated(_ range: PFNRange, memoryOffline: Bool = false) -> PFN? {
        var pb = range.start
        while pb < range.end {
            if pageblockMigrateType(pb) != .isolate { return pb }
            pb += Geometry.pageblockPages
        }
        var pfn = range.start
        while pfn < range.end {
            if memoryOffline && memmap.kind(pfn) == .reserved && memmap.pageOffline.isUnreferenced(pfn) {
                pfn += 1; continue
            }
            guard memmap.kind(pfn) == .buddy else { return pfn }
            pfn += 1 << memmap.order(pfn)
        }
        return nil
    }
}

extension PageKind {
    /// On an LRU list (PageLRU): what migration can isolate. Pinned pages and ramfs pages are
    /// LRU pages too; they just never migrate.
    public var isLRU: Bool {
        switch self {
        case .anon, .pageCache, .shmem, .ramfs, .pinned: true
        default: false
        }
    }
}
