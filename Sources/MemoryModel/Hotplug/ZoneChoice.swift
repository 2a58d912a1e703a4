/// Which zone a memory block goes to when it is onlined (mm/memory_hotplug.c
/// `zone_for_pfn_range` and its helpers) and what `valid_zones` therefore shows.
///
/// Zone spans decide, not the pages: a zone "intersects" a range when its spanned pfn range
/// (holes and other zones' pages included) overlaps it.
extension Machine {
    /// `default_kernel_zone_for_pfn`: the first of the node's zones below ZONE_NORMAL whose span
    /// overlaps the range, else ZONE_NORMAL.
    public func defaultKernelZone(node: Int, range: PFNRange) -> ZoneType {
        for t in [ZoneType.dma, .dma32] where zones[zoneIndex(node: node, type: t)].intersects(range) {
            return t
        }
        return .normal
    }

    /// `default_zone_for_pfn` (contig-zones): inherit the zone the range already lies in when
    /// exactly one of the kernel zone and ZONE_MOVABLE spans it; otherwise the kernel zone, or
    /// ZONE_MOVABLE under `movable_node`.
    func defaultZone(node: Int, range: PFNRange) -> ZoneType {
        let kernel = defaultKernelZone(node: node, range: range)
        let inKernel = zones[zoneIndex(node: node, type: kernel)].intersects(range)
        let inMovable = zones[zoneIndex(node: node, type: .movable)].intersects(range)
        if inKernel != inMovable { return inKernel ? kernel : .movable }
        return params.movableNode ? .movable : kernel
    }

    /// `auto_movable_can_online_movable`: would `nrPages` more Movable pages keep MOVABLE :
    /// KERNEL_EARLY within the ratio, system wide (`node` nil) or on one node? Only boot-time
    /// kernel memory counts, and dynamic groups (other than `group`) bring their own kernel pages.
    func autoMovableCanOnlineMovable(node: Int?, group: Int?, nrPages: Int) -> Bool {
        let ratio = params.autoMovableRatio
        var kernelEarly = 0, movable = 0
        for z in zones.indices where zones[z].isPopulated && (node == nil || zones[z].node == node) {
            if zones[z].type == .movable {
                movable += zones[z].presentPages
            } else {
                kernelEarly += zones[z].presentEarlyPages
            }
        }
        var reqKernelEarly = 0, groupMovable = 0
        if ratio != 0 {
            for g in hotplug.groups.values where g.isDynamic && g.id != group && (node == nil || g.node == node) {
                let pages = g.presentMovablePages * 100 / ratio - g.presentKernelPages
                if pages > 0 { reqKernelEarly += pages }
                groupMovable += g.presentMovablePages
            }
        }
        if kernelEarly <= reqKernelEarly { return false }
        kernelEarly -= reqKernelEarly
        movable -= groupMovable
        if let gid = group, let g = hotplug.groups[gid], g.isDynamic { kernelEarly += g.presentKernelPages }
        movable += nrPages
        return movable <= ratio * kernelEarly / 100
    }

    /// `auto_movable_zone_for_pfn`: Movable if the whole device (static group), the unit
    /// (dynamic group) or the block could currently be onlined Movable within the ratio.
    func autoMovableZone(node: Int, group gid: Int?, range: PFNRange) -> ZoneType {
        let kernel = defaultKernelZone(node: node, range: range)
        guard params.autoMovableRatio != 0 else { return kernel }
        var maxPages = range.count, onlinePages = 0
        if let gid, let g = hotplug.groups[gid] {
            if !g.isDynamic {
                maxPages = g.maxPages
                onlinePages = g.presentMovablePages
                // Anything of the device online in a kernel zone: the rest follows it.
                if g.presentKernelPages > 0 { return kernel }
            } else if g.unitPages != range.count {
                maxPages = g.unitPages
                var pfn = roundDown(range.start, g.unitPages)
                let end = pfn + g.unitPages
                while pfn < end {
                    if pfn < memmap.pfnCount, let z = zoneIndex(ofPFN: pfn), memmap.kind(pfn) != .offline {
                        if zones[z].type != .movable { return kernel }
                        onlinePages += Geometry.pagesPerSection
                    }
                    pfn += Geometry.pagesPerSection
                }
            }
        }
        let nr = maxPages - onlinePages
        if !autoMovableCanOnlineMovable(node: nil, group: gid, nrPages: nr) { return kernel }
        if params.autoMovableNumaAware && !autoMovableCanOnlineMovable(node: node, group: gid, nrPages: nr) {
            return kernel
        }
        return .movable
    }

    /// `zone_for_pfn_range`: the zone an online request of `onlineType` picks right now.
    public func zoneForPFNRange(_ onlineType: OnlineType, node: Int, group: Int?, range: PFNRange) -> ZoneType {
        switch onlineType {
        case .onlineKernel: return defaultKernelZone(node: node, range: range)
        case .onlineMovable: return .movable
        default:
            if params.onlinePolicy == .autoMovable { return autoMovableZone(node: node, group: group, range: range) }
            return defaultZone(node: node, range: range)
        }
    }

    /// `valid_zones` of a block, without the newline: the block's zone when online (`none`
    /// for a boot block spanning zones or nodes), else the default zone, then the
    /// online_kernel and online_movable zones when they differ from it.
    public func validZones(block id: Int) -> String? {
        guard let mem = blocks[id] else { return nil }
        if mem.state == .online { return mem.zone?.name ?? "none" }
        let range = mem.range
        let d = zoneForPFNRange(.online, node: mem.node, group: mem.group, range: range)
        var text = d.name
        for t in [OnlineType.onlineKernel, .onlineMovable] {
            let z = zoneForPFNRange(t, node: mem.node, group: mem.group, range: range)
            if z != d { text += " " + z.name }
        }
        return text
    }
}
