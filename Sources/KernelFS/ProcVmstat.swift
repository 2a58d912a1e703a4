import MemoryModel

// /proc/zoneinfo and /proc/vmstat: the names of mm/vmstat.c's `vmstat_text` for 6.1 with
// Debian's config (ZONE_DMA, ZONE_DMA32, ZONE_DEVICE, ZSMALLOC=m, NUMA, SWAP,
// NUMA_BALANCING, MIGRATION, COMPACTION, HUGETLB_PAGE, no CMA, THP with PUD splits,
// MEMORY_BALLOON + BALLOON_COMPACTION, no DEBUG_TLBFLUSH, KSM, ZSWAP, X86), in order.
//
// Tracked by the model: nr_free_pages, the LRU counters (see `LRUCounters` for the split),
// nr_slab_*, nr_anon_pages, nr_file_pages, nr_shmem, nr_kernel_stack, nr_page_table_pages,
// the dirty thresholds (computed), allocstall_normal/_movable, pgsteal_kswapd/_direct
// (pgscan_* and pgsteal_file mirror them: the model's reclaim takes every page it scans),
// drop_pagecache, drop_slab, oom_kill, pgmigrate_success/_fail, compact_stall/_fail/_success,
// htlb_buddy_alloc_success/_fail, the numa_* events (NumaEvents.swift). nr_mapped is the
// meminfo calibration. Everything else (pgalloc_*, pgfree, pgfault, workingset_*, thp_*, ...)
// is 0: the model has no processes, page faults or swap.

extension ProcViews {
    /// `enum zone_stat_item` for one zone.
    static func zoneStatItems(_ m: Machine, zone z: Int) -> [(String, Int)] {
        let lru = m.lruCounters(zone: z)
        return [
            ("nr_free_pages", m.zones[z].freePages),
            ("nr_zone_inactive_anon", lru.inactiveAnon),
            ("nr_zone_active_anon", lru.activeAnon),
            ("nr_zone_inactive_file", lru.inactiveFile),
            ("nr_zone_active_file", lru.activeFile),
            ("nr_zone_unevictable", lru.unevictable),
            ("nr_zone_write_pending", 0),
            ("nr_mlock", 0),
            ("nr_bounce", 0),
            ("nr_zspages", 0),
            ("nr_free_cma", 0)
        ]
    }

    /// `enum numa_stat_item` (`NumaEvents`, counted by the model's `zoneStatistics`).
    static let numaStatNames = ["numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other"]

    /// `enum node_stat_item`, in pages (kernel stacks in kB; THP items in THPs).
    static func nodeStatItems(_ m: Machine, node: Int?) -> [(String, Int)] {
        let c = m.nodePageCounters(node: node)
        let mapped = Swift.min(MeminfoCalibration.mappedPages, c.filePages)
        return [
            ("nr_inactive_anon", c.lru.inactiveAnon),
            ("nr_active_anon", c.lru.activeAnon),
            ("nr_inactive_file", c.lru.inactiveFile),
            ("nr_active_file", c.lru.activeFile),
            ("nr_unevictable", c.lru.unevictable),
            ("nr_slab_reclaimable", c.slabReclaimable),
            ("nr_slab_unreclaimable", c.slabUnreclaimable),
            ("nr_isolated_anon", 0),
            ("nr_isolated_file", 0),
            ("workingset_nodes", 0),
            ("workingset_refault_anon", 0),
            ("workingset_refault_file", 0),
            ("workingset_activate_anon", 0),
            ("workingset_activate_file", 0),
            ("workingset_restore_anon", 0),
            ("workingset_restore_file", 0),
            ("workingset_nodereclaim", 0),
            ("nr_anon_pages", c.anonPages),
            ("nr_mapped", node == nil || node == 0 ? mapped : 0),
            ("nr_file_pages", c.filePages),
            ("nr_dirty", 0),
            ("nr_writeback", 0),
            ("nr_writeback_temp", 0),
            ("nr_shmem", c.shmem),
            ("nr_shmem_hugepages", 0),
            ("nr_shmem_pmdmapped", 0),
            ("nr_file_hugepages", 0),
            ("nr_file_pmdmapped", 0),
            ("nr_anon_transparent_hugepages", 0),
            ("nr_vmscan_write", 0),
            ("nr_vmscan_immediate_reclaim", 0),
            ("nr_dirtied", 0),
            ("nr_written", 0),
            ("nr_throttled_written", 0),
            ("nr_kernel_misc_reclaimable", 0),
            ("nr_foll_pin_acquired", 0),
            ("nr_foll_pin_released", 0),
            ("nr_kernel_stack", c.kernelStackKB),
            ("nr_page_table_pages", c.pageTables),
            ("nr_sec_page_table_pages", 0),
            ("nr_swapcached", 0),
            ("pgpromote_success", 0),
            ("pgpromote_candidate", 0)
        ]
    }

    /// `TEXTS_FOR_ZONES(prefix)`.
    static func perZoneEvents(
        _ prefix: String, dma: Int = 0, dma32: Int = 0, normal: Int = 0, movable: Int = 0, device: Int = 0
    ) -> [(String, Int)] {
        [
            (prefix + "_dma", dma), (prefix + "_dma32", dma32), (prefix + "_normal", normal),
            (prefix + "_movable", movable), (prefix + "_device", device)
        ]
    }

    /// `enum vm_event_item`.
    static func eventItems(_ m: Machine) -> [(String, Int)] {
        let e = m.vmstat
        var v: [(String, Int)] = [("pgpgin", 0), ("pgpgout", 0), ("pswpin", 0), ("pswpout", 0)]
        v += perZoneEvents("pgalloc")
        v += perZoneEvents("allocstall", normal: e.allocstallNormal, movable: e.allocstallMovable)
        v += perZoneEvents("pgskip")
        v += [
            ("pgfree", 0), ("pgactivate", 0), ("pgdeactivate", 0), ("pglazyfree", 0),
            ("pgfault", 0), ("pgmajfault", 0), ("pglazyfreed", 0),
            ("pgrefill", 0), ("pgreuse", 0),
            ("pgsteal_kswapd", e.pgstealKswapd), ("pgsteal_direct", e.pgstealDirect),
            ("pgdemote_kswapd", 0), ("pgdemote_direct", 0),
            ("pgscan_kswapd", e.pgstealKswapd), ("pgscan_direct", e.pgstealDirect),
            ("pgscan_direct_throttle", 0),
            ("pgscan_anon", 0), ("pgscan_file", e.pgstealKswapd + e.pgstealDirect),
            ("pgsteal_anon", 0), ("pgsteal_file", e.pgstealKswapd + e.pgstealDirect),
            ("zone_reclaim_failed", 0),
            ("pginodesteal", 0), ("slabs_scanned", 0), ("kswapd_inodesteal", 0),
            ("kswapd_low_wmark_hit_quickly", 0), ("kswapd_high_wmark_hit_quickly", 0),
            ("pageoutrun", 0), ("pgrotated", 0),
            ("drop_pagecache", e.dropPagecache), ("drop_slab", e.dropSlab),
            ("oom_kill", e.oomKill),
            ("numa_pte_updates", 0), ("numa_huge_pte_updates", 0), ("numa_hint_faults", 0),
            ("numa_hint_faults_local", 0), ("numa_pages_migrated", 0),
            ("pgmigrate_success", e.pgmigrateSuccess), ("pgmigrate_fail", e.pgmigrateFail),
            ("thp_migration_success", 0), ("thp_migration_fail", 0), ("thp_migration_split", 0),
            ("compact_migrate_scanned", 0), ("compact_free_scanned", 0), ("compact_isolated", 0),
            ("compact_stall", e.compactStall), ("compact_fail", e.compactFail),
            ("compact_success", e.compactSuccess),
            ("compact_daemon_wake", 0), ("compact_daemon_migrate_scanned", 0),
            ("compact_daemon_free_scanned", 0),
            ("htlb_buddy_alloc_success", e.htlbBuddyAllocSuccess),
            ("htlb_buddy_alloc_fail", e.htlbBuddyAllocFail),
            ("unevictable_pgs_culled", 0), ("unevictable_pgs_scanned", 0),
            ("unevictable_pgs_rescued", 0), ("unevictable_pgs_mlocked", 0),
            ("unevictable_pgs_munlocked", 0), ("unevictable_pgs_cleared", 0),
            ("unevictable_pgs_stranded", 0)
        ]
        for n in [
            "thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge",
            "thp_collapse_alloc", "thp_collapse_alloc_failed", "thp_file_alloc",
            "thp_file_fallback", "thp_file_fallback_charge", "thp_file_mapped",
            "thp_split_page", "thp_split_page_failed", "thp_deferred_split_page",
            "thp_split_pmd", "thp_scan_exceed_none_pte", "thp_scan_exceed_swap_pte",
            "thp_scan_exceed_share_pte", "thp_split_pud", "thp_zero_page_alloc",
            "thp_zero_page_alloc_failed", "thp_swpout", "thp_swpout_fallback",
            "balloon_inflate", "balloon_deflate", "balloon_migrate",
            "swap_ra", "swap_ra_hit", "ksm_swpin_copy", "cow_ksm", "zswpin", "zswpout",
            "direct_map_level2_splits", "direct_map_level3_splits"
        ] {
            v.append((n, 0))
        }
        return v
    }

    /// Every /proc/vmstat item in order (without the trailing deprecated `nr_unstable`).
    public static func vmstatItems(_ m: Machine) -> [(String, Int)] {
        var v: [(String, Int)] = []
        var zoneTotals = [Int](repeating: 0, count: 11)
        var names: [String] = []
        for z in m.zones.indices {
            let items = zoneStatItems(m, zone: z)
            if names.isEmpty { names = items.map(\.0) }
            for (i, it) in items.enumerated() { zoneTotals[i] += it.1 }
        }
        v += zip(names, zoneTotals).map { ($0, $1) }
        v += zip(numaStatNames, m.numaEvents().values).map { ($0, $1) }
        v += nodeStatItems(m, node: nil)
        let dirty = m.dirtyLimits()
        v += [("nr_dirty_threshold", dirty.threshold), ("nr_dirty_background_threshold", dirty.background)]
        v += eventItems(m)
        return v
    }

    /// `/proc/vmstat`: `name value` lines, then the deprecated `nr_unstable 0`.
    public static func vmstat(_ m: Machine) -> String {
        var s = ""
        for (n, v) in vmstatItems(m) { s += n + " " + String(v) + "\n" }
        s += "nr_unstable 0\n"
        return s
    }

    /// The nodes zoneinfo walks (`for_each_online_pgdat`): node 0 and every node with memory
    /// spanned (memoryless nodes of SRAT hotplug ranges come online when memory is added).
    static func onlineNodes(_ m: Machine) -> [Int] {
        m.nodes.indices.filter { n in
            m.nodes[n].exists
                && (n == 0
                    || ZoneType.allCases.contains {
                        let z = m.zone(node: n, type: $0); return z.spannedPages > 0 || z.presentPages > 0
                    })
        }
    }

    /// `/proc/zoneinfo` (`zoneinfo_show_print`): every zone of every online node; the node's
    /// stats before its first populated zone; zones without present pages stop after
    /// `protection`. One pageset per CPU: the model keeps one pcp list per zone, which is
    /// CPU 0's; the other CPUs show empty lists with the same limits.
    public static func zoneinfo(_ m: Machine) -> String {
        var s = ""
        for n in onlineNodes(m) {
            let firstPopulated = ZoneType.allCases.first { m.zone(node: n, type: $0).isPopulated }
            for t in ZoneType.allCases {
                let z = m.zoneIndex(node: n, type: t)
                let zone = m.zones[z]
                s += "Node \(n), zone \(rjust(t.name, 8))"
                if t == firstPopulated {
                    s += "\n  per-node stats"
                    for (name, v) in nodeStatItems(m, node: n) { s += "\n      \(ljust(name, 12)) \(v)" }
                }
                s += "\n  pages free     \(zone.freePages)"
                s += "\n        boost    \(zone.watermark.boost)"
                s += "\n        min      \(zone.watermark.min)"
                s += "\n        low      \(zone.watermark.low)"
                s += "\n        high     \(zone.watermark.high)"
                s += "\n        spanned  \(zone.spannedPages)"
                s += "\n        present  \(zone.presentPages)"
                s += "\n        managed  \(zone.managedPages)"
                s += "\n        cma      0"
                s += "\n        protection: (" + zone.lowmemReserve.map(String.init).joined(separator: ", ") + ")"
                guard zone.isPopulated else { s += "\n"; continue }
                for (name, v) in zoneStatItems(m, zone: z) { s += "\n      \(ljust(name, 12)) \(v)" }
                for (name, v) in zip(numaStatNames, m.numaEvents(zone: z).values) {
                    s += "\n      \(ljust(name, 12)) \(v)"
                }
                s += "\n  pagesets"
                let threshold = m.statThreshold(zone: z)
                for cpu in 0..<Swift.max(m.cpus, 1) {
                    s += "\n    cpu: \(cpu)"
                    s += "\n              count: \(cpu == 0 ? zone.pcp.count : 0)"
                    s += "\n              high:  \(zone.pcp.high)"
                    s += "\n              batch: \(zone.pcp.batch)"
                    s += "\n  vm stats threshold: \(threshold)"
                }
                // zoneinfo_show_print: the node is hopeless for kswapd (`kswapd_failures`).
                s += "\n  node_unreclaimable:  \(m.nodeUnreclaimable(zone.node) ? 1 : 0)"
                s += "\n  start_pfn:           \(zone.startPFN)"
                s += "\n"
            }
        }
        return s
    }
}
