/// What `echo offline > /sys/devices/system/memory/memoryN/state` would do on the host the
/// snapshot was taken of, following 6.1's path: state_store → memory_block_offline →
/// offline_pages (mm/memory_hotplug.c) → start_isolate_page_range / has_unmovable_pages
/// (mm/page_isolation.c) → scan_movable_pages + do_migrate_range → dissolve_free_huge_pages →
/// test_pages_isolated.
public struct BlockPrediction: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// The write succeeds.
        case success
        /// -EBUSY: isolation found an unmovable page, or a huge page could not be dissolved.
        case ebusy = "EBUSY"
        /// -EINVAL: already offline, several zones, holes.
        case einval = "EINVAL"
        /// Pages that can never migrate: offline_pages retries until a signal (-EINTR).
        case spins = "EINTR"
        /// -ENOMEM: HVO's vmemmap restore found no memory for a huge page being dissolved.
        case enomem = "ENOMEM"
        /// No census (no /proc/kpageflags, not root): the pages decide, and they are unknown.
        case unknown
    }

    public var block: Int
    public var startPFN: Int
    public var pages: Int
    public var state: String
    public var zone: String
    public var node: Int?
    public var outcome: Outcome
    /// offline_pages' reason in the kernel's words ("memory holes", "multizone range",
    /// "failure to isolate range", "unmovable page", "signal backoff", "failure to dissolve
    /// huge pages"), or what state_store/memory_block_offline refused on.
    public var reason: String
    /// The page or count behind the reason.
    public var detail: String
    /// The first page that decided a failure, and its kind.
    public var pfn: Int?
    public var kind: String?
    /// Base pages migrate_pages would move (LRU pages).
    public var migrate: Int
    /// In-use HugeTLB pages to migrate, free ones to dissolve.
    public var hugeMigrate: Int
    public var hugeDissolve: Int
    /// vmemmap pages HVO's restore must allocate for the huge pages of this block.
    public var vmemmapNeeded: Int

    public var errno: String { outcome == .success ? "0" : outcome.rawValue }
    public var removable: Bool { outcome == .success }
}

public struct OfflinePredictor {
    public let snapshot: HostSnapshot
    public let census: PageCensus?
    public var assumptions: Assumptions

    public init(snapshot: HostSnapshot, census: PageCensus?, assumptions: Assumptions = Assumptions()) {
        self.snapshot = snapshot
        self.census = census
        self.assumptions = assumptions
    }

    var pageblockPages: Int { 1 << (snapshot.pageblockOrder ?? 9) }
    /// MAX_ORDER_NR_PAGES on x86_64 (MAX_ORDER 11).
    static let maxOrderPages = 1024
    /// struct page is 64 bytes: a huge page of N base pages has N*64/4096 vmemmap pages, of
    /// which HVO keeps 1 in 6.1 (HUGETLB_VMEMMAP_RESERVE_SIZE = PAGE_SIZE).
    static let structPageBytes = 64, vmemmapKeptPages = 1
    /// ZONE_NORMAL's index in lowmem_reserve[] (DMA, DMA32, Normal, Movable, Device on x86_64).
    static let normalZoneIndex = 2

    var hvo: Bool { assumptions.hvo ?? snapshot.hvoEnabled }

    /// System RAM page ranges (walk_system_ram_range): /proc/iomem's top-level "System RAM"
    /// resources, or the firmware map's when iomem could not be read.
    func systemRAM() -> [Range<Int>] {
        let io = snapshot.iomem.filter { $0.depth == 0 && $0.name == "System RAM" }
        if !io.isEmpty { return io.map { Int($0.start >> 12)..<Int(($0.end + 1) >> 12) } }
        return snapshot.firmwareMap.filter { $0.type == "System RAM" }.map {
            Int($0.start >> 12)..<Int(($0.end + 1) >> 12)
        }
    }

    public func predictAll() -> [BlockPrediction] {
        let ram = systemRAM()
        var ctx = NodeContext(snapshot: snapshot, census: census)
        ctx.flaglessKernelZones = flaglessKernelZones()
        return snapshot.blocks.map { predict($0, ram: ram, ctx: ctx) }
    }

    /// Zones ("node name") whose unmapped flagless pages count as kernel memory: all with
    /// `flagless=kernel`, none with `free`; in auto, those with more such pages than their
    /// per-cpu lists hold (or whose pcp count is unknown).
    func flaglessKernelZones() -> Set<String> {
        var out = Set<String>()
        for z in snapshot.zones where z.present > 0 {
            let key = "\(z.node) \(z.name)"
            switch assumptions.flaglessIsKernel {
            case true?: out.insert(key)
            case false?: break
            case nil:
                guard let pcp = z.pcp, let census else { out.insert(key); continue }
                let flagless = census.counts(z.startPFN, z.endPFN)[.flagless] ?? 0
                // The lists and the census are read moments apart: allow 1/8 of churn.
                if flagless > pcp + pcp / 8 { out.insert(key) }
            }
        }
        return out
    }

    /// Free memory per node (zoneinfo) and the HugeTLB pool, shared by every block.
    struct NodeContext {
        var kernelHeadroom: [Int: Int] = [:]
        var flaglessKernelZones = Set<String>()
        var freeOutside: [Int: Int] = [:]
        var totalHeadroom = 0
        init(snapshot: HostSnapshot, census: PageCensus?) {
            for z in snapshot.zones where z.managed > 0 {
                totalHeadroom += Swift.max(0, z.free - z.min)
                if z.name != "Movable" && z.name != "Device" {
                    // GFP_KERNEL | __GFP_NORETRY | __GFP_THISNODE: the node's kernel zones above min
                    // plus lowmem_reserve[ZONE_NORMAL] (zone_watermark_ok's protection; no reserves).
                    let reserve =
                        z.protection.count > OfflinePredictor.normalZoneIndex
                        ? z.protection[OfflinePredictor.normalZoneIndex] : 0
                    kernelHeadroom[z.node, default: 0] += Swift.max(0, z.free - z.min - reserve)
                }
            }
        }
    }

    func predict(_ b: HostSnapshot.BlockState, ram: [Range<Int>], ctx: NodeContext) -> BlockPrediction {
        let n = snapshot.blockPages
        let s = b.id * n, e = s + n
        let zoneName = b.validZones.map { $0.split(separator: " ").first.map(String.init) ?? "none" } ?? "?"
        var p = BlockPrediction(
            block: b.id, startPFN: s, pages: n, state: b.state, zone: zoneName, node: b.node,
            outcome: .success, reason: "", detail: "", pfn: nil, kind: nil,
            migrate: 0, hugeMigrate: 0, hugeDissolve: 0, vmemmapNeeded: 0)
        func fail(
            _ o: BlockPrediction.Outcome, _ reason: String, _ detail: String, pfn: Int? = nil, kind: CensusKind? = nil
        ) -> BlockPrediction {
            p.outcome = o; p.reason = reason; p.detail = detail; p.pfn = pfn; p.kind = kind?.name
            return p
        }
        // state_store: device_offline returns 1 for an offline device, which becomes -EINVAL.
        guard b.state == "online" else {
            return fail(
                .einval, "already offline",
                "state is \(b.state): device_offline() has nothing to do, state_store() turns that into -EINVAL")
        }
        // memory_block_offline: mem->zone is NULL for a block that spans several zones (valid_zones "none").
        if zoneName == "none" {
            return fail(
                .einval, "multizone range",
                "valid_zones is \"none\": the block spans several zones (memory_block_offline: no mem->zone)")
        }
        // offline_pages: walk_system_ram_range must cover the whole block.
        if !ram.isEmpty {
            var covered = 0
            for r in ram where r.upperBound > s && r.lowerBound < e {
                covered += Swift.min(e, r.upperBound) - Swift.max(s, r.lowerBound)
            }
            if covered != n {
                let hole = firstHole(s, e, ram)
                return fail(
                    .einval, "memory holes",
                    "\(n - covered) of \(n) pages are not System RAM (first at pfn \(hex(hole)))", pfn: hole,
                    kind: .noPage)
            }
        }
        guard let census else {
            return fail(
                .unknown, "no census",
                "without /proc/kpageflags (root only) the pages are unknown; holes, zones and state allow the offline")
        }
        let movableZone = zoneName == "Movable"

        // start_isolate_page_range: the first pageblock, the last, then those between.
        let pb = pageblockPages
        var order = [s]
        if e - pb != s { order.append(e - pb) }
        var q = s + pb
        while q < e - pb { order.append(q); q += pb }
        for (i, start) in order.enumerated() {
            if let (pfn, k) = firstUnmovable(
                start, start + pb, movableZone: movableZone,
                flaglessIsKernel: ctx.flaglessKernelZones.contains("\(b.node ?? 0) \(zoneName)"))
            {
                return fail(
                    .ebusy, "failure to isolate range", "pfn \(hex(pfn)) is \(describe(k)) (has_unmovable_pages)",
                    pfn: pfn, kind: k)
            }
            // isolate_single_pageblock at the range's end: a gigantic page reaching past it is never
            // migrated or replaced (isolate_or_dissolve_huge_page refuses gigantic pages).
            if i == 1 || (order.count == 1 && i == 0) {
                let last = e - 1, k = census.kind(last)
                if (k == .hugetlbTail || k == .hugetlbFree || k == .hugetlbUsed), census.kind(e) == .hugetlbTail {
                    return fail(
                        .ebusy, "failure to isolate range",
                        "a gigantic huge page reaches past the block's end at pfn \(hex(e))", pfn: last, kind: k)
                }
            }
        }

        // After isolation: what migrates, what never does, what is dissolved.
        var never: (pfn: Int, kind: CensusKind, count: Int)?
        var heldOffline: Int?
        var hugeHeads: [(pfn: Int, used: Bool, pages: Int)] = []
        census.forEachRun(s, e) { a, z, k in
            switch k {
            case .file where !assumptions.dirtyPageCacheMigrates:
                if never == nil { never = (a, k, 0) }
                never!.count += z - a
                p.migrate += z - a
            case .anon, .file, .unevictable, .mlocked:
                if let pr = assumptions.pinned.first(where: { $0.overlaps(a..<z) }) {
                    let pfn = Swift.max(a, pr.lowerBound)
                    if never == nil { never = (pfn, k, 0) }
                    never!.count += Swift.min(z, pr.upperBound) - pfn
                }
                p.migrate += z - a
            case .ramfs:
                if assumptions.ramfsNeverMigrates {
                    if never == nil { never = (a, k, 0) }
                    never!.count += z - a
                }
                p.migrate += z - a
            case .hugetlbFree, .hugetlbUsed:
                for h in a..<z { hugeHeads.append((h, k == .hugetlbUsed, 1)) }
            case .hugetlbTail:
                if let last = hugeHeads.indices.last, hugeHeads[last].pfn + hugeHeads[last].pages == a {
                    hugeHeads[last].pages += z - a
                } else if a == s, let ri = census.runIndex(a), ri > 0,
                    census.kinds[ri - 1] == .hugetlbFree || census.kinds[ri - 1] == .hugetlbUsed
                {
                    // The tail of a gigantic page whose head lies in an earlier block:
                    // dissolve_free_huge_pages() walks the block's pfns and takes the whole page.
                    hugeHeads.append((census.starts[ri - 1], census.kinds[ri - 1] == .hugetlbUsed, 1))
                }
            case .offline:
                if !assumptions.offlinePagesReleased && heldOffline == nil { heldOffline = a }
            default: break
            }
        }
        // scan_movable_pages: a PageOffline page still referenced after MEM_GOING_OFFLINE.
        if let h = heldOffline {
            return fail(
                .ebusy, "unmovable page", "pfn \(hex(h)) is PageOffline with a reference its driver keeps", pfn: h,
                kind: .offline)
        }
        // Huge pages: heads inside the block (a page that began before it was accounted to the earlier block).
        var perSize: [Int: (free: Int, used: Int)] = [:]
        for h in hugeHeads {
            // Tails may run past the block's end; measure the page from the whole census.
            let pages = hugePageSize(h.pfn)
            p.vmemmapNeeded +=
                hvo ? pages * OfflinePredictor.structPageBytes / 4096 - OfflinePredictor.vmemmapKeptPages : 0
            var c = perSize[pages, default: (0, 0)]
            if h.used { c.used += 1; p.hugeMigrate += 1 } else { c.free += 1; p.hugeDissolve += 1 }
            perSize[pages] = c
        }
        if let nv = never {
            let what =
                nv.kind == .ramfs
                ? "ramfs pages (no migrate_folio, no writepage)"
                : nv.kind == .file && !assumptions.dirtyPageCacheMigrates
                    ? "page cache pages (dirty, writeback assumed stuck)" : "pages assumed long-term pinned"
            return fail(
                .spins, "signal backoff",
                "\(nv.count) \(what) never migrate, first at pfn \(hex(nv.pfn)): offline_pages retries until a signal",
                pfn: nv.pfn, kind: nv.kind)
        }
        // A gigantic in-use page migrates only into a free pool page (alloc_migrate_huge_page refuses gigantic ones).
        for (pages, c) in perSize.sorted(by: { $0.key < $1.key }) {
            let sizeKB = pages * 4
            guard let pool = snapshot.hugePool(sizeKB: sizeKB) else { continue }
            if c.used > 0 && pages > OfflinePredictor.maxOrderPages {
                let spare = pool.free - pool.resv - c.free
                if spare < c.used {
                    let h = hugeHeads.first { $0.used && hugePageSize($0.pfn) == pages }!
                    return fail(
                        .spins, "signal backoff",
                        "\(c.used) in-use \(sizeKB / 1024) MiB pages need free pool pages elsewhere to migrate to, \(Swift.max(spare, 0)) spare: offline_pages retries until a signal",
                        pfn: h.pfn, kind: .hugetlbUsed)
                }
            }
            // dissolve_free_huge_page refuses while free_huge_pages - resv_huge_pages is 0.
            if c.free > pool.free - pool.resv {
                let h = hugeHeads.first { !$0.used && hugePageSize($0.pfn) == pages }!
                return fail(
                    .ebusy, "failure to dissolve huge pages",
                    "\(c.free) free \(sizeKB >= 1024 ? "\(sizeKB / 1024) MiB" : "\(sizeKB) kB") pages here, only \(Swift.max(pool.free - pool.resv, 0)) not reserved (resv_huge_pages \(pool.resv))",
                    pfn: h.pfn, kind: .hugetlbFree)
            }
        }
        // HVO: hugetlb_vmemmap_restore allocates GFP_KERNEL | __GFP_NORETRY | __GFP_THISNODE.
        if p.vmemmapNeeded > 0 {
            let node = b.node ?? 0
            let room = ctx.kernelHeadroom[node, default: 0]
            if p.vmemmapNeeded > room {
                let h = hugeHeads.first!
                // The restore is all-or-nothing per huge page: those that fit are dissolved (their
                // vmemmap stays allocated) before the first that does not fails the offline.
                let per = p.vmemmapNeeded / Swift.max(hugeHeads.count, 1)
                return fail(
                    .enomem, "failure to dissolve huge pages",
                    "HVO: restoring the vmemmap of \(hugeHeads.count) huge pages needs \(p.vmemmapNeeded) pages, node \(node)'s kernel zones have \(room) above min + lowmem_reserve (\(per > 0 ? room / per : 0) pages dissolve first, taking \(per > 0 ? room / per * per : 0) of them)",
                    pfn: h.pfn, kind: h.used ? .hugetlbUsed : .hugetlbFree)
            }
        }
        // Migration targets: free memory elsewhere (above the min watermarks).
        let blockFree = census.counts(s, e).reduce(0) { $0 + (($1.key == .free || $1.key == .freePCP) ? $1.value : 0) }
        let targets = Swift.max(0, ctx.totalHeadroom - blockFree)
        let need = p.migrate + hugeHeads.filter(\.used).reduce(0) { $0 + hugePageSize($1.pfn) }
        if need > targets {
            return fail(
                .spins, "signal backoff",
                "\(need) pages to migrate, \(targets) free elsewhere above min: migration targets cannot be allocated",
                pfn: nil, kind: nil)
        }
        p.reason = "ok"
        var parts: [String] = []
        if p.migrate > 0 { parts.append("migrate \(p.migrate) pages") }
        if p.hugeMigrate > 0 { parts.append("migrate \(p.hugeMigrate) huge pages") }
        if p.hugeDissolve > 0 { parts.append("dissolve \(p.hugeDissolve) free huge pages") }
        if p.vmemmapNeeded > 0 { parts.append("restore \(p.vmemmapNeeded) vmemmap pages") }
        p.detail = parts.isEmpty ? "nothing to migrate" : parts.joined(separator: ", ")
        return p
    }

    /// has_unmovable_pages over [start, end) (one pageblock): the first page that is not
    /// free, LRU, HugeTLB, hwpoison or PageOffline. PageReserved always counts; in ZONE_MOVABLE
    /// nothing else does.
    func firstUnmovable(_ start: Int, _ end: Int, movableZone: Bool, flaglessIsKernel: Bool) -> (Int, CensusKind)? {
        guard let census else { return nil }
        var found: (Int, CensusKind)?
        census.forEachRun(start, end) { a, _, k in
            guard found == nil else { return }
            switch k {
            case .reserved: found = (a, k)
            case _ where movableZone: break
            case .slab, .pageTable, .kernel: found = (a, k)
            case .flagless: if flaglessIsKernel { found = (a, k) }
            default: break
            }
        }
        return found
    }

    /// Pages of the HugeTLB page whose head is `head`: the head and the run of tails after
    /// it (the next page's head ends the run).
    func hugePageSize(_ head: Int) -> Int {
        guard let census, let i = census.runIndex(head + 1), census.kinds[i] == .hugetlbTail else { return 1 }
        return census.runEnd(i) - head
    }

    func firstHole(_ s: Int, _ e: Int, _ ram: [Range<Int>]) -> Int {
        var p = s
        for r in ram.sorted(by: { $0.lowerBound < $1.lowerBound }) where r.upperBound > p && r.lowerBound < e {
            if r.lowerBound > p { return p }
            p = r.upperBound
        }
        return p
    }

    func describe(_ k: CensusKind) -> String {
        switch k {
        case .reserved: "reserved (PageReserved)"
        case .slab: "slab (unmovable)"
        case .pageTable: "a page table (unmovable)"
        case .kernel: "kernel memory (unmovable: vmalloc, stacks, drivers)"
        case .flagless: "an unmapped page without flags (more than the per-cpu lists hold: assumed kernel memory)"
        default: k.name
        }
    }
}

func hex(_ v: Int) -> String { "0x" + String(v, radix: 16) }
