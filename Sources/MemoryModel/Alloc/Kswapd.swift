/// kswapd (mm/vmscan.c, 6.1): woken by an allocation's slow path on a node that is not
/// balanced, it runs `balance_pgdat`, which holds ZONE_RECLAIM_ACTIVE on the node's zones
/// for the whole pass. While that bit is set `nr_pcp_high` caps the zones' per-cpu lists at
/// `batch << 2`, so every page freed meanwhile (by kswapd's own reclaim and shrinkers) drains
/// the pcp lists to the buddy in `nr_pcp_free`'s doubling batches. The model runs the pass
/// synchronously where the kernel wakes kswapd (`wake_all_kswapds`).
public struct KswapdState: Sendable, Equatable {
    /// `pgdat->kswapd_failures`: passes in a row that reclaimed nothing. At
    /// `MAX_RECLAIM_RETRIES` the node is hopeless: `wakeup_kswapd` leaves it to direct
    /// reclaim until reclaim on the node makes progress again (`shrink_node`).
    public var failures = 0
    /// `balance_pgdat` passes run (`/proc/vmstat` pageoutrun).
    public var passes = 0
    public init() {}
}

extension Machine {
    /// MAX_RECLAIM_RETRIES (mm/internal.h).
    static let maxReclaimRetries = 16
    /// DEF_PRIORITY (include/linux/mmzone.h): kswapd's and direct reclaim's first priority;
    /// each pass scans `>> priority` of the lists and the shrinkers' objects.
    static let defPriority = 12

    /// `pgdat_balanced`: some managed zone of the node up to `highest` meets its high
    /// watermark for `order` (`zone_watermark_ok_safe`); a node without one is balanced.
    func pgdatBalanced(_ node: Int, order: Int, highest: ZoneType) -> Bool {
        var managed = false
        for t in 0...highest.rawValue {
            let z = zoneIndex(node: node, type: ZoneType(rawValue: t)!)
            guard zones[z].managedPages > 0 else { continue }
            managed = true
            if zoneWatermarkOK(z, order: order, mark: zones[z].watermark.high, highestZone: highest) { return true }
        }
        return !managed
    }

    /// `wake_all_kswapds` → `wakeup_kswapd` for every node of the zonelist: the nodes that are
    /// neither hopeless nor balanced for the allocation's order. Waking only makes kswapd
    /// runnable: on the guest's one CPU it runs when the allocating task next gives the CPU
    /// up (`runKswapds`), i.e. after the allocation that woke it (traced on 6.1.0-57: the
    /// waking order-9 allocation completes before kswapd's first free).
    func wakeAllKswapds(order: Int, highest: ZoneType, zonelist: [Int]) -> [Int] {
        var woken: [Int] = []
        for z in zonelist where zones[z].managedPages > 0 {
            let n = zones[z].node
            guard !woken.contains(n), nodes[n].kswapd.failures < Machine.maxReclaimRetries,
                !pgdatBalanced(n, order: order, highest: highest)
            else { continue }
            woken.append(n)
        }
        return woken
    }

    /// kswapd gets the CPU: a `balance_pgdat` pass on every node woken since it last ran.
    func runKswapds(_ woken: inout [Int], order: Int, highest: ZoneType, zonelist: [Int]) {
        for n in woken { balancePgdat(n, order: order, highest: highest, zonelist: zonelist) }
        woken = []
    }

    /// `balance_pgdat`: ZONE_RECLAIM_ACTIVE on the node's zones up to `highest`
    /// (`set_reclaim_active`), then priorities DEF_PRIORITY down to 1 while the node is not
    /// balanced. The model's reclaim is all-or-nothing: the first priority frees what it can
    /// (the zones below their low watermark back towards high), later ones find nothing more
    /// on the lists, so only the shrinkers' deferred arithmetic moves (`shrinkSlab`). A pass
    /// that reclaimed nothing counts towards hopeless; then `clear_reclaim_active`.
    func balancePgdat(_ n: Int, order: Int, highest: ZoneType, zonelist: [Int]) {
        nodes[n].kswapd.passes += 1
        setReclaimActive(n, highest: highest, true)
        defer { setReclaimActive(n, highest: highest, false) }
        var scOrder = order
        var reclaimed = 0
        var priority = Machine.defPriority
        while priority >= 1 {
            if pgdatBalanced(n, order: scOrder, highest: highest) { return }
            if priority == Machine.defPriority {
                for z in zonelist
                where zones[z].node == n && zones[z].type.rawValue <= highest.rawValue && zones[z].managedPages > 0
                    && zones[z].freePages < zones[z].watermark.low
                {
                    let want = zones[z].watermark.high - zones[z].freePages
                    guard want > 0 else { continue }
                    let got = reclaim(pages: want, zonelist: [z])
                    vmstat.pgstealKswapd += got
                    reclaimed += got
                }
                // kswapd_shrink_node: enough reclaimed for compaction to work, so kswapd
                // balances for order 0 from now on (compact_gap).
                if scOrder > 0 && reclaimed >= 2 << scOrder { scOrder = 0 }
            }
            shrinkSlab(priority: priority)
            priority -= 1
        }
        // `shrink_node` resets the count whenever a pass reclaims.
        nodes[n].kswapd.failures = reclaimed > 0 ? 0 : nodes[n].kswapd.failures + 1
    }

    /// `pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES` (zoneinfo's `node_unreclaimable`).
    public func nodeUnreclaimable(_ n: Int) -> Bool { nodes[n].kswapd.failures >= Machine.maxReclaimRetries }

    /// Direct reclaim that made progress on these zones' nodes resets their
    /// `kswapd_failures` (`shrink_node`: "reclaimable"), so kswapd may be woken again.
    func reclaimProgress(zonelist: [Int]) {
        for z in zonelist { nodes[zones[z].node].kswapd.failures = 0 }
    }

    /// `set_reclaim_active` / `clear_reclaim_active`: ZONE_RECLAIM_ACTIVE on every managed
    /// zone of the node up to `highest`.
    func setReclaimActive(_ n: Int, highest: ZoneType, _ active: Bool) {
        for t in 0...highest.rawValue {
            let z = zoneIndex(node: n, type: ZoneType(rawValue: t)!)
            zones[z].reclaimActive = active && zones[z].managedPages > 0
        }
    }

    /// `nr_pcp_high`: the zone's pcp `high`, capped at `batch << 2` while kswapd reclaims on
    /// it (ZONE_RECLAIM_ACTIVE); 0 for a `free_high` drain.
    @inline(__always) func nrPCPHigh(_ z: Int, freeHigh: Bool) -> Int {
        let high = zones[z].pcp.high
        if high == 0 || freeHigh { return 0 }
        guard zones[z].reclaimActive else { return high }
        return Swift.min(zones[z].pcp.batch << 2, high)
    }
}
