/// The kvfree_rcu() page cache of kernel/rcu/tree.c (6.1) and its shrinker: each CPU keeps
/// `rcu_min_cached_objs` pages for the bulk arrays of pointers that kvfree_rcu() queues,
/// one of them in use as the current array, the others on `krcp->bkvcache`. Under pressure
/// the `kfree_rcu_shrinker` frees the cached pages (`drain_page_cache`), one `free_page`
/// each: with kswapd holding ZONE_RECLAIM_ACTIVE every such order-0 free drains the zone's
/// pcp lists by a batch, which is how a 1 GiB guest's pool grown until failure gets its
/// last huge pages (ftrace of three 6.1.0-57 runs: `free_unref_page <- kfree_rcu_shrink_scan
/// <- do_shrink_slab <- shrink_slab <- shrink_node <- balance_pgdat <- kswapd`, pfns
/// 0x5f98-0x5f9b at priority 1 of kswapd's first pass, 63+126+189+189 pages drained).
public struct KvfreeRCUCache: Sendable, Equatable {
    /// The owner holding the pages (boot's "kernel:kvfree_rcu_cache"), nil without one.
    public var owner: Int?
    /// `krcp->bkvcache`, an llist: the last page pushed is the first freed.
    public var cached: [PFN] = []
    /// The bulk array in use (`krcp->bkvhead`) with the objects queued in it.
    public var inUse: PFN?
    /// `krcp->count` + the array handed to a grace period by `kfree_rcu_monitor`: it comes
    /// back to the cache (`put_cached_bnode` in `kfree_rcu_work`) once the grace period's
    /// work runs.
    public var pendingObjects = 0
    public var inGracePeriod: PFN?
    /// The shrinker's `nr_deferred` (not NUMA aware: one count).
    public var nrDeferred = 0
    public init() {}
}

extension Machine {
    /// `rcu_min_cached_objs` (kernel/rcu/tree.c, module parameter, default 5): pages per CPU.
    static let rcuMinCachedObjs = 5
    /// Objects queued on the CPU's kvfree_rcu lists when the shrinker first counts them
    /// (`krcp->count`). Calibrated: trace3 of /work/notes/research5 (6.1.0-57, 1 GiB guest),
    /// mm_shrink_slab_start at kswapd's first pass: freeable 19 = 15 objects + 4 cached pages.
    /// It only shapes the deferred arithmetic (the scan comes at priority 1 with 0 as well).
    static let kvfreeRCUPendingObjects = 15
    /// DEFAULT_SEEKS and SHRINK_BATCH (include/linux/shrinker.h): the kfree_rcu shrinker's
    /// `seeks` and its `batch` (0 = SHRINK_BATCH).
    static let defaultSeeks = 2, shrinkBatch = 128

    /// Boot: the CPU's pages are the cache's (the first `cpus × rcu_min_cached_objs - 1`
    /// cached, the last one the array in use).
    func adoptKvfreeRCUCache(owner id: Int) {
        guard let blocks = owners[id]?.blocks, !blocks.isEmpty else { return }
        kvfreeRCU.owner = id
        kvfreeRCU.cached = blocks.dropLast().map { Int($0) }
        kvfreeRCU.inUse = Int(blocks.last!)
        kvfreeRCU.pendingObjects = Machine.kvfreeRCUPendingObjects
    }

    /// `shrink_slab` as the model has it: the kfree_rcu shrinker, the one shrinker whose
    /// objects are not in the model's reclaimable owners, through `do_shrink_slab`'s
    /// deferred arithmetic at this priority.
    func shrinkSlab(priority: Int) {
        // kfree_rcu_shrink_count: queued objects + cached pages; SHRINK_EMPTY at 0.
        let freeable = kvfreeRCU.pendingObjects + kvfreeRCU.cached.count
        guard freeable > 0 else { return }
        let nr = kvfreeRCU.nrDeferred
        kvfreeRCU.nrDeferred = 0
        let delta = (freeable >> priority) * 4 / Machine.defaultSeeks
        var totalScan = Swift.min((nr >> priority) + delta, 2 * freeable)
        var scanned = 0
        while totalScan >= Machine.shrinkBatch || totalScan >= freeable {
            let n = Swift.min(Machine.shrinkBatch, totalScan)
            if kfreeRCUShrinkScan() == 0 { break }  // SHRINK_STOP
            totalScan -= n
            scanned += n
        }
        kvfreeRCU.nrDeferred = Swift.min(Swift.max(nr + delta - scanned, 0), 2 * freeable)
    }

    /// `kfree_rcu_shrink_scan`: free the cached pages (`drain_page_cache`: `free_page`
    /// each, last pushed first) and hand the queued objects, with the array holding them,
    /// to a grace period (`kfree_rcu_monitor`). Returns the objects freed.
    func kfreeRCUShrinkScan() -> Int {
        let freed = kvfreeRCU.pendingObjects + kvfreeRCU.cached.count
        while let pfn = kvfreeRCU.cached.popLast() {
            detach(pfn)
            memmap.setOwner(pfn, 0)
            freePages(pfn, order: 0)
        }
        kvfreeRCU.pendingObjects = 0
        if let bulk = kvfreeRCU.inUse {
            kvfreeRCU.inUse = nil
            kvfreeRCU.inGracePeriod = bulk
        }
        return freed
    }

    /// The grace period's `kfree_rcu_work` puts the array back on the cache
    /// (`put_cached_bnode`). It runs on the guest's one CPU only when the task that is
    /// allocating gives the CPU up: the model lets it run where direct reclaim starts (three
    /// traced 6.1.0-57 runs: the array came back after kswapd's later passes, twice freed by
    /// the failing allocation's direct reclaim, once by kswapd just before it).
    func kvfreeRCUGracePeriodEnds() {
        guard let pfn = kvfreeRCU.inGracePeriod else { return }
        kvfreeRCU.inGracePeriod = nil
        kvfreeRCU.cached.append(pfn)
    }
}
