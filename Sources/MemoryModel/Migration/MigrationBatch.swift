/// `do_migrate_range` over a run of order-0 LRU pages in one go.
///
/// Page by page, `migrate_pages` allocates each target (`alloc_migration_target` →
/// `get_page_from_freelist`: a pcp list, refilled from the buddy), moves the owner's list
/// entry to it and frees the source into its isolated pageblock, where `__free_one_page` merges
/// it with its buddies. For a run of pages those three steps touch disjoint state (the targets'
/// zone, the owners, the source zone), so the batch does each for the whole run: the targets
/// one pcp refill at a time, carved from the lowest free block as `__rmqueue_smallest` splits
/// it; the owners' entries with one uniqueness check; the sources as whole aligned buddy blocks.
/// The result is the page-by-page one — the same targets in the same order, the same free and
/// pcp lists in the same order, the same counters (BatchMigrationTests compares both on several
/// machines). Whatever the batch cannot prove (a watermark that would fail, a zone without pcp
/// lists, a refill that finds nothing, the slow path) it leaves to the page-by-page path.
extension Machine {
    /// The longest run migrated at once (bounds the batch's buffers).
    static let migrationBatchPages = 4096

    /// Migrate the run of order-0 anon/page-cache/shmem pages that starts at `start` (up to
    /// `end`), as far as the batch can: returns the pages migrated, 0 when the next one needs the
    /// page-by-page path (`migrateLRUPage`).
    func migrateRun(from start: PFN, end: PFN, zone z: Int, gfp: GFP, zonelist list: [Int]) -> Int {
        guard let plan = migrationBatchPlan(sourceZone: z, gfp: gfp, zonelist: list) else { return 0 }
        // Targets in the source zone itself: its sources must go to isolated pageblocks, whose
        // lists the targets are never taken from.
        let sameZone = plan.zone == z
        var n = 0
        let stop = Swift.min(end, start + Swift.min(plan.limit, Machine.migrationBatchPages))
        while start + n < stop {
            let p = start + n
            let k = memmap.kind(p)
            guard k == .anon || k == .pageCache || k == .shmem, memmap.order(p) == 0, zoneIndex(ofPFN: p) == z,
                !sameZone || pageblockMigrateType(p) == .isolate
            else { break }
            n += 1
        }
        guard n > 0 else { return 0 }
        var targets: [PFN] = []
        targets.reserveCapacity(n)
        if plan.pcp {
            guard takeMigrationTargets(n, gfp: gfp, zonelist: list, into: &targets) == plan.zone else { return 0 }
        } else {
            takeBuddyTargets(n, zone: plan.zone, mt: gfp.migrateType, into: &targets)
        }
        let m = targets.count
        guard m > 0 else { return 0 }
        targets.withUnsafeBufferPointer { moveOwnerEntries(from: start, to: $0, targetZone: plan.zone) }
        freeMigratedRun(PFNRange(start: start, count: m), zone: z)
        // migrate_pages' cond_resched after the sources are freed.
        runKswapds()
        return m
    }

    /// Where the next allocations of a batch come from: the zone `get_page_from_freelist` would
    /// take the next page from, how many allocations in a row it would keep taking them there
    /// as the batch does, and whether from its pcp list or (a zone without pcp lists: the
    /// source zone while it is offlined) from the buddy. The zones before it fail their low
    /// watermark and stay failing, except the source zone, which gains a free page with every
    /// source freed, so its headroom caps the run. nil: the next page goes page by page.
    func migrationBatchPlan(sourceZone src: Int, gfp: GFP, zonelist list: [Int]) -> (zone: Int, limit: Int, pcp: Bool)?
    {
        let mt = gfp.migrateType
        guard let li = PerCPUPages.index(order: 0, migrateType: mt) else { return nil }
        let highest = gfp.highestZone
        var limit = Int.max
        for z in list where zones[z].managedPages > 0 {
            let threshold = mark(z, .low) + zones[z].lowmemReserve[highest.rawValue]
            if zones[z].freePages <= threshold {
                // The source zone's frees go to the buddy one page at a time only without pcp
                // lists; otherwise leave it to the page-by-page path.
                if z == src {
                    guard zones[z].pcp.high == 0 else { return nil }
                    limit = threshold - zones[z].freePages + 1
                }
                continue
            }
            if zones[z].pcp.high > 0 {
                guard z != src, zones[z].fast.pcpCount(li) > 0 || hasFreeBlock(z, mt) else { return nil }
                return (z, limit, true)
            }
            // Every allocation takes a page from the buddy: NR_FREE_PAGES falls by one each,
            // except in the source zone, where the source freed before the next allocation
            // gives the page back, so the watermark holds for the whole run.
            guard hasFreeBlock(z, mt) else { return nil }
            return (z, Swift.min(limit, z == src ? Int.max : zones[z].freePages - threshold), false)
        }
        return nil
    }

    /// Some free block of `mt` in zone `z` (`__rmqueue_smallest` would not fail).
    func hasFreeBlock(_ z: Int, _ mt: MigrateType) -> Bool {
        let store = zones[z].fast
        for o in 0..<Geometry.maxOrder where store.freeCount(Zone.listIndex(o, mt)) > 0 { return true }
        return false
    }

    /// Up to `count` order-0 targets, exactly as `count` successive fast-path allocations
    /// (`get_page_from_freelist` at the low watermark, `rmqueue_pcplist`) return them, while
    /// they come from the pcp list of the zone `migrationBatchPlan` found. Stops before an
    /// allocation it cannot prove. Returns that zone; the caller marks the targets.
    func takeMigrationTargets(_ count: Int, gfp: GFP, zonelist list: [Int], into out: inout [PFN]) -> Int? {
        let mt = gfp.migrateType
        guard let li = PerCPUPages.index(order: 0, migrateType: mt) else { return nil }
        let highest = gfp.highestZone
        guard
            let z = list.first(where: {
                zones[$0].managedPages > 0 && zoneWatermarkOK($0, order: 0, mark: mark($0, .low), highestZone: highest)
            })
        else { return nil }
        // get_page_from_freelist's ALLOC_NOFRAGMENT as it stands when it reaches `z`: dropped
        // at the first zone of a remote node on the way.
        var noFragment = allocNoFragment(zonelist: list)
        if noFragment && onlineNodeCount > 1 {
            let preferred = list.first.map { zones[$0].node } ?? 0
            for y in list where zones[y].managedPages > 0 {
                if zones[y].node != preferred { noFragment = false }
                if y == z || !noFragment { break }
            }
        }
        let store = zones[z].fast
        var checked = true
        while out.count < count {
            // NR_FREE_PAGES moves only on a refill: the low watermark holds until the next one.
            if !checked {
                guard zoneWatermarkOK(z, order: 0, mark: mark(z, .low), highestZone: highest) else { break }
                checked = true
            }
            let queued = store.pcpCount(li)
            if queued > 0 {
                let t = Swift.min(count - out.count, queued)
                for _ in 0..<t { out.append(store.pcpRemoveFirst(li)) }
                zones[z].pcp.count -= t
                zones[z].pcp.freeFactor >>= t
                continue
            }
            // A refill that found nothing would send get_page_from_freelist on to the next zone.
            guard hasFreeBlock(z, mt) else { break }
            zones[z].pcp.freeFactor >>= 1
            refillPCPOrder0(z, mt: mt, li: li, noFragment: noFragment)
            out.append(store.pcpRemoveFirst(li))
            zones[z].pcp.count -= 1
            checked = false
            // A refill's steal boosted the watermark and woke kswapd: it runs before the
            // next allocation (migrateRun), so the batch ends with this page.
            if zones[z].boostedWatermark {
                rmqueueBoostCheck(z, gfp: gfp)
                break
            }
        }
        return z
    }

    /// The next pages `__rmqueue_smallest(zone, 0, mt)` returns, up to `max` of them: it takes
    /// the lowest-order free block of `mt` and splits it, leaving the rest on the (empty) lower
    /// lists, so the next ones are that block's pages in ascending order. Takes the block, queues
    /// what is left as the canonical buddy split of the remainder, and returns the block's head
    /// and the pages taken (its head keeps its `link`; the others' links mean nothing once
    /// taken). nil when no list of `mt` has a block (`__rmqueue` would steal). The remainder's
    /// lists were empty, so head or tail is the same there.
    func carveFreeBlock(_ z: Int, mt: MigrateType, max: Int) -> (head: PFN, count: Int)? {
        let store = zones[z].fast
        var o = 0
        while o < Geometry.maxOrder && store.freeCount(Zone.listIndex(o, mt)) == 0 { o += 1 }
        guard o < Geometry.maxOrder else { return nil }
        let b = store.freeFirst(Zone.listIndex(o, mt))!
        removeFromFreeList(z, b)
        let size = 1 << o
        let k = Swift.min(max, size)
        var p = b + k
        while p < b + size {
            let ord = (p - b).trailingZeroBitCount
            addToFreeList(z, p, order: ord, mt: mt)
            p += 1 << ord
        }
        return (b, k)
    }

    /// `rmqueue_pcplist`'s refill of an empty order-0 list: `batch` pages from `__rmqueue`,
    /// appended in the order it returns them, carved a block at a time; without a block of
    /// `mt`, `__rmqueue` (with its fallback steal) is called as is.
    func refillPCPOrder0(_ z: Int, mt: MigrateType, li: Int, noFragment: Bool) {
        let store = zones[z].fast
        let want = zones[z].pcp.batch
        let owner = Int(mt.rawValue)
        var got = 0
        while got < want {
            guard let (b, k) = carveFreeBlock(z, mt: mt, max: want - got) else {
                guard let pfn = rmqueueBuddy(z, order: 0, mt: mt, noFragment: noFragment) else { break }
                memmap.setHead(pfn, kind: .pcp, order: 0, owner: owner)
                store.pcpAppend(li, pfn)
                got += 1
                continue
            }
            memmap.setHead(b, kind: .pcp, order: 0, owner: owner)
            store.pcpAppend(li, b)
            for i in 1..<k {
                memmap.setEntry(b + i, kind: .pcp, order: 0, owner: owner, link: 0)
                store.pcpAppend(li, b + i)
            }
            got += k
        }
        zones[z].pcp.count += got
    }

    /// `count` successive `__rmqueue_smallest` allocations from a zone without pcp lists (the
    /// caller has checked the watermark for all of them), stopping where `__rmqueue` would
    /// have to steal.
    func takeBuddyTargets(_ count: Int, zone z: Int, mt: MigrateType, into out: inout [PFN]) {
        while out.count < count, let (b, k) = carveFreeBlock(z, mt: mt, max: count - out.count) {
            memmap.setOrder(b, 0)
            out.append(b)
            for i in 1..<k {
                memmap.setLink(b + i, 0)
                out.append(b + i)
            }
        }
    }

    /// `markAllocated` and `transferBlock` for each source `start + i` and its target, the
    /// owner lists written with one uniqueness check per owner's run.
    func moveOwnerEntries(from start: PFN, to targets: UnsafeBufferPointer<PFN>, targetZone tz: Int) {
        var moved = [Int](repeating: 0, count: PageKind.allCases.count)
        var positions = [Int](repeating: 0, count: targets.count)
        var i = 0
        while i < targets.count {
            let id = memmap.owner(start + i)
            if id == 0 {
                let kind = memmap.kind(start + i)
                moved[Int(kind.rawValue)] += 1
                memmap.setHead(targets[i], kind: kind, order: 0, owner: 0)
                i += 1
                continue
            }
            var j = i
            while j < targets.count && memmap.owner(start + j) == id {
                let s = start + j
                let kind = memmap.kind(s)
                let pos = memmap.link(s)
                moved[Int(kind.rawValue)] += 1
                positions[j] = pos
                memmap.setEntry(targets[j], kind: kind, order: 0, owner: id, link: pos)
                memmap.setOwner(s, 0)
                j += 1
            }
            positions.withUnsafeBufferPointer { pos in
                owners.slots[id]!.blocks.assign(
                    UnsafeBufferPointer(rebasing: targets[i..<j]), at: UnsafeBufferPointer(rebasing: pos[i..<j]))
            }
            if owners.slots[id]!.zoneSummary != nil {
                let bit = BlockZoneSummary.bit(tz)
                for k in i..<j { owners.slots[id]!.zoneSummary!.mark(positions[k], bit) }
            }
            if owners.slots[id]!.reclaimable { owners.reclaimableGeneration &+= UInt64(j - i) }
            i = j
        }
        for k in moved.indices where moved[k] != 0 { zones[tz].kindPages[k] += moved[k] }
    }

    /// `freePages` of every page of `run` (allocated order-0 heads, no owner), in ascending
    /// order. Freed one by one into the buddy, the pages of an aligned block merge among
    /// themselves on the tops of the free lists and leave nothing there but the block itself,
    /// which then merges outward: the same as freeing the block whole once its last page is
    /// free. So the run goes as its largest aligned blocks (at most a pageblock, whose
    /// migratetype `__free_one_page` checks above that order); pages a pcp list would take are
    /// freed one by one.
    func freeMigratedRun(_ run: PFNRange, zone z: Int) {
        var freed = [Int](repeating: 0, count: PageKind.allCases.count)
        var x = run.start
        while x < run.end {
            var ord = Swift.min(x.trailingZeroBitCount, Geometry.pageblockOrder)
            while x + (1 << ord) > run.end { ord -= 1 }
            let size = 1 << ord
            let mt = pageblockMigrateType(x)
            if zones[z].pcp.high > 0 && mt != .isolate {
                for p in x..<x + size { freePages(p, order: 0) }
            } else {
                for p in x..<x + size { freed[Int(memmap.kind(p).rawValue)] += 1 }
                if size > 1 { memmap.setKinds(PFNRange(start: x + 1, count: size - 1), .buddyTail) }
                freeOneBlock(z, x, order: ord, mt: mt)
            }
            x += size
        }
        for k in freed.indices where freed[k] != 0 { zones[z].kindPages[k] -= freed[k] }
    }
}
