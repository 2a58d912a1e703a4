/// Bringing up boot memory the way `free_area_init` + `memblock_free_all` +
/// `deferred_init_memmap` do on Debian's 6.1 (CONFIG_DEFERRED_STRUCT_PAGE_INIT=y):
///
/// - zone spans from the layout, every present page in its zone, memblock reservations kept
///   PageReserved;
/// - `memmap_init`/`defer_init`: in the zone that ends where its node ends, only the pages up to
///   the first section boundary past one section's worth are initialised early; the rest
///   waits for `page_alloc_init_late`. Early pageblocks are all MIGRATE_MOVABLE (a pageblock
///   whose first pfn is a hole keeps type 0, MIGRATE_UNMOVABLE); a deferred pageblock becomes
///   MIGRATE_MOVABLE only when `deferred_free_range` frees its first pfn, so pageblocks that
///   start with a reservation stay MIGRATE_UNMOVABLE;
/// - `memblock_free_all` frees the early part, then `deferred_init_memmap` the rest, each in
///   ascending pfn order through `__free_pages_core`, which queues at the tail of the free
///   lists (FPI_TO_TAIL). So a free list runs from the lowest early block at its head to the
///   highest deferred block at its tail, and the kernel's boot allocations fill memory from
///   the bottom of the node's highest kernel zone (just above the kernel image when that zone
///   is DMA32), not from its top.
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
        // defer_init: where each node's deferred struct pages begin.
        var deferFrom: [Int: PFN] = [:]
        for n in Set(present.map(\.node)) {
            deferFrom[n] = Machine.firstDeferredPFN(node: n, zoneSpans: zoneSpans, present: present)
        }
        // Pageblock types: memmap_init_range marks every pageblock whose first pfn it
        // initialises MIGRATE_MOVABLE (the model's default); the others keep 0: those whose
        // first page is absent, and deferred ones whose first page is reserved (left to
        // deferred_init_memmap, which marks only what it frees). Interval arithmetic again:
        // a pageblock that starts inside a piece has a present first page, so only the
        // reserved ranges need looking at, not 8 M pageblocks of a 16 TiB boot.
        let pageblock = Geometry.pageblockPages
        for piece in pieces {
            let d = deferFrom[zones[piece.zone].node] ?? Int.max
            // A pageblock begun before the piece, by a hole or another zone's pages.
            let first = roundDown(piece.range.start, pageblock)
            if first < piece.range.start && zoneIndex(ofPFN: first) == piece.zone {
                let k = memmap.kind(first)
                if k == .absent || (first >= d && k == .reserved) { setPageblockMigrateType(first, .unmovable) }
            }
            guard d < piece.range.end else { continue }
            let from = Swift.max(piece.range.start, d)
            for r in sortedReserved where r.end > from && r.start < piece.range.end {
                var pb = roundUp(Swift.max(r.start, from), pageblock)
                while pb < Swift.min(r.end, piece.range.end) {
                    setPageblockMigrateType(pb, .unmovable)
                    pb += pageblock
                }
            }
        }
        // memblock_free_all, then deferred_init_memmap: every run between reservations in
        // maximal aligned chunks. Interval arithmetic, not a page walk: boot must stay fast
        // on terabyte machines.
        var runs: [(range: PFNRange, zone: Int)] = []
        for piece in pieces {
            var pfn = piece.range.start
            for r in sortedReserved where r.end > pfn && r.start < piece.range.end {
                if r.start > pfn { runs.append((PFNRange(start: pfn, end: r.start), piece.zone)) }
                pfn = Swift.max(pfn, r.end)
            }
            if pfn < piece.range.end { runs.append((PFNRange(start: pfn, end: piece.range.end), piece.zone)) }
        }
        var lateRuns: [(range: PFNRange, zone: Int)] = []
        for run in runs {
            let d = deferFrom[zones[run.zone].node] ?? Int.max
            if run.range.end <= d { freeBootRange(run.range, zone: run.zone); continue }
            if run.range.start < d { freeBootRange(PFNRange(start: run.range.start, end: d), zone: run.zone) }
            lateRuns.append((PFNRange(start: Swift.max(run.range.start, d), end: run.range.end), run.zone))
        }
        for run in lateRuns { freeBootRange(run.range, zone: run.zone) }
    }

    /// `defer_init()`: in the zone that ends where the node ends, struct pages are
    /// initialised for the first present pages up to the first section boundary reached after
    /// more than a section's worth of them; everything from there on is deferred. Int.max:
    /// nothing deferred.
    static func firstDeferredPFN(node n: Int, zoneSpans: [BootZoneSpan], present: [(range: PFNRange, node: Int)]) -> PFN
    {
        let ranges = present.filter { $0.node == n }.map(\.range).sorted { $0.start < $1.start }
        guard let nodeEnd = ranges.map(\.end).max() else { return Int.max }
        for s in zoneSpans.filter({ $0.node == n && !$0.span.isEmpty && $0.span.end >= nodeEnd }).sorted(by: {
            $0.type < $1.type
        }) {
            var counted = 0
            for r in ranges {
                let piece = r.clamped(to: s.span)
                if piece.isEmpty { continue }
                let p = roundUp(
                    Swift.max(piece.start, piece.start + Geometry.pagesPerSection - counted), Geometry.pagesPerSection)
                if p < piece.end { return p }
                counted += piece.count
            }
        }
        return Int.max
    }

    /// `free_reserved_area` (free_initmem, free_initrd_mem, the SMP alternatives): page by page
    /// through free_reserved_page → __free_page, i.e. onto the per-cpu list of the page's zone,
    /// flushed to the buddy lists in batches once the list passes pcp->high. Pages parked there
    /// are not in NR_FREE_PAGES, so they count against no watermark check until drained.
    public func freeReservedPages(_ range: PFNRange) {
        for pfn in range.start..<range.end {
            guard memmap.kind(pfn) == .reserved, let z = zoneIndex(ofPFN: pfn) else { continue }
            zones[z].managedPages += 1
            memmap.setKind(pfn, .kernel)
            memmap.setOrder(pfn, 0)
            memmap.setOwner(pfn, 0)
            zones[z].kindPages[Int(PageKind.kernel.rawValue)] += 1
            freePages(pfn, order: 0)
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
            freeOneBlock(z, pfn, order: order, mt: pageblockMigrateType(pfn), toTail: true)
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
        if config.distances.indices.contains(a), config.distances[a].indices.contains(b) {
            return config.distances[a][b]
        }
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
