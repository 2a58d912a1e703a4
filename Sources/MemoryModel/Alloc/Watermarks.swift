/// min_free_kbytes, the per-zone watermarks, lowmem_reserve and the pcp limits, recomputed
/// as `init_per_zone_wmark_min()` does at boot and after every online and offline.
extension Machine {
    /// `nr_free_zone_pages(gfp_zone(GFP_USER))`: managed pages above the high watermark in
    /// the zones a GFP_USER allocation from node 0 may use.
    func nrFreeBufferPages() -> Int {
        var sum = 0
        for z in zones.indices where zones[z].type <= .normal {
            let size = zones[z].managedPages, high = zones[z].watermark.high
            if size > high { sum += size - high }
        }
        return sum
    }

    /// `init_per_zone_wmark_min`: the sqrt rule, then THP's recommended value (khugepaged).
    public func initPerZoneWmarkMin() {
        let lowmemKB = nrFreeBufferPages() * 4
        let newMin = isqrt(lowmemKB * 16)
        if newMin > watermarkTunables.userMinFreeKbytes {
            watermarkTunables.minFreeKbytes = Swift.min(Swift.max(newMin, 128), 262144)
        }
        setupPerZoneWmarks()
        setupPerZoneLowmemReserve()
        thpMinFreeKbytesUpdate()
    }

    /// `set_recommended_min_free_kbytes` (mm/khugepaged.c), run because THP is enabled.
    func thpMinFreeKbytesUpdate() {
        let nrZones = zones.filter { $0.isPopulated && $0.type <= .normal }.count
        var recommended = Geometry.pageblockPages * nrZones * 2
        recommended += Geometry.pageblockPages * nrZones * 3 * 3
        recommended = Swift.min(recommended, nrFreeBufferPages() / 20)
        recommended <<= 2
        if recommended > watermarkTunables.minFreeKbytes {
            watermarkTunables.minFreeKbytes = recommended
            setupPerZoneWmarks()
        }
    }

    /// `__setup_per_zone_wmarks` + `zone_pcp_update`. 6.1 spreads min_free_kbytes over every
    /// zone's managed pages, ZONE_MOVABLE included.
    public func setupPerZoneWmarks() {
        let pagesMin = watermarkTunables.minFreeKbytes >> (Geometry.pageShift - 10)
        let lowmem = zones.reduce(0) { $0 + $1.managedPages }
        for z in zones.indices {
            let managed = zones[z].managedPages
            let tmp = lowmem > 0 ? pagesMin * managed / lowmem : 0
            zones[z].watermark.baseMin = tmp
            let step = Swift.max(tmp >> 2, managed * watermarkTunables.watermarkScaleFactor / 10000)
            zones[z].watermark.boost = 0
            zones[z].watermark.baseLow = tmp + step
            zones[z].watermark.baseHigh = tmp + 2 * step
            updatePCPLimits(z)
        }
    }

    /// `zone_pcp_update` → `zone_set_pageset_high_and_batch`: `zone_batchsize` and
    /// `zone_highsize`. `pageset_update` only stores the new limits: pages above a lowered
    /// `high` stay on the lists until the next free to them trims a batch
    /// (`free_unref_page_commit`). This matters because `init_per_zone_wmark_min` sets the
    /// watermarks twice (the sqrt rule, then khugepaged's larger recommendation), and the
    /// first, transient, `high` is far below the final one.
    func updatePCPLimits(_ z: Int) {
        let managed = zones[z].managedPages
        guard managed > 0 else { setPagesetHighAndBatch(z, high: 0, batch: 1); return }
        var batch = Swift.min(managed >> 10, (1 << 20) / Geometry.pageSize) / 4
        if batch < 1 { batch = 1 }
        batch = roundDownPowerOfTwo(batch + batch / 2) - 1
        if batch < 1 { batch = 1 }
        setPagesetHighAndBatch(z, high: pcpHighLimit(zone: z, batch: batch), batch: batch)
    }

    /// `__zone_set_pageset_high_and_batch`: while the zone's pcp lists are disabled (an offline
    /// in progress) the new limits wait in `pageset*` for `zonePCPEnable`.
    func setPagesetHighAndBatch(_ z: Int, high: Int, batch: Int) {
        zones[z].pcp.pagesetHigh = high
        zones[z].pcp.pagesetBatch = batch
        guard zones[z].pcp.disabled == 0 else { return }
        zones[z].pcp.batch = batch
        zones[z].pcp.high = high
    }

    /// `zone_pcp_disable`: empty the zone's pcp lists and keep them empty (high 0, batch 1),
    /// so every page freed during an offline reaches the buddy lists and can be isolated.
    func zonePCPDisable(_ z: Int) {
        if zones[z].pcp.disabled == 0 {
            zones[z].pcp.pagesetHigh = zones[z].pcp.high
            zones[z].pcp.pagesetBatch = zones[z].pcp.batch
        }
        zones[z].pcp.disabled += 1
        zones[z].pcp.high = 0
        zones[z].pcp.batch = 1
        drainPCP(zone: z)
    }

    /// `zone_pcp_enable`: the limits recorded while disabled come back with the last enable.
    func zonePCPEnable(_ z: Int) {
        precondition(zones[z].pcp.disabled > 0, "zone_pcp_enable without zone_pcp_disable")
        zones[z].pcp.disabled -= 1
        guard zones[z].pcp.disabled == 0 else { return }
        zones[z].pcp.high = zones[z].pcp.pagesetHigh
        zones[z].pcp.batch = zones[z].pcp.pagesetBatch
    }

    /// `setup_per_zone_lowmem_reserve`.
    public func setupPerZoneLowmemReserve() {
        for node in nodes.indices {
            for i in 0..<(Machine.zonesPerNode - 1) {
                let z = zoneIndex(node: node, type: ZoneType(rawValue: i)!)
                let ratio = watermarkTunables.lowmemReserveRatio[i]
                let clear = ratio == 0 || zones[z].managedPages == 0
                var upper = 0
                for j in (i + 1)..<Machine.zonesPerNode {
                    upper += zones[zoneIndex(node: node, type: ZoneType(rawValue: j)!)].managedPages
                    zones[z].lowmemReserve[j] = clear ? 0 : upper / ratio
                }
            }
        }
    }

    /// Sysctl `vm.min_free_kbytes` write (`min_free_kbytes_sysctl_handler`).
    public func setMinFreeKbytes(_ kb: Int) throws {
        guard kb >= 0 else { throw KernelError(.invalidArgument) }
        watermarkTunables.minFreeKbytes = kb
        watermarkTunables.userMinFreeKbytes = kb
        setupPerZoneWmarks()
    }

    public func setWatermarkScaleFactor(_ v: Int) throws {
        guard (1...3000).contains(v) else { throw KernelError(.invalidArgument) }
        watermarkTunables.watermarkScaleFactor = v
        setupPerZoneWmarks()
    }

    public func setLowmemReserveRatio(_ ratios: [Int]) throws {
        guard ratios.allSatisfy({ $0 >= 0 }) else { throw KernelError(.invalidArgument) }
        for (i, r) in ratios.prefix(watermarkTunables.lowmemReserveRatio.count).enumerated() {
            watermarkTunables.lowmemReserveRatio[i] = r
        }
        setupPerZoneLowmemReserve()
    }

    // MARK: Tunables

    /// `watermark_boost_factor` (proc_dointvec_minmax, min 0; no recomputation).
    public func setWatermarkBoostFactor(_ v: Int) throws {
        guard v >= 0 else { throw KernelError(.invalidArgument) }
        watermarkTunables.watermarkBoostFactor = v
    }

    /// `percpu_pagelist_high_fraction_sysctl_handler`: 0 or ≥ 8, then every populated
    /// zone's pcp high and batch are recomputed.
    public func setPercpuPagelistHighFraction(_ v: Int) throws {
        guard v >= 0, v == 0 || v >= 8 else { throw KernelError(.invalidArgument) }
        guard v != vmSysctl.percpuPagelistHighFraction else { return }
        vmSysctl.percpuPagelistHighFraction = v
        for z in zones.indices where zones[z].isPopulated { updatePCPLimits(z) }
    }

    /// `zone_highsize`: the low watermark (fraction 0) or managed / fraction, split over the
    /// node's CPUs (all CPUs are on node 0 in the model: one share each), at least 4 batches.
    /// `updatePCPLimits` uses it, so a non-zero fraction survives
    /// watermark recomputations.
    public func pcpHighLimit(zone z: Int, batch: Int) -> Int {
        let f = vmSysctl.percpuPagelistHighFraction
        let total = f == 0 ? zones[z].watermark.low : zones[z].managedPages / f
        return Swift.max(total / Swift.max(cpus, 1), batch << 2)
    }
}

/// Integer square root (`int_sqrt`).
func isqrt(_ x: Int) -> Int {
    guard x > 1 else { return Swift.max(x, 0) }
    var r = Int(Double(x).squareRoot())
    while r * r > x { r -= 1 }
    while (r + 1) * (r + 1) <= x { r += 1 }
    return r
}

func roundDownPowerOfTwo(_ x: Int) -> Int {
    guard x > 0 else { return 0 }
    return 1 << (Int.bitWidth - 1 - x.leadingZeroBitCount)
}
