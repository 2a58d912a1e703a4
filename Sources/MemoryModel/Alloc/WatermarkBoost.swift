/// Watermark boosting (mm/page_alloc.c, 6.1): when an allocation has to take pages from a
/// pageblock of another migratetype below pageblock order, the zone's watermarks are raised
/// by a pageblock (`boost_watermark`), so that kswapd reclaims ahead of further mixing. The
/// boost stays until kswapd's `balance_pgdat` runs on the node (Kswapd.swift) or the
/// watermarks are recomputed; a node kswapd has given up on (hopeless) keeps it, so the raised
/// min watermark refuses allocations the zone would otherwise serve.
extension Machine {
    /// `boost_watermark`: raise the zone's boost by a pageblock, up to `max_boost` =
    /// high watermark × watermark_boost_factor / 10000 (at least a pageblock). Nothing when
    /// the factor is 0, on zones smaller than four pageblocks, or while the high watermark is
    /// still 0 (a steal before `init_per_zone_wmark_min`). Returns whether it boosted.
    func boostWatermark(_ z: Int) -> Bool {
        let factor = watermarkTunables.watermarkBoostFactor
        guard factor != 0, Geometry.pageblockPages * 4 <= zones[z].managedPages else { return false }
        // mult_frac: no overflow for the largest high watermark and factor.
        let high = zones[z].watermark.baseHigh
        var maxBoost = (high / 10000) * factor + (high % 10000) * factor / 10000
        guard maxBoost != 0 else { return false }
        maxBoost = Swift.max(Geometry.pageblockPages, maxBoost)
        zones[z].watermark.boost = Swift.min(zones[z].watermark.boost + Geometry.pageblockPages, maxBoost)
        return true
    }

    /// `steal_suitable_fallback`'s boost: for a fallback block below pageblock order that is
    /// not from a highatomic pageblock. The kernel sets ZONE_BOOSTED_WATERMARK only with
    /// ALLOC_KSWAPD; the model sets it always and `rmqueueBoostCheck`, which knows the flags,
    /// wakes kswapd only for them.
    func boostOnFallback(_ z: Int, order: Int) {
        if order < Geometry.pageblockOrder && boostWatermark(z) { zones[z].boostedWatermark = true }
    }

    /// The end of `rmqueue`: test and clear ZONE_BOOSTED_WATERMARK; with ALLOC_KSWAPD
    /// (__GFP_KSWAPD_RECLAIM) that is `wakeup_kswapd(zone, 0, 0, zone_idx(zone))`.
    @inline(__always) func rmqueueBoostCheck(_ z: Int, gfp: GFP) {
        guard zones[z].boostedWatermark else { return }
        zones[z].boostedWatermark = false
        if gfp.contains(.kswapdReclaim) { wakeupKswapd(node: zones[z].node, order: 0, highest: zones[z].type) }
    }

    /// `pgdat_watermark_boosted`: some managed zone of the node up to `highest` is boosted.
    func pgdatWatermarkBoosted(_ n: Int, highest: ZoneType) -> Bool {
        for t in stride(from: highest.rawValue, through: 0, by: -1) {
            let z = zoneIndex(node: n, type: ZoneType(rawValue: t)!)
            if zones[z].managedPages > 0 && zones[z].watermark.boost > 0 { return true }
        }
        return false
    }
}
