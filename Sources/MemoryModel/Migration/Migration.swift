/// Page migration for memory offlining (mm/memory_hotplug.c `scan_movable_pages` and
/// `do_migrate_range`, mm/migrate.c `migrate_pages` with `alloc_migration_target`).
///
/// A page moves by allocating a target with GFP_USER|__GFP_MOVABLE|__GFP_RETRY_MAYFAIL
/// (plus __GFP_HIGHMEM when the source is in ZONE_MOVABLE, so the target may be Movable
/// too) on any other node with memory, or on the source node when it is the only one; the
/// owner's list entry moves to the target and the source is freed into its isolated pageblock.
extension Machine {
    /// What migrating one page can end in.
    enum MigrationResult { case migrated, failed, gone }

    /// `scan_movable_pages`: the first LRU page or in-use (migratable) HugeTLB page at or
    /// after `from`, nil (-ENOENT) when there is none.
    func scanMovablePages(from: PFN, end: PFN) -> PFN? {
        var pfn = from
        while pfn < end {
            let k = memmap.kind(pfn)
            if k.isLRU { return pfn }
            if k == .hugetlb {
                if hugePageIsMigratable(pfn) { return pfn }
                pfn += 1 << memmap.order(pfn)
                continue
            }
            if k == .buddy || k == .pcp || k.isAllocated { pfn += 1 << memmap.order(pfn); continue }
            if k == .tail || k == .buddyTail {
                let h = memmap.head(of: pfn)
                if h < pfn && memmap.kind(h).isLRU { return h >= from ? h : pfn }
                pfn = Swift.max(pfn + 1, h + (1 << memmap.order(h)))
                continue
            }
            pfn += 1
        }
        return nil
    }

    /// The nodes `do_migrate_range` allows as targets: every node with memory but the source,
    /// or the source alone when it is the only node with memory.
    func migrationTargetNodes(source: Int) -> Set<Int> {
        var nodesWithMemory = Set<Int>()
        for z in zones.indices where zones[z].presentPages > 0 { nodesWithMemory.insert(zones[z].node) }
        nodesWithMemory.remove(source)
        return nodesWithMemory.isEmpty ? [source] : nodesWithMemory
    }

    /// `do_migrate_range(start, end)`: try to migrate every LRU page and in-use HugeTLB page
    /// in the range once. Returns the pages migrated and the pages that failed.
    func doMigrateRange(_ range: PFNRange, zone z: Int) -> (migrated: Int, failed: Int) {
        let source = zones[z].node
        var gfp: GFP = [.user, .movable, .retryMayfail]
        if zones[z].type == .movable { gfp.insert(.highmem) }
        let allowed = migrationTargetNodes(source: source)
        // NR_FREE_PAGES does not count free pages in isolated pageblocks, so a zone whose free
        // memory is all isolated (the block being offlined) fails every watermark check.
        let list = zonelist(gfp: gfp, node: source).filter {
            allowed.contains(zones[$0].node) && zones[$0].freePages > isolatedFreePages($0)
        }
        var migrated = 0, failed = 0
        var pfn = range.start
        // Runs of order-0 LRU pages go in batches with the same result (MigrationBatch.swift).
        let batch = hotplug.batchMigration
        while pfn < range.end {
            let k = memmap.kind(pfn)
            if k.isLRU {
                if batch && k != .pinned && k != .ramfs {
                    let n = migrateRun(from: pfn, end: range.end, zone: z, gfp: gfp, zonelist: list)
                    if n > 0 {
                        migrated += n
                        hotplug.batchMigratedPages += n
                        pfn += n
                        continue
                    }
                }
                let order = memmap.order(pfn)
                switch migrateLRUPage(pfn, order: order, kind: k, gfp: gfp, zonelist: list) {
                case .migrated: migrated += 1 << order
                case .failed:
                    failed += 1 << order
                    warnMigrationFailure(pfn, kind: k)
                case .gone: break
                }
                pfn += 1 << order
            } else if k == .hugetlb {
                let order = memmap.order(pfn)
                if hugePageIsMigratable(pfn) {
                    if migrateInUseHugePage(pfn, targetNodes: allowed) {
                        migrated += 1 << order
                    } else {
                        failed += 1 << order
                    }
                }
                pfn += 1 << order
            } else if k == .buddy || k == .pcp || k.isAllocated {
                pfn += 1 << memmap.order(pfn)
            } else {
                pfn += 1
            }
        }
        vmstat.pgmigrateSuccess += migrated
        vmstat.pgmigrateFail += failed
        return (migrated, failed)
    }

    /// Free pages on the MIGRATE_ISOLATE lists of a zone.
    func isolatedFreePages(_ z: Int) -> Int {
        var n = 0
        for o in 0..<Geometry.maxOrder { n += zones[z].freeArea[Zone.listIndex(o, .isolate)].count << o }
        return n
    }

    /// `migrate_pages` of one LRU page (`MIGRATE_SYNC`, `MR_MEMORY_HOTPLUG`).
    func migrateLRUPage(_ pfn: PFN, order: Int, kind: PageKind, gfp: GFP, zonelist list: [Int]) -> MigrationResult {
        // Long-term pins hold a reference migration cannot drop (-EAGAIN after every retry);
        // ramfs pages are dirty and ramfs has no writepage or migrate_folio (-EINVAL).
        if kind == .pinned || kind == .ramfs { return .failed }
        let owner = memmap.owner(pfn)
        guard let target = allocMigrationTarget(order: order, gfp: gfp, zonelist: list, kind: kind) else {
            return .failed
        }
        // Reclaim while allocating the target may have freed the source (clean page cache).
        guard memmap.kind(pfn) == kind, memmap.owner(pfn) == owner else {
            freePages(target, order: order)
            return .gone
        }
        if owner != 0 { transferBlock(from: pfn, to: target) }
        freePages(pfn, order: order)
        return .migrated
    }

    /// `alloc_migration_target` through a precomputed zonelist: the fast path at the low
    /// watermark, then the slow path (reclaim, no OOM because of __GFP_RETRY_MAYFAIL).
    func allocMigrationTarget(order: Int, gfp: GFP, zonelist list: [Int], kind: PageKind) -> PFN? {
        if let (pfn, z) = getPageFromFreelist(order: order, gfp: gfp, zonelist: list, level: .low) {
            markAllocated(pfn, order: order, kind: kind, z: z)
            runKswapds()
            return pfn
        }
        let pfn = allocPagesSlowpath(order: order, gfp: gfp, zonelist: list, kind: kind)
        runKswapds()
        return pfn
    }

    /// do_migrate_range's ratelimited `pr_warn` (5 s interval, burst 10).
    func warnMigrationFailure(_ pfn: PFN, kind: PageKind) {
        if clock &- hotplug.migrateWarnWindowStart >= 5_000_000_000 {
            hotplug.migrateWarnWindowStart = clock
            hotplug.migrateWarnCount = 0
        }
        guard hotplug.migrateWarnCount < 10 else { return }
        hotplug.migrateWarnCount += 1
        log("migrating pfn \(String(pfn, radix: 16)) failed ret:1")
        log("page dumped because: migration failure")
    }

    // MARK: HugeTLB call sites (HugeTLB owner: replace these two bodies)

    /// `HPageMigratable(head)`: an in-use HugeTLB page that `scan_movable_pages` reports.
    /// Placeholder until HugeTLB provides it: every HugeTLB page is treated as free (left to
    /// `dissolveFreeHugePages`).
    func hugePageIsMigratable(_ head: PFN) -> Bool { hugePageInUseMigratable(head) }

    /// Migrate an in-use HugeTLB page (`folio_isolate_hugetlb` + `migrate_pages` with
    /// `alloc_hugetlb_folio_nodemask`) to one of `targetNodes`. Placeholder: always fails.
    func migrateInUseHugePage(_ head: PFN, targetNodes: Set<Int>) -> Bool {
        migrateHugePage(head, targetNodes: targetNodes.sorted(), preferred: nodeOf(head))
    }
}
