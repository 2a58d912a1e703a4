/// The buddy allocator of mm/page_alloc.c: free lists by order and migratetype, splitting
/// and merging, pageblock stealing, the per-cpu lists, and the zonelist walk with
/// watermarks. Reclaim and OOM live in Reclaim.swift.
extension Machine {
    // MARK: Free-list primitives (every free buddy block: head `.buddy`, the rest `.buddyTail`)

    /// `add_to_free_list` (at the head) or, with `tail`, `add_to_free_list_tail`.
    @inline(__always) func addToFreeList(_ z: Int, _ pfn: PFN, order: Int, mt: MigrateType, tail: Bool = false) {
        let node = zones[z].fast.freeAdd(Zone.listIndex(order, mt), pfn, tail: tail)
        memmap.setEntry(pfn, kind: .buddy, order: order, owner: Int(mt.rawValue), link: node)
        zones[z].freePages += 1 << order
    }

    /// `del_page_from_free_list`: unlinks a free buddy head (the others keep their order);
    /// the caller decides what its pages become.
    @inline(__always) func removeFromFreeList(_ z: Int, _ pfn: PFN) {
        let e = memmap.entry(pfn)
        let order = Int(e.order)
        zones[z].fast.freeRemove(order * 5 + Int(e.owner), node: Int(e.link))
        zones[z].freePages -= 1 << order
    }

    /// `move_to_free_list`: a free head changes migratetype list, to its tail (6.1's
    /// `list_move_tail`: moved pages are not the next ones allocated).
    func moveToFreeList(_ z: Int, _ pfn: PFN, mt: MigrateType) {
        let e = memmap.entry(pfn)
        let order = Int(e.order)
        zones[z].fast.freeMoveTail(order * 5 + Int(e.owner), node: Int(e.link), to: Zone.listIndex(order, mt))
        memmap.setOwner(pfn, Int(mt.rawValue))
    }

    /// `__free_one_page`: merge with free buddies as far as possible, then queue the block at
    /// the tail when `toTail` (FPI_TO_TAIL) or when `buddy_merge_likely` says the merged
    /// block's parent has a free buddy (so this one may soon merge too), else at the head.
    /// (`is_shuffle_order` is false: page_alloc.shuffle is off on the guests modelled.)
    /// The block's non-head pages must already be `buddyTail`.
    func freeOneBlock(_ z: Int, _ pfn: PFN, order: Int, mt: MigrateType, toTail: Bool = false) {
        var pfn = pfn, order = order
        while order < Geometry.maxOrder - 1 {
            let buddy = pfn ^ (1 << order)
            guard buddy < memmap.pfnCount, memmap.kind(buddy) == .buddy, memmap.order(buddy) == order,
                zoneIndex(ofPFN: buddy) == z
            else { break }
            if order >= Geometry.pageblockOrder {
                let buddyMT = pageblockMigrateType(buddy)
                if buddyMT != mt && (!buddyMT.isMergeable || !mt.isMergeable) { break }
            }
            removeFromFreeList(z, buddy)
            let combined = buddy & pfn
            memmap.setKind(combined == pfn ? buddy : pfn, .buddyTail)
            pfn = combined
            order += 1
        }
        addToFreeList(z, pfn, order: order, mt: mt, tail: toTail || buddyMergeLikely(z, pfn, order: order))
    }

    /// `buddy_merge_likely`: below MAX_ORDER-2, is the buddy of the block's order+1 parent a
    /// free block of that order (`find_buddy_page_pfn`: PageBuddy, order, same zone)?
    @inline(__always) func buddyMergeLikely(_ z: Int, _ pfn: PFN, order: Int) -> Bool {
        guard order < Geometry.maxOrder - 2 else { return false }
        let higher = (pfn & ~(1 << order)) ^ (1 << (order + 1))
        return higher < memmap.pfnCount && memmap.kind(higher) == .buddy && memmap.order(higher) == order + 1
            && zoneIndex(ofPFN: higher) == z
    }

    @inline(__always) func markBuddyTails(_ pfn: PFN, order: Int) {
        memmap.fill(PFNRange(start: pfn + 1, count: (1 << order) - 1), kind: .buddyTail, release: false)
    }

    /// `expand`: split a block taken at order `high` down to `low`, returning the upper halves.
    @inline(__always) func expand(_ z: Int, _ pfn: PFN, low: Int, high: Int, mt: MigrateType) {
        var high = high
        var size = 1 << high
        while high > low {
            high -= 1
            size >>= 1
            addToFreeList(z, pfn + size, order: high, mt: mt)
        }
    }

    /// `__rmqueue_smallest`.
    func rmqueueSmallest(_ z: Int, order: Int, mt: MigrateType) -> PFN? {
        var o = order
        let store = zones[z].fast
        while o < Geometry.maxOrder {
            if let pfn = store.freeFirst(Zone.listIndex(o, mt)) {
                removeFromFreeList(z, pfn)
                expand(z, pfn, low: order, high: o, mt: mt)
                memmap.setOrder(pfn, order)
                return pfn
            }
            o += 1
        }
        return nil
    }

    static let fallbacks: [[MigrateType]] = [
        [.reclaimable, .movable],  // unmovable
        [.reclaimable, .unmovable],  // movable
        [.unmovable, .movable]  // reclaimable
    ]

    /// `find_suitable_fallback` + `can_steal_fallback`.
    func findFallback(_ z: Int, order: Int, start: MigrateType) -> (MigrateType, Bool)? {
        let store = zones[z].fast
        for fb in Machine.fallbacks[Int(start.rawValue)] where store.freeCount(Zone.listIndex(order, fb)) > 0 {
            let canSteal = order >= Geometry.pageblockOrder / 2 || start == .reclaimable || start == .unmovable
            return (fb, canSteal)
        }
        return nil
    }

    /// `__rmqueue_fallback`: steal the largest block of another type, and maybe its pageblock.
    /// With ALLOC_NOFRAGMENT only whole pageblocks are stolen (`min_order`).
    func rmqueueFallback(_ z: Int, order: Int, start: MigrateType, noFragment: Bool = false) -> Bool {
        var found: (order: Int, mt: MigrateType, steal: Bool)?
        let minOrder = noFragment && order < Geometry.pageblockOrder ? Geometry.pageblockOrder : order
        var o = Geometry.maxOrder - 1
        while o >= minOrder {
            if let (fb, canSteal) = findFallback(z, order: o, start: start) {
                if !canSteal && start == .movable && o > order {
                    // find_smallest: take the smallest block that fits instead.
                    for so in order..<Geometry.maxOrder {
                        if let (fb2, steal2) = findFallback(z, order: so, start: start) {
                            found = (so, fb2, steal2); break
                        }
                    }
                } else {
                    found = (o, fb, canSteal)
                }
                break
            }
            o -= 1
        }
        guard let f = found, let head = zones[z].fast.freeFirst(Zone.listIndex(f.order, f.mt)) else { return false }
        stealFallback(z, head, order: f.order, start: start, wholeBlock: f.steal)
        return true
    }

    /// `steal_suitable_fallback`.
    func stealFallback(_ z: Int, _ pfn: PFN, order: Int, start: MigrateType, wholeBlock: Bool) {
        let old = pageblockMigrateType(pfn)
        if old == .highAtomic { moveToFreeList(z, pfn, mt: start); return }
        if order >= Geometry.pageblockOrder {
            var p = pfn
            while p < pfn + (1 << order) { setPageblockMigrateType(p, start); p += Geometry.pageblockPages }
            moveToFreeList(z, pfn, mt: start); return
        }
        boostOnFallback(z, order: order)
        guard wholeBlock else { moveToFreeList(z, pfn, mt: start); return }
        let (freePages, movablePages) = moveFreePagesBlock(z, pfn, to: start)
        let alike: Int
        if start == .movable {
            alike = movablePages
        } else if old == .movable {
            alike = Geometry.pageblockPages - (freePages + movablePages)
        } else {
            alike = 0
        }
        if freePages == 0 { moveToFreeList(z, pfn, mt: start); return }
        if freePages + alike >= Geometry.pageblockPages / 2 { setPageblockMigrateType(pfn, start) }
    }

    /// `move_freepages_block`: move every free block of the pageblock to `mt`'s lists.
    /// Returns the free pages moved and the movable (LRU) pages seen.
    @discardableResult
    func moveFreePagesBlock(_ z: Int, _ pfn: PFN, to mt: MigrateType) -> (free: Int, movable: Int) {
        let start = pfn & ~(Geometry.pageblockPages - 1)
        var p = start, moved = 0, movable = 0
        while p < start + Geometry.pageblockPages {
            let k = memmap.kind(p)
            if k == .buddy {
                let o = memmap.order(p)
                if o >= Geometry.pageblockOrder { return (moved, movable) }
                moveToFreeList(z, p, mt: mt)
                moved += 1 << o
                p += 1 << o
                continue
            }
            if k.isMigratable { movable += 1 }
            p += 1
        }
        return (moved, movable)
    }

    /// `__rmqueue`: the type's own lists, else steal from another type.
    func rmqueueBuddy(_ z: Int, order: Int, mt: MigrateType, noFragment: Bool = false) -> PFN? {
        if let pfn = rmqueueSmallest(z, order: order, mt: mt) { return pfn }
        while rmqueueFallback(z, order: order, start: mt, noFragment: noFragment) {
            if let pfn = rmqueueSmallest(z, order: order, mt: mt) { return pfn }
        }
        return nil
    }

    // MARK: Per-cpu lists

    @inline(__always) static func pcpAllowed(order: Int) -> Bool { order <= 3 || order == Geometry.pageblockOrder }

    /// `rmqueue_pcplist`: take from the per-cpu list, refilling it in batches from the buddy.
    func rmqueuePCP(_ z: Int, order: Int, mt: MigrateType, noFragment: Bool = false) -> PFN? {
        let li = PerCPUPages.index(order: order, migrateType: mt)!
        let store = zones[z].fast
        zones[z].pcp.freeFactor >>= 1
        if store.pcpCount(li) == 0 {
            var batch = zones[z].pcp.batch
            if batch > 1 { batch = max(batch >> order, 2) }
            rmqueueBulk(z, order: order, mt: mt, count: batch, noFragment: noFragment)
            if store.pcpCount(li) == 0 { return nil }
        }
        let pfn = Int(store.pcpRemoveFirst(li))
        zones[z].pcp.count -= 1 << order
        return pfn
    }

    /// `rmqueue_bulk`: move up to `count` blocks of `order` from the buddy lists (stealing as
    /// `__rmqueue` does) to the tail of the per-cpu list of `mt`.
    func rmqueueBulk(_ z: Int, order: Int, mt: MigrateType, count: Int, noFragment: Bool = false) {
        let li = PerCPUPages.index(order: order, migrateType: mt)!
        let store = zones[z].fast
        for _ in 0..<count {
            guard let pfn = rmqueueBuddy(z, order: order, mt: mt, noFragment: noFragment) else { break }
            memmap.setKind(pfn, .pcp)
            memmap.setOrder(pfn, order)
            memmap.setOwner(pfn, Int(mt.rawValue))
            store.pcpAppend(li, pfn)
            zones[z].pcp.count += 1 << order
        }
    }

    /// `free_unref_page_commit`: queue on the pcp list, draining a batch when above `high`.
    func freeToPCP(_ z: Int, _ pfn: PFN, order: Int, mt: MigrateType) {
        let li = PerCPUPages.index(order: order, migrateType: mt)!
        if order > 0 { markBuddyTails(pfn, order: order) }
        memmap.setKind(pfn, .pcp)
        memmap.setOrder(pfn, order)
        memmap.setOwner(pfn, Int(mt.rawValue))
        zones[z].fast.pcpPrepend(li, pfn)
        zones[z].pcp.count += 1 << order
        let pcp = zones[z].pcp
        let freeHigh = pcp.freeFactor > 0 && order > 0 && order <= 3
        let high = nrPCPHigh(z, freeHigh: freeHigh)
        if pcp.count >= high {
            freePCPBulk(z, count: nrPCPFree(z, high: high, freeHigh: freeHigh), startList: li)
        }
    }

    func nrPCPFree(_ z: Int, high: Int, freeHigh: Bool) -> Int {
        if freeHigh { return zones[z].pcp.count }
        let batch = zones[z].pcp.batch
        if high < batch { return 1 }
        let minFree = batch, maxFree = high - batch
        var n = batch << zones[z].pcp.freeFactor
        if n < maxFree && zones[z].pcp.freeFactor < Machine.pcpBatchScaleMax { zones[z].pcp.freeFactor += 1 }
        n = Swift.min(Swift.max(n, minFree), Swift.max(maxFree, minFree))
        return n
    }

    /// `free_pcppages_bulk`: return pages to the buddy round robin over the lists, oldest first.
    func freePCPBulk(_ z: Int, count: Int, startList: Int = 0) {
        var count = Swift.min(count, zones[z].pcp.count)
        var li = startList - 1
        let store = zones[z].fast
        while count > 0 {
            repeat { li += 1; if li >= PerCPUPages.listCount { li = 0 } } while store.pcpCount(li) == 0
            let order = PerCPUPages.order(ofIndex: li)
            repeat {
                let pfn = Int(store.pcpRemoveLast(li))
                var mt = MigrateType(rawValue: UInt8(memmap.owner(pfn)))!
                count -= 1 << order
                zones[z].pcp.count -= 1 << order
                if zones[z].nrIsolatePageblock > 0 { mt = pageblockMigrateType(pfn) }
                freeOneBlock(z, pfn, order: order, mt: mt)
            } while count > 0 && store.pcpCount(li) > 0
        }
    }

    /// CONFIG_PCP_BATCH_SCALE_MAX (Debian 12: the default, 5): the most `free_factor` grows,
    /// and the batches (`batch << 5`) a drain frees at a time.
    static let pcpBatchScaleMax = 5

    /// `drain_pages_zone` (`drain_all_pages`, `zone_pcp_disable`): everything on the zone's
    /// pcp lists back to the buddy, in rounds of at most `batch << 5` pages, each round
    /// starting again from the first list.
    public func drainPCP(zone z: Int) {
        while zones[z].pcp.count > 0 {
            freePCPBulk(z, count: Swift.min(zones[z].pcp.count, zones[z].pcp.batch << Machine.pcpBatchScaleMax))
        }
    }
    public func drainAllPCP() { for z in zones.indices { drainPCP(zone: z) } }

    // MARK: Allocation and free of a block

    /// `rmqueue`: one block of `order` from zone `z`, no watermark check.
    func rmqueue(_ z: Int, order: Int, mt: MigrateType, noFragment: Bool = false) -> PFN? {
        if Machine.pcpAllowed(order: order) && zones[z].pcp.high > 0 {
            return rmqueuePCP(z, order: order, mt: mt, noFragment: noFragment)
        }
        return rmqueueBuddy(z, order: order, mt: mt, noFragment: noFragment)
    }

    /// `__zone_watermark_ok`.
    public func zoneWatermarkOK(_ z: Int, order: Int, mark: Int, highestZone: ZoneType, allocHigh: Bool = false) -> Bool
    {
        var minMark = mark
        if allocHigh { minMark -= minMark / 2 }
        let free = zones[z].freePages - ((1 << order) - 1)
        if free <= minMark + zones[z].lowmemReserve[highestZone.rawValue] { return false }
        if order == 0 { return true }
        let store = zones[z].fast
        for o in order..<Geometry.maxOrder {
            for mt in MigrateType.pcpTypes where store.freeCount(Zone.listIndex(o, mt)) > 0 { return true }
        }
        return false
    }

    public enum WatermarkLevel: Sendable { case min, low, high, none }

    func mark(_ z: Int, _ level: WatermarkLevel) -> Int {
        switch level {
        case .min: zones[z].watermark.min
        case .low: zones[z].watermark.low
        case .high: zones[z].watermark.high
        case .none: 0
        }
    }

    /// The zones an allocation may use, in the order `get_page_from_freelist` tries them.
    func zonelist(gfp: GFP, node: Int) -> [Int] {
        nodes[node].zonelistsByZone[gfp.highestZone.rawValue][gfp.contains(.thisnode) ? 1 : 0]
    }

    /// `get_page_from_freelist`: the first zone whose watermark allows the allocation.
    /// The fast path (`level == .low`) carries ALLOC_NOFRAGMENT when `alloc_flags_nofragment`
    /// gives it; the slow path's `gfp_to_alloc_flags` does not.
    func getPageFromFreelist(order: Int, gfp: GFP, zonelist: [Int], level: WatermarkLevel) -> (PFN, Int)? {
        let mt = gfp.migrateType
        var noFragment = level == .low && allocNoFragment(zonelist: zonelist)
        let preferredNode = zonelist.first.map { zones[$0].node } ?? 0
        // ac.preferred_zoneref: the first zone of the (nodemask-filtered) zonelist with pages.
        let preferredZone = zonelist.first { zones[$0].managedPages > 0 } ?? zonelist.first ?? 0
        retry: while true {
            for z in zonelist where zones[z].managedPages > 0 {
                // Moving to a remote node: locality beats fragmentation avoidance.
                if noFragment && onlineNodeCount > 1 && zones[z].node != preferredNode {
                    noFragment = false
                    continue retry
                }
                if level != .none
                    && !zoneWatermarkOK(z, order: order, mark: mark(z, level), highestZone: gfp.highestZone)
                {
                    continue
                }
                let page = rmqueue(z, order: order, mt: mt, noFragment: noFragment)
                rmqueueBoostCheck(z, gfp: gfp)
                if let pfn = page {
                    zoneStatistics(z, preferredZone: preferredZone)
                    return (pfn, z)
                }
            }
            guard noFragment else { return nil }
            noFragment = false
        }
    }

    /// `alloc_flags_nofragment`: an allocation whose preferred zone is ZONE_NORMAL, with DMA32
    /// populated below it (assumed on one node), steals only whole pageblocks from other
    /// migratetypes (`__rmqueue_fallback`'s `min_order`).
    func allocNoFragment(zonelist: [Int]) -> Bool {
        guard let pz = zonelist.first(where: { zones[$0].presentPages > 0 }), zones[pz].type == .normal else {
            return false
        }
        if onlineNodeCount > 1 && !zones[zoneIndex(node: zones[pz].node, type: .dma32)].isPopulated { return false }
        return true
    }

    /// `nr_online_nodes`.
    var onlineNodeCount: Int { nodes.reduce(0) { $0 + ($1.exists ? 1 : 0) } }

    /// Mark an allocated block: head carries kind and order, the rest are tails.
    @inline(__always) func markAllocated(_ pfn: PFN, order: Int, kind: PageKind, z: Int) {
        memmap.setKind(pfn, kind)
        memmap.setOrder(pfn, order)
        memmap.setOwner(pfn, 0)
        if order > 0 { memmap.fill(PFNRange(start: pfn + 1, count: (1 << order) - 1), kind: .tail, release: false) }
        zones[z].kindPages[Int(kind.rawValue)] += 1 << order
    }

    /// Allocate a block (`__alloc_pages`), without an owner. The fast path uses the low
    /// watermark; the slow path the min watermark, then reclaim, then OOM as the flags allow.
    /// Returns the head pfn, or nil when the kernel's allocation would fail.
    public func allocPages(order: Int, gfp: GFP, node preferred: Int, kind: PageKind, nodemask: Set<Int>? = nil) -> PFN?
    {
        precondition(order >= 0 && order < Geometry.maxOrder)
        return allocPages(
            order: order, gfp: gfp, zonelist: zonelist(gfp: gfp, node: preferred, nodemask: nodemask), kind: kind)?
            .pfn
    }

    /// The zones `__alloc_pages` walks for a preferred node and nodemask
    /// (`for_each_zone_zonelist_nodemask`). Computed once by callers that allocate many blocks
    /// (the zonelists change only when a zone gains or loses its first pages: build_all_zonelists).
    func zonelist(gfp: GFP, node preferred: Int, nodemask: Set<Int>?) -> [Int] {
        let node = nodes.indices.contains(preferred) ? preferred : 0
        let list = zonelist(gfp: gfp, node: node)
        guard let mask = nodemask else { return list }
        return list.filter { mask.contains(zones[$0].node) }
    }

    /// `__alloc_pages` on a prepared zonelist. `zone` is where the fast path (low watermark)
    /// found the block, nil when it came from the slow path.
    func allocPages(order: Int, gfp: GFP, zonelist list: [Int], kind: PageKind) -> (pfn: PFN, zone: Int?)? {
        if let (pfn, z) = getPageFromFreelist(order: order, gfp: gfp, zonelist: list, level: .low) {
            markAllocated(pfn, order: order, kind: kind, z: z)
            // A fallback steal that boosted the zone's watermark woke kswapd (rmqueue).
            runKswapds()
            return (pfn, z)
        }
        let pfn = allocPagesSlowpath(order: order, gfp: gfp, zonelist: list, kind: kind)
        runKswapds()
        return pfn.map { ($0, nil) }
    }

    /// `rmqueue_pcplist` while its list is not empty, for a run of allocations that the fast
    /// path just served from zone `z`'s pcp list: `get_page_from_freelist` would pick `z` again
    /// for each (the zones before it are unchanged, and taking pcp pages does not move
    /// NR_FREE_PAGES, so one low-watermark check holds for all). Takes up to `max` blocks,
    /// calling `take` with each head in the order single allocations would return them; stops
    /// where the list runs dry (the next allocation refills it through the full path).
    func allocFromPCPRun(
        _ z: Int, order: Int, gfp: GFP, kind: PageKind, max: Int, preferredZone pz: Int? = nil, take: (PFN) -> Void
    ) -> Int {
        guard max > 0, Machine.pcpAllowed(order: order), zones[z].pcp.high > 0,
            let li = PerCPUPages.index(order: order, migrateType: gfp.migrateType)
        else { return 0 }
        let store = zones[z].fast
        let n = Swift.min(max, store.pcpCount(li))
        guard n > 0, zoneWatermarkOK(z, order: order, mark: mark(z, .low), highestZone: gfp.highestZone) else {
            return 0
        }
        // Each is one rmqueue call, counted by zone_statistics against the zonelist's
        // preferred zone (the caller's; `z` itself when it does not say).
        let preferredZone = pz ?? z
        for _ in 0..<n {
            zoneStatistics(z, preferredZone: preferredZone)
            zones[z].pcp.freeFactor >>= 1
            let pfn = Int(store.pcpRemoveFirst(li))
            zones[z].pcp.count -= 1 << order
            markAllocated(pfn, order: order, kind: kind, z: z)
            take(pfn)
        }
        return n
    }

    /// Free a block allocated with `allocPages` (`__free_pages`). Owner bookkeeping is the caller's.
    public func freePages(_ pfn: PFN, order: Int) {
        guard let z = zoneIndex(ofPFN: pfn) else { preconditionFailure("freeing absent pfn \(pfn)") }
        let kind = memmap.kind(pfn)
        precondition(kind.isAllocated, "freeing a page that is not allocated: pfn \(pfn) \(kind)")
        zones[z].kindPages[Int(kind.rawValue)] -= 1 << order
        let mt = pageblockMigrateType(pfn)
        if Machine.pcpAllowed(order: order) && zones[z].pcp.high > 0 && mt != .isolate {
            freeToPCP(z, pfn, order: order, mt: mt == .highAtomic ? .movable : mt)
        } else {
            if order > 0 { markBuddyTails(pfn, order: order) }
            freeOneBlock(z, pfn, order: order, mt: mt)
        }
    }
}

extension MigrateType {
    /// `migratetype_is_mergeable`: only the pcp types merge across pageblocks.
    var isMergeable: Bool { rawValue < MigrateType.highAtomic.rawValue }
}
