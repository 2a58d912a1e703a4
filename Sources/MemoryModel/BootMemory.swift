/// Bringing up boot memory the way `free_area_init` + `memblock_free_all` do: zone spans from
/// the layout, every present page in its zone, memblock reservations kept PageReserved, and
/// everything else freed to the buddy allocator in ascending pfn order (so the highest
/// pages end up at the head of the free lists and early kernel allocations land at the top
/// of the highest kernel zone, as on the real kernel).
extension Machine {
    /// One zone's boot span on one node.
    struct BootZoneSpan {
        var node: Int
        var type: ZoneType
        var span: PFNRange
    }

    func setUpBootMemory(zoneSpans: [BootZoneSpan], present: [(range: PFNRange, node: Int)], reserved: [PFNRange]) {
        for s in zoneSpans where !s.span.isEmpty {
            let z = zoneIndex(node: s.node, type: s.type)
            zones[z].startPFN = s.span.start
            zones[z].spannedPages = s.span.count
        }
        // Which zone each present range's pages fall in: the node's zone whose span holds them.
        // Boot zones of a node never overlap.
        var pieces: [(range: PFNRange, zone: Int)] = []
        for p in present {
            for s in zoneSpans where s.node == p.node && s.span.intersects(p.range) {
                let piece = p.range.clamped(to: s.span)
                pieces.append((piece, zoneIndex(node: s.node, type: s.type)))
            }
        }
        pieces.sort { $0.range.start < $1.range.start }
        for piece in pieces {
            setPageblockZone(piece.range, zone: piece.zone)
            memmap.fill(piece.range, kind: .buddyTail, kindOnly: true)
            zones[piece.zone].presentPages += piece.range.count
            zones[piece.zone].presentEarlyPages += piece.range.count
        }
        let sortedReserved = reserved.filter { !$0.isEmpty }.sorted { $0.start < $1.start }
        for piece in pieces {
            for r in sortedReserved where piece.range.intersects(r) {
                memmap.fill(piece.range.clamped(to: r), kind: .reserved)
            }
        }
        // memblock_free_all: free every run between reservations in maximal aligned chunks.
        // Interval arithmetic, not a page walk: boot must stay fast on terabyte machines.
        for piece in pieces {
            var pfn = piece.range.start
            for r in sortedReserved where r.end > pfn && r.start < piece.range.end {
                if r.start > pfn { freeBootRange(PFNRange(start: pfn, end: r.start), zone: piece.zone) }
                pfn = Swift.max(pfn, r.end)
            }
            if pfn < piece.range.end { freeBootRange(PFNRange(start: pfn, end: piece.range.end), zone: piece.zone) }
        }
    }

    /// `free_reserved_area`: PageReserved pages become managed free pages (MemTotal grows).
    public func freeReservedRange(_ range: PFNRange) {
        var pfn = range.start
        while pfn < range.end {
            guard memmap.kind(pfn) == .reserved, let z = zoneIndex(ofPFN: pfn) else { pfn += 1; continue }
            var end = pfn
            while end < range.end && memmap.kind(end) == .reserved && zoneIndex(ofPFN: end) == z { end += 1 }
            memmap.fill(PFNRange(start: pfn, end: end), kind: .buddyTail)
            freeBootRange(PFNRange(start: pfn, end: end), zone: z)
            pfn = end
        }
    }

    /// `__free_pages_core` over a range: largest naturally aligned blocks, managed += count.
    func freeBootRange(_ range: PFNRange, zone z: Int) {
        var pfn = range.start
        while pfn < range.end {
            var order = Geometry.maxOrder - 1
            while order > 0 && (pfn & ((1 << order) - 1) != 0 || pfn + (1 << order) > range.end) { order -= 1 }
            memmap.setKind(pfn, .buddyTail)
            zones[z].managedPages += 1 << order
            freeOneBlock(z, pfn, order: order, mt: pageblockMigrateType(pfn))
            pfn += 1 << order
        }
    }

    /// `build_all_zonelists`: for each node, nodes by distance (then id), each node's zones
    /// from the highest down.
    func buildZonelists() {
        for n in nodes.indices {
            let order = nodes.indices.filter { nodes[$0].exists }.sorted { a, b in
                let da = distance(n, a), db = distance(n, b)
                return da != db ? da < db : a < b
            }
            nodes[n].zonelist = order.flatMap { m in ZoneType.allCases.reversed().map { zoneIndex(node: m, type: $0) } }
            // The walk for each gfp_zone, with and without __GFP_THISNODE, computed once.
            nodes[n].zonelistsByZone = ZoneType.allCases.map { highest in
                [false, true].map { thisNode in
                    nodes[n].zonelist.filter { z in
                        zones[z].type <= highest && (!thisNode || zones[z].node == n)
                    }
                }
            }
        }
    }

    public func distance(_ a: Int, _ b: Int) -> Int {
        if config.distances.indices.contains(a), config.distances[a].indices.contains(b) { return config.distances[a][b] }
        return a == b ? 10 : 20
    }
}

extension Machine {
    /// A small machine without QEMU's layout, for tests: `layout[node]` lists that node's
    /// zones and their sizes in pages, laid out back to back from pfn 1024 (pfn 0 stays absent
    /// as on x86). Zone sizes should be multiples of the pageblock, as real zone boundaries are.
    static func synthetic(_ layout: [[(ZoneType, Int)]], reserved: [PFNRange] = [], seed: UInt64 = 1) -> Machine {
        var spans: [BootZoneSpan] = []
        var present: [(range: PFNRange, node: Int)] = []
        var pfn = Geometry.maxOrderPages
        for (node, zones) in layout.enumerated() {
            for (type, pages) in zones {
                let r = PFNRange(start: pfn, count: pages)
                spans.append(BootZoneSpan(node: node, type: type, span: r))
                present.append((r, node))
                pfn += pages
            }
        }
        var config = MachineConfig(memBytes: pfn << Geometry.pageShift, maxmemBytes: 0, slots: 0)
        config.seed = seed
        let m = Machine(config: config, params: KernelParameters(), pfnCount: pfn, nodeIDs: Array(layout.indices))
        m.setUpBootMemory(zoneSpans: spans, present: present, reserved: reserved)
        m.buildZonelists()
        m.initPerZoneWmarkMin()
        return m
    }
}
