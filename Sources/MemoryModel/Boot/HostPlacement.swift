/// The placement stage of the host boot path: every page of a `HostLayout` put where a
/// snapshot's census saw it, instead of where QEMU's boot would have allocated it.
///
/// What a page holds, as far as memory offlining and the kernel's counters care.
public enum HostPageKind: Sendable, Equatable {
    /// In a free buddy block (blocks are the largest aligned power-of-two pieces of a run, as
    /// `__free_one_page` always merges buddies).
    case free
    /// PageReserved (memblock, the kernel image, holes inside a section).
    case reserved
    /// An allocated page held by the model owner of that kind and node.
    case allocated(PageKind)
    /// HugeTLB pages of `order`, whole (the run is a multiple of the page size, heads aligned):
    /// free in the pool, or mapped by a process.
    case hugetlb(order: Int, inUse: Bool)
    /// PG_offline: a balloon's or virtio-mem's logically offline page, not managed. `released`:
    /// its reference is dropped, so offlining passes over it (as a driver does in
    /// MEM_GOING_OFFLINE, and as offline treats a hwpoisoned page); otherwise it is held.
    case pageOffline(released: Bool)
}

/// A run of pages of one kind.
public struct HostPageRun: Sendable, Equatable {
    public var range: PFNRange
    public var kind: HostPageKind
    public init(_ range: PFNRange, _ kind: HostPageKind) { self.range = range; self.kind = kind }
}

extension Machine {
    /// Boot the machine a host layout describes, with its pages placed from `runs` (sorted by
    /// pfn, not overlapping; present pages no run covers are PageReserved). Nothing is
    /// allocated through the allocator: the census is the kernel's own answer to where
    /// things are, so the buddy lists hold exactly the free runs and every allocated page sits
    /// at its pfn, held by an owner per kind and node (`host:anon@node0`, ...).
    ///
    /// Pageblock migratetypes are not in any kernel file but /proc/pagetypeinfo's counts: a
    /// pageblock takes the type most of its allocated pages need (unmovable kernel memory,
    /// reclaimable slab, else movable; always movable in ZONE_MOVABLE). Throws
    /// `MachineConfigError` for a layout the model cannot hold.
    public static func boot(host: HostLayout, pages runs: [HostPageRun]) throws -> Machine {
        try host.check()
        let bp = host.blockBytes >> Geometry.pageShift
        let blockEnd = (host.blocks.map(\.id).max() ?? 0) * bp + bp
        let pfnCount = roundUp(Swift.max(host.endPFN, blockEnd), Swift.max(bp, Geometry.pagesPerSection))
        let nodeIDs = host.nodeIDs
        var config = MachineConfig(
            memBytes: host.ram.reduce(0) { $0 + $1.range.count } << Geometry.pageShift, maxmemBytes: 0, slots: 0,
            cmdline: host.params.cmdline, gbpages: host.gbpages, seed: host.seed)
        config.nodes = nodeIDs.map { n in
            NodeConfig(
                id: n,
                memBytes: host.ram.filter { $0.node == n }.reduce(0) { $0 + $1.range.count } << Geometry.pageShift)
        }
        let m = Machine(config: config, params: host.params, pfnCount: pfnCount, nodeIDs: nodeIDs)
        m.host = host
        m.blockPages = bp
        if let r = host.lowmemReserveRatio {
            for (i, v) in r.prefix(m.watermarkTunables.lowmemReserveRatio.count).enumerated() {
                m.watermarkTunables.lowmemReserveRatio[i] = v
            }
        }
        if let w = host.watermarkScaleFactor { m.watermarkTunables.watermarkScaleFactor = w }
        let pieces = m.hostPresentPieces(host)
        m.placeHostPages(pieces: pieces, runs: runs)
        m.buildZonelists()
        m.initPerZoneWmarkMin()
        if let kb = host.minFreeKbytes, kb != m.watermarkTunables.minFreeKbytes {
            m.watermarkTunables.minFreeKbytes = kb
            m.setupPerZoneWmarks()
        }
        m.registerHostBlocks(host)
        m.hostHugetlbInit(host, runs: runs)
        m.registerHostBootMemmaps(runs)
        m.log(
            "memhp: booted from a snapshot of Linux \(host.kernelRelease ?? "(unknown)"): \(nodeIDs.count) node(s), \(host.blocks.count) memory blocks of \(host.blockBytes >> 20) MiB"
        )
        return m
    }

    /// System RAM of the online blocks cut at zone boundaries: (range, flattened zone), by pfn.
    /// A block online in one zone gives all its pages to that zone; a boot block spanning
    /// several (valid_zones `none`) gives each page to the lowest zone of its node whose span
    /// holds it, as boot's zone ranges did.
    func hostPresentPieces(_ host: HostLayout) -> [(range: PFNRange, zone: Int)] {
        let bp = blockPages
        for z in host.zones {
            let i = zoneIndex(node: z.node, type: z.type)
            zones[i].startPFN = z.span.start
            zones[i].spannedPages = z.span.count
        }
        let blocksByID = Dictionary(host.blocks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var pieces: [(range: PFNRange, zone: Int)] = []
        for r in host.ram.sorted(by: { $0.range.start < $1.range.start }) {
            var pfn = r.range.start
            while pfn < r.range.end {
                let id = pfn / bp
                let end = Swift.min(r.range.end, (id + 1) * bp)
                defer { pfn = end }
                guard let b = blocksByID[id] else { continue }
                let piece = PFNRange(start: pfn, end: end)
                if !b.online {
                    memmap.fill(piece, kind: .offline)
                    continue
                }
                if let t = b.zone {
                    pieces.append((piece, zoneIndex(node: b.node, type: t)))
                    continue
                }
                for z in host.zones.filter({ $0.node == b.node }).sorted(by: { $0.type < $1.type }) {
                    let p = piece.clamped(to: z.span)
                    if !p.isEmpty, !pieces.contains(where: { $0.range.intersects(p) }) {
                        pieces.append((p, zoneIndex(node: z.node, type: z.type)))
                    }
                }
            }
        }
        return pieces.sorted { $0.range.start < $1.range.start }
    }

    /// Present pages into their zones (reserved until a run says more), pageblock types, then
    /// every run: free blocks onto the buddy lists, allocated pages to their owners, HugeTLB
    /// pages as compound pages (joined to their pool by `hostHugetlbInit`).
    func placeHostPages(pieces: [(range: PFNRange, zone: Int)], runs: [HostPageRun]) {
        for p in pieces {
            setPageblockZone(p.range, zone: p.zone)
            memmap.fill(p.range, kind: .reserved)
            zones[p.zone].presentPages += p.range.count
            zones[p.zone].presentEarlyPages += p.range.count
            hotplug.addedEndPFN = Swift.max(hotplug.addedEndPFN, p.range.end)
        }
        setHostPageblockTypes(runs)
        var ownerIDs: [Int: Int] = [:]  // kind raw << 8 | node → owner id
        var pi = 0
        for run in runs {
            if case .hugetlb = run.kind {
                // A huge page may span blocks (1 GiB over eight of 128 MiB): placed whole when
                // one zone holds every pageblock of it.
                if let z = zoneIndex(ofPFN: run.range.start),
                    stride(from: run.range.start, to: run.range.end, by: Geometry.pageblockPages).allSatisfy({
                        zoneIndex(ofPFN: $0) == z
                    })
                {
                    placeHostRun(run.range, run.kind, zone: z, ownerIDs: &ownerIDs)
                }
                continue
            }
            while pi < pieces.count && pieces[pi].range.end <= run.range.start { pi += 1 }
            var j = pi
            while j < pieces.count && pieces[j].range.start < run.range.end {
                let r = run.range.clamped(to: pieces[j].range)
                if !r.isEmpty { placeHostRun(r, run.kind, zone: pieces[j].zone, ownerIDs: &ownerIDs) }
                j += 1
            }
        }
    }

    func placeHostRun(_ r: PFNRange, _ kind: HostPageKind, zone z: Int, ownerIDs: inout [Int: Int]) {
        switch kind {
        case .reserved:
            break
        case .free:
            memmap.fill(r, kind: .buddyTail)
            freeBootRange(r, zone: z)
        case .pageOffline(let released):
            // virtio_mem_set_fake_offline: PageOffline, the driver's reference held, not managed.
            memmap.pageOffline.set(r)
            if released { memmap.pageOffline.dropReferences(r) }
        case .allocated(let k):
            precondition(k.isAllocated && k != .hugetlb && k != .tail, "not an owner's kind: \(k)")
            let node = zones[z].node
            let key = Int(k.rawValue) << 8 | node
            if ownerIDs[key] == nil {
                ownerIDs[key] = try? createOwner(name: "host:\(k)@node\(node)", kind: k, node: node)
            }
            guard let id = ownerIDs[key] else { return }
            memmap.fill(r, kind: k)
            zones[z].managedPages += r.count
            zones[z].kindPages[Int(k.rawValue)] += r.count
            // Invariant: `id` came from createOwner, which filled that slot; placement destroys none.
            owners.slots[id]!.blocks.reserveCapacity(owners.slots[id]!.blocks.count + r.count)
            for pfn in r.start..<r.end { attach(pfn, to: id) }
        case .hugetlb(let order, _):
            let n = 1 << order
            var head = roundUp(r.start, n)
            while head + n <= r.end {
                memmap.fill(PFNRange(start: head, count: n), kind: .tail)
                memmap.setKind(head, .hugetlb)
                memmap.setOrder(head, order)
                zones[z].managedPages += n
                zones[z].kindPages[Int(PageKind.hugetlb.rawValue)] += n
                head += n
            }
        }
    }

    /// A pageblock's migratetype from what it holds: unmovable kernel memory or reclaimable
    /// slab when they are most of its allocated pages, movable otherwise.
    func setHostPageblockTypes(_ runs: [HostPageRun]) {
        var votes: [Int: (u: Int, r: Int, m: Int)] = [:]
        for run in runs {
            let v: Int
            switch run.kind {
            case .allocated(let k):
                switch k {
                case .slabReclaimable: v = 1
                case .anon, .pageCache, .shmem, .ramfs, .pinned: v = 2
                default: v = 0
                }
            case .hugetlb: v = 2
            default: continue
            }
            var pfn = run.range.start
            while pfn < run.range.end {
                let pb = pfn >> Geometry.pageblockOrder
                let end = Swift.min(run.range.end, (pb + 1) << Geometry.pageblockOrder)
                var c = votes[pb] ?? (0, 0, 0)
                switch v {
                case 0: c.u += end - pfn
                case 1: c.r += end - pfn
                default: c.m += end - pfn
                }
                votes[pb] = c
                pfn = end
            }
        }
        for (pb, c) in votes {
            let pfn = pb << Geometry.pageblockOrder
            guard let z = zoneIndex(ofPFN: pfn), zones[z].type != .movable else { continue }
            if c.u >= c.r && c.u > c.m {
                setPageblockMigrateType(pfn, .unmovable)
            } else if c.r > c.u && c.r > c.m {
                setPageblockMigrateType(pfn, .reclaimable)
            }
        }
    }

    /// The memory block devices as the host had them; a block not wholly System RAM is one
    /// offline refuses (EINVAL, memory holes).
    func registerHostBlocks(_ host: HostLayout) {
        for b in host.blocks {
            var mem = MemoryBlock(
                id: b.id, startPFN: b.id * blockPages, pages: blockPages, state: b.online ? .online : .offline,
                zone: b.online ? b.zone : nil, node: b.node, isBoot: true)
            mem.onlineType = .offline
            blocks[b.id] = mem
            if b.online, firstHole(in: mem.range) != nil { hotplug.holeBlocks.insert(b.id) }
            if !b.online { hotplug.addedEndPFN = Swift.max(hotplug.addedEndPFN, mem.range.end) }
        }
    }

    /// `hugetlb_init` for a host: the hstates of its pools (2 MiB always, 1 GiB with gbpages),
    /// no boot allocation; the census' HugeTLB pages join their pools, free ones on their
    /// node's free list, in-use ones mapped by one shared mapping per size that also holds
    /// the pool's reservations. With HVO on, every page counts as optimized (the census
    /// already shows the vmemmap pages the kernel freed as free memory).
    func hostHugetlbInit(_ host: HostLayout, runs: [HostPageRun]) {
        hugetlb.initialized = true
        hugetlb.flags = [UInt8](repeating: 0, count: (memmap.pfnCount >> Geometry.pageblockOrder) + 1)
        ensureVmemmapArrays()
        hugetlb.optimizeVmemmap = host.hvo
        var sizes = Set(host.pools.map(\.sizeBytes) + [2 << 20])
        if host.gbpages { sizes.insert(1 << 30) }
        for s in sizes.sorted() {
            hugetlb.hstates.append(
                HState(order: (s >> Geometry.pageShift).trailingZeroBitCount, nodeCount: nodes.count))
        }
        hugetlb.defaultIndex =
            hugetlb.index(ofSizeBytes: params.defaultHugePageSizeBytes) ?? hugetlb.index(ofSizeBytes: 2 << 20)!
        for i in hugetlb.hstates.indices where i > 0 { hugetlb.hstates[i].demoteOrder = hugetlb.hstates[i - 1].order }
        var inUse: [Int: PFNList] = [:]
        for run in runs {
            guard case .hugetlb(let order, let used) = run.kind, let hi = hstateIndex(ofOrder: order) else { continue }
            var head = roundUp(run.range.start, 1 << order)
            while head + (1 << order) <= run.range.end {
                defer { head += 1 << order }
                guard memmap.kind(head) == .hugetlb, let z = zoneIndex(ofPFN: head) else { continue }
                let nid = zones[z].node
                setHPFlags(head, host.hvo ? [.head, .vmemmapOptimized] : .head)
                if host.hvo {
                    hugetlb.stats.optimized += 1
                    hugetlb.stats.vmemmapPagesFreed += vmemmapFreeablePages(hugetlb.hstates[hi])
                }
                hugetlb.hstates[hi].nrHugePages += 1
                hugetlb.hstates[hi].nrHugePagesNode[nid] += 1
                if used { inUse[hi, default: PFNList()].append(head) } else { enqueueHugePage(hi, head) }
            }
        }
        for p in host.pools {
            guard let hi = hugetlb.index(ofSizeBytes: p.sizeBytes) else { continue }
            for (n, s) in p.surplusPerNode where nodes.indices.contains(n) {
                let c = Swift.min(s, hugetlb.hstates[hi].nrHugePagesNode[n])
                hugetlb.hstates[hi].surplusHugePagesNode[n] = c
                hugetlb.hstates[hi].surplusHugePages += c
            }
            hugetlb.hstates[hi].nrOvercommitHugePages = p.overcommit
            hugetlb.hstates[hi].resvHugePages = Swift.min(p.resv, hugetlb.hstates[hi].freeHugePages)
        }
        for hi in hugetlb.hstates.indices {
            let h = hugetlb.hstates[hi]
            hugetlb.hstates[hi].maxHugePages = h.nrHugePages - h.surplusHugePages
            let used = inUse[hi] ?? PFNList()
            guard !used.isEmpty || h.resvHugePages > 0 else { continue }
            let id = hugetlb.nextMappingID
            hugetlb.nextMappingID += 1
            hugetlb.mappings[id] = HugeTLBMapping(
                id: id, name: "host:\(h.name)", hstate: hi, shared: true, noreserve: false, node: 0,
                pages: used + PFNList(repeating: 0, count: h.resvHugePages), reserved: h.resvHugePages)
            for (i, head) in used.enumerated() { hugetlb.mapped[Int(head)] = .init(mapping: id, index: i) }
        }
    }

    /// sparse_init put each node's boot memmaps in memblock memory: the snapshot cannot say
    /// where, so they are registered in the node's largest reserved run (HVO frees and
    /// restores there). Sections that find no room keep an unknown memmap: HVO does not
    /// optimize pages allocated in them later.
    func registerHostBootMemmaps(_ runs: [HostPageRun]) {
        var largest: [Int: PFNRange] = [:]
        for r in runs where r.kind == .reserved && r.range.count >= 512 {
            guard let z = zoneIndex(ofPFN: r.range.start) else { continue }
            let n = zones[z].node
            if r.range.count > largest[n]?.count ?? 0 { largest[n] = r.range }
        }
        for (n, r) in largest.sorted(by: { $0.key < $1.key }) { registerBootMemmap(node: n, range: r) }
    }
}
