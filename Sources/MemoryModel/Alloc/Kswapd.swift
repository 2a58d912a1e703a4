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
    /// Woken and not yet run: the order and highest zone to balance for.
    public var woken: KswapdWake?
    public init() {}
}

/// `pgdat->kswapd_order` and `kswapd_highest_zoneidx`: what the wakes ask kswapd to balance for.
public struct KswapdWake: Sendable, Equatable {
    public var order: Int
    public var highest: ZoneType
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

    /// `wake_all_kswapds` → `wakeup_kswapd` for every node of the zonelist. Waking only makes
    /// kswapd runnable: on the guest's one CPU it runs when the allocating task next gives the
    /// CPU up (`runKswapds`), i.e. after the allocation that woke it (traced on 6.1.0-57: the
    /// waking order-9 allocation completes before kswapd's first free).
    func wakeAllKswapds(order: Int, highest: ZoneType, zonelist: [Int]) {
        var seen: [Int] = []
        for z in zonelist where zones[z].managedPages > 0 {
            let n = zones[z].node
            guard !seen.contains(n) else { continue }
            seen.append(n)
            wakeupKswapd(node: n, order: order, highest: highest)
        }
    }

    /// `wakeup_kswapd`: a hopeless node is left to direct reclaim; a node that is balanced for
    /// the order and carries no watermark boost needs nothing. Otherwise kswapd is woken, to
    /// balance for the largest order and the highest zone of the wakes since it last ran
    /// (`kswapd_order`, `kswapd_highest_zoneidx`).
    func wakeupKswapd(node n: Int, order: Int, highest: ZoneType) {
        guard kswapdStarted, nodes[n].kswapd.failures < Machine.maxReclaimRetries,
            !pgdatBalanced(n, order: order, highest: highest) || pgdatWatermarkBoosted(n, highest: highest)
        else { return }
        if let w = nodes[n].kswapd.woken {
            nodes[n].kswapd.woken = KswapdWake(order: Swift.max(w.order, order), highest: Swift.max(w.highest, highest))
        } else {
            nodes[n].kswapd.woken = KswapdWake(order: order, highest: highest)
        }
        kswapdRunnable = true
    }

    /// kswapd gets the CPU: a `balance_pgdat` pass on every node woken since it last ran.
    @inline(__always) func runKswapds() {
        guard kswapdRunnable else { return }
        kswapdRunnable = false
        for n in nodes.indices {
            guard let w = nodes[n].kswapd.woken else { continue }
            nodes[n].kswapd.woken = nil
            balancePgdat(n, order: w.order, highest: w.highest)
        }
    }

    /// The node's managed zones up to `highest`, highest first (the node's part of a zonelist).
    func kswapdZones(_ n: Int, highest: ZoneType) -> [Int] {
        stride(from: highest.rawValue, through: 0, by: -1).map { zoneIndex(node: n, type: ZoneType(rawValue: $0)!) }
            .filter { zones[$0].managedPages > 0 }
    }

    /// `balance_pgdat`: ZONE_RECLAIM_ACTIVE on the node's zones up to `highest`
    /// (`set_reclaim_active`), then priorities DEF_PRIORITY down to 1 while the node is not
    /// balanced. The model's reclaim is all-or-nothing: the first priority frees what it can
    /// (the zones below their low watermark back towards high), later ones find nothing more
    /// on the lists, so only the shrinkers' deferred arithmetic moves (`shrinkSlab`).
    ///
    /// With watermark boosts on the node's zones the pass first reclaims their sum
    /// (`nr_boost_reclaim`, no writeback or swap: what the model reclaims anyway) even though
    /// the node is balanced; it stops as soon as a priority reclaims nothing, and falls back to
    /// the ordinary pass from DEF_PRIORITY when the node turns out unbalanced. At the end the
    /// boosts it saw are taken off, whatever it reclaimed. A pass that reclaimed nothing
    /// counts towards hopeless (the boosted pass too); then `clear_reclaim_active`.
    func balancePgdat(_ n: Int, order: Int, highest: ZoneType) {
        nodes[n].kswapd.passes += 1
        let zonesOfNode = kswapdZones(n, highest: highest)
        // The boosts are left in place while kswapd works, so allocations near the
        // watermark keep stalling until it is done.
        let zoneBoosts = zonesOfNode.map { zones[$0].watermark.boost }
        var nrBoostReclaim = zoneBoosts.reduce(0, +)
        setReclaimActive(n, highest: highest, true)
        defer {
            setReclaimActive(n, highest: highest, false)
            for (i, z) in zonesOfNode.enumerated() where zoneBoosts[i] > 0 {
                zones[z].watermark.boost -= Swift.min(zones[z].watermark.boost, zoneBoosts[i])
            }
        }
        var scOrder = order
        var reclaimed = 0
        var priority = Machine.defPriority
        var ordinaryReclaimDone = false
        while priority >= 1 {
            let balanced = pgdatBalanced(n, order: scOrder, highest: highest)
            if !balanced && nrBoostReclaim > 0 {
                // Unbalanced: forget the boost and restart as an ordinary pass.
                nrBoostReclaim = 0
                priority = Machine.defPriority
                continue
            }
            if nrBoostReclaim == 0 && balanced { return }
            let before = reclaimed
            if nrBoostReclaim > 0 {
                let got = reclaim(pages: nrBoostReclaim, zonelist: zonesOfNode)
                vmstat.pgstealKswapd += got
                reclaimed += got
            } else if !ordinaryReclaimDone {
                ordinaryReclaimDone = true
                for z in zonesOfNode where zones[z].freePages < zones[z].watermark.low {
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
            let progress = reclaimed - before
            // `shrink_node` resets the count whenever it reclaims.
            if progress > 0 { nodes[n].kswapd.failures = 0 }
            if nrBoostReclaim > 0 {
                nrBoostReclaim -= Swift.min(nrBoostReclaim, progress)
                // No progress on a boost: stop, IO cannot be queued.
                if nrBoostReclaim > 0 && progress == 0 { break }
            }
            priority -= 1
        }
        if reclaimed == 0 { nodes[n].kswapd.failures += 1 }
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
