/// The counters /proc/meminfo, /proc/zoneinfo, /proc/vmstat and /proc/pagetypeinfo derive
/// from the model's state (mm/vmstat.c, `si_mem_available` in mm/page_alloc.c,
/// `global_dirty_limits` in mm/page-writeback.c): the LRU split, MemAvailable, dirty limits,
/// stat thresholds, pageblocks by migratetype. Everything here is O(zones) or O(owners),
/// except `pageblockCounts` (O(pageblocks of a zone)): no view ever walks pages.

/// The LRU and file counters of one zone or node, in pages (`NR_ZONE_*` / `NR_*`).
///
/// The model has no access bits, so the split follows what 6.1 does to fresh pages and what
/// an idle guest shows: anonymous (and long-term pinned) pages sit on the inactive anon list
/// (`folio_add_lru_vma` puts new anon folios there); shmem is added inactive too
/// (`shmem_add_to_page_cache` → `folio_add_lru`), and the initramfs pages the guest's programs
/// map and use a second time are activated (`mark_page_accessed`): `BootProfile.activeShmemPages`
/// of them, counted in `Zone.activeShmem`, the rest stay inactive; page cache sits on the
/// inactive file list, ramfs on the unevictable list.
public struct LRUCounters: Sendable, Equatable {
    public var inactiveAnon = 0, activeAnon = 0, inactiveFile = 0, activeFile = 0, unevictable = 0
    public init() {}
    public static func + (a: LRUCounters, b: LRUCounters) -> LRUCounters {
        var r = a
        r.inactiveAnon += b.inactiveAnon; r.activeAnon += b.activeAnon
        r.inactiveFile += b.inactiveFile; r.activeFile += b.activeFile
        r.unevictable += b.unevictable
        return r
    }
}

/// Node-level page counters (`enum node_stat_item`) the model tracks, in pages except
/// `kernelStackKB`.
public struct NodePageCounters: Sendable, Equatable {
    public var lru = LRUCounters()
    public var slabReclaimable = 0, slabUnreclaimable = 0
    /// NR_ANON_MAPPED: anonymous and pinned pages.
    public var anonPages = 0
    /// NR_FILE_PAGES: page cache + shmem + ramfs.
    public var filePages = 0
    public var shmem = 0
    public var kernelStackKB = 0
    public var pageTables = 0
    public init() {}
}

extension Machine {
    @inline(__always) func kindCount(_ z: Int, _ k: PageKind) -> Int { zones[z].kindPages[Int(k.rawValue)] }

    /// The LRU counters of one zone (flattened index).
    public func lruCounters(zone z: Int) -> LRUCounters {
        var c = LRUCounters()
        let shmem = kindCount(z, .shmem)
        c.activeAnon = Swift.min(zones[z].activeShmem, shmem)
        c.inactiveAnon = kindCount(z, .anon) + kindCount(z, .pinned) + shmem - c.activeAnon
        c.inactiveFile = kindCount(z, .pageCache)
        c.unevictable = kindCount(z, .ramfs)
        return c
    }

    /// Node counters for one node, or summed over all nodes when `node` is nil.
    public func nodePageCounters(node: Int? = nil) -> NodePageCounters {
        var c = NodePageCounters()
        for z in zones.indices where node == nil || zones[z].node == node {
            c.lru = c.lru + lruCounters(zone: z)
            c.slabReclaimable += kindCount(z, .slabReclaimable)
            // __kmalloc_large_node counts its pages in NR_SLAB_UNRECLAIMABLE_B (mm/slab_common.c).
            c.slabUnreclaimable += kindCount(z, .slabUnreclaimable) + kindCount(z, .kmallocLarge)
            c.anonPages += kindCount(z, .anon) + kindCount(z, .pinned)
            c.shmem += kindCount(z, .shmem)
            c.filePages += kindCount(z, .pageCache) + kindCount(z, .shmem) + kindCount(z, .ramfs)
            // Kernel stacks are counted in KiB (NR_KERNEL_STACK_KB).
            c.kernelStackKB += kindCount(z, .kernelStack) * (Geometry.pageSize >> 10)
            c.pageTables += kindCount(z, .pageTable)
        }
        return c
    }

    /// `calculate_totalreserve_pages`: per zone the largest lowmem_reserve toward higher
    /// zones plus the high watermark, capped at the zone's managed pages. The kernel stores
    /// the sum when it recomputes the watermarks, which clears every boost first, so the
    /// boost is not in it (`_watermark[WMARK_HIGH]`).
    public var totalReservePages: Int {
        var total = 0
        for z in zones.indices {
            let t = zones[z].type.rawValue
            var m = 0
            for j in t..<Machine.zonesPerNode { m = Swift.max(m, zones[z].lowmemReserve[j]) }
            m += zones[z].watermark.baseHigh
            total += Swift.min(m, zones[z].managedPages)
        }
        return total
    }

    /// `si_mem_available` (MemAvailable, pages).
    public func memAvailablePages() -> Int {
        let c = nodePageCounters()
        let wmarkLow = zones.reduce(0) { $0 + $1.watermark.low }
        var available = totalFreePages - totalReservePages
        var pagecache = c.lru.activeFile + c.lru.inactiveFile
        pagecache -= Swift.min(pagecache / 2, wmarkLow)
        available += pagecache
        let reclaimable = c.slabReclaimable  // + NR_KERNEL_MISC_RECLAIMABLE (0 in the model)
        available += reclaimable - Swift.min(reclaimable / 2, wmarkLow)
        return Swift.max(available, 0)
    }

    /// `global_dirty_limits` with the defaults (dirty_ratio 20, dirty_background_ratio 10,
    /// no *_bytes): (threshold, background threshold) in pages.
    public func dirtyLimits(dirtyRatio: Int = 20, backgroundRatio: Int = 10) -> (threshold: Int, background: Int) {
        let c = nodePageCounters()
        var x = totalFreePages
        x -= Swift.min(x, totalReservePages)
        x += c.lru.inactiveFile + c.lru.activeFile
        let available = x + 1
        let ratio = dirtyRatio * Geometry.pageSize / 100
        let bgRatio = backgroundRatio * Geometry.pageSize / 100
        let thresh = ratio * available / Geometry.pageSize
        var bg = bgRatio * available / Geometry.pageSize
        if bg >= thresh { bg = thresh / 2 }
        return (thresh, bg)
    }

    /// `calculate_normal_threshold` (the zoneinfo `vm stats threshold`).
    public func statThreshold(zone z: Int) -> Int {
        func fls(_ x: Int) -> Int { x <= 0 ? 0 : Int.bitWidth - x.leadingZeroBitCount }
        let mem = zones[z].managedPages >> (27 - Geometry.pageShift)
        return Swift.min(125, 2 * fls(cpus) * (1 + fls(mem)))
    }

    /// Pageblocks of zone `z` by migratetype (`pagetypeinfo_showblockcount_print`): the
    /// pageblocks in the zone's span whose pages belong to the zone. O(pageblocks of the span).
    public func pageblockCounts(zone z: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: MigrateType.allCases.count)
        let zone = zones[z]
        guard zone.spannedPages > 0 else { return counts }
        var pb = zone.startPFN >> Geometry.pageblockOrder
        let end = Swift.min(
            (zone.endPFN + Geometry.pageblockPages - 1) >> Geometry.pageblockOrder, pageblocks.zone.count)
        let tag = UInt16(z)
        while pb < end {
            if pageblocks.zone[pb] == tag { counts[Int(pageblocks.migrateType[pb])] += 1 }
            pb += 1
        }
        return counts
    }
}
