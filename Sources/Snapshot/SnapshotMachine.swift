import Foundation
import MemoryModel

/// A snapshot as a model machine (`--snapshot FILE` of boot, read, export, mount, sandbox, run
/// and study): the host layout (System RAM per node, zone spans, blocks, pools, sysctls) and
/// the census reduced to the model's page kinds, booted by `Machine.boot(host:pages:)`.
///
/// The census cannot tell some kinds apart that the model's counters separate; the host's
/// own /proc/meminfo says how many there were, and that share of the census pages gets the
/// finer kind, spread evenly over pfns: Shmem among the file LRU pages, SReclaimable among
/// slab pages, KernelStack among other kernel memory. Mlocked and unevictable LRU pages become
/// anonymous memory (both migrate; the model has no Mlocked counter). The `Assumptions` decide
/// the rest: pinned ranges, flagless pages, ramfs, HVO, PageOffline pages.
public enum SnapshotMachine {
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Read FILE and boot it. Every refusal names the file (and the line, where one applies).
    public static func load(_ path: String, assumptions: Assumptions = Assumptions(), seed: UInt64 = 1) throws
        -> Machine
    {
        let s: HostSnapshot, c: PageCensus?
        do { (s, c) = try SnapshotFile.read(path) } catch let e as SnapshotFile.FormatError {
            throw Unusable(description: e.line > 0 ? e.description : "\(path): \(e.message)")
        }
        do { try SnapshotCheck.check(s, source: "\(path):2") } catch let e as SnapshotCheck.Unusable {
            throw Unusable(description: e.description)
        }
        guard let census = c, census.endPFN > 0 else {
            throw Unusable(
                description:
                    "\(path):2: the snapshot has no page census (taken without root: /proc/kpageflags is 0400), so the model cannot place its pages; take it as root"
            )
        }
        return try boot(s, census: census, assumptions: assumptions, seed: seed, source: path)
    }

    public static func boot(
        _ s: HostSnapshot, census: PageCensus, assumptions: Assumptions = Assumptions(), seed: UInt64 = 1,
        source: String = "snapshot"
    ) throws -> Machine {
        let layout = try hostLayout(s, census: census, assumptions: assumptions, seed: seed, source: source)
        let runs = pageRuns(s, census: census, assumptions: assumptions)
        do { return try Machine.boot(host: layout, pages: runs) } catch let e as MachineConfigError {
            throw Unusable(description: "\(source): the model cannot hold this machine: \(e.message)")
        }
    }

    static func zoneType(_ name: String) -> ZoneType? { ZoneType.allCases.first { $0.name == name } }

    /// The layout: System RAM split by the nodes of the blocks it lies in, zones, blocks,
    /// pools, parameters.
    public static func hostLayout(
        _ s: HostSnapshot, census: PageCensus, assumptions: Assumptions, seed: UInt64, source: String
    ) throws -> HostLayout {
        var h = HostLayout()
        h.seed = seed
        h.blockBytes = s.blockSizeBytes
        let bp = s.blockPages
        let nodeOfBlock = Dictionary(s.blocks.map { ($0.id, $0.node ?? 0) }, uniquingKeysWith: { a, _ in a })
        let ram = OfflinePredictor(snapshot: s, census: census).systemRAM()
        guard !ram.isEmpty else {
            throw Unusable(
                description:
                    "\(source): no System RAM in the snapshot's /proc/iomem or firmware map (addresses read as 0 without root?)"
            )
        }
        for r in ram {
            var pfn = r.lowerBound
            while pfn < r.upperBound {
                let end = Swift.min(r.upperBound, (pfn / bp + 1) * bp)
                let node = nodeOfBlock[pfn / bp] ?? s.zone(ofPFN: pfn)?.node ?? 0
                if let last = h.ram.last, last.node == node, last.range.end == pfn {
                    h.ram[h.ram.count - 1].range.end = end
                } else {
                    h.ram.append(.init(range: PFNRange(start: pfn, end: end), node: node))
                }
                pfn = end
            }
        }
        for z in s.zones where z.spanned > 0 && z.present > 0 {
            guard let t = zoneType(z.name) else {
                throw Unusable(description: "\(source): zone \(z.name) of node \(z.node): not an x86_64 zone")
            }
            h.zones.append(.init(node: z.node, type: t, span: PFNRange(start: z.startPFN, count: z.spanned)))
        }
        for b in s.blocks {
            let online = b.state == "online" || b.state == "going-offline"
            let zones = (b.validZones ?? "").split(separator: " ").compactMap { zoneType(String($0)) }
            h.blocks.append(
                .init(id: b.id, online: online, zone: online && zones.count == 1 ? zones[0] : nil, node: b.node ?? 0))
        }
        for p in s.hugepages {
            h.pools.append(
                .init(
                    sizeBytes: p.sizeKB << 10, resv: p.resv, overcommit: p.overcommit,
                    surplusPerNode: Dictionary(p.perNode.map { ($0.node, $0.surplus) }, uniquingKeysWith: +)))
        }
        h.gbpages = s.hugepages.contains { $0.sizeKB == 1 << 20 }
        let nodeCount = (h.nodeIDs.last ?? 0) + 1
        var params = KernelParameters(parsing: s.cmdline ?? "", gbpages: h.gbpages, nodeCount: nodeCount)
        if let v = s.autoOnlineBlocks, let t = OnlineType(name: v) { params.autoOnline = t }
        let mp = s.moduleParameters
        if let v = mp["online_policy"], let p = KernelParameters.OnlinePolicy(rawValue: v) { params.onlinePolicy = p }
        if let v = mp["auto_movable_ratio"].flatMap({ Int($0) }) { params.autoMovableRatio = v }
        if let v = mp["auto_movable_numa_aware"] { params.autoMovableNumaAware = v == "Y" }
        if let v = mp["memmap_on_memory"] { params.memmapOnMemory = v == "Y" }
        h.params = params
        h.hvo = assumptions.hvo ?? s.hvoEnabled
        h.minFreeKbytes = s.sysctls["min_free_kbytes"].flatMap { Int($0) }
        h.watermarkScaleFactor = s.sysctls["watermark_scale_factor"].flatMap { Int($0) }
        if let r = s.sysctls["lowmem_reserve_ratio"] {
            let v = r.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }
            if !v.isEmpty { h.lowmemReserveRatio = v }
        }
        h.iomem = s.iomem.map {
            String(repeating: "  ", count: $0.depth) + "\(hex8($0.start))-\(hex8($0.end)) : \($0.name)"
        }
        h.kernelRelease = s.kernelRelease
        h.endPFN = Swift.max(census.endPFN, ram.map(\.upperBound).max() ?? 0)
        return h
    }

    static func hex8(_ v: UInt64) -> String {
        let d = String(v, radix: 16)
        return d.count >= 8 ? d : String(repeating: "0", count: 8 - d.count) + d
    }

    /// The census as the model's page kinds, in pfn order.
    public static func pageRuns(_ s: HostSnapshot, census: PageCensus, assumptions a: Assumptions) -> [HostPageRun] {
        let flaglessKernel = OfflinePredictor(snapshot: s, census: census, assumptions: a).flaglessKernelZones()
        let all = census.counts(0, census.endPFN)
        // Kernel memory without a telling flag: kernel pages, and flagless ones where assumed.
        var kernelish = all[.kernel, default: 0]
        census.forEachRun(0, census.endPFN) { a, b, k in
            if k == .flagless, let z = s.zone(ofPFN: a), flaglessKernel.contains("\(z.node) \(z.name)") {
                kernelish += b - a
            }
        }
        // The finer kinds' shares, from the host's own meminfo (kB).
        func pages(_ key: String) -> Int { (s.meminfo[key] ?? 0) / 4 }
        func share(_ n: Int, of total: Int) -> Double {
            total > 0 ? Swift.min(1, Double(Swift.max(0, n)) / Double(total)) : 0
        }
        var shmem = Spreader(share(pages("Shmem"), of: all[.file, default: 0]))
        let slab = all[.slab, default: 0]
        var sreclaim = Spreader(share(pages("SReclaimable"), of: slab))
        // Slab pages kpageflags does not show as such (large kmalloc pages) are in the kernel pool:
        // the host's SUnreclaim beyond the census' unreclaimable slab comes from there, as do stacks.
        let slabShort = pages("SUnreclaim") - (slab - Int(Double(slab) * share(pages("SReclaimable"), of: slab)))
        var stacks = Spreader(share(pages("KernelStack"), of: kernelish))
        var slabFromKernel = Spreader(share(slabShort, of: Swift.max(0, kernelish - pages("KernelStack"))))
        var out: [HostPageRun] = []
        out.reserveCapacity(census.runCount)
        func emit(_ r: PFNRange, _ k: HostPageKind) {
            guard !r.isEmpty else { return }
            if let last = out.last, last.kind == k, last.range.end == r.start, !isHuge(k) {
                out[out.count - 1].range.end = r.end
            } else {
                out.append(HostPageRun(r, k))
            }
        }
        func isHuge(_ k: HostPageKind) -> Bool { if case .hugetlb = k { return true } else { return false } }
        /// LRU pages, with the assumed long-term pinned ranges cut out as `.pinned`.
        func emitLRU(_ r: PFNRange, _ k: PageKind) {
            var pfn = r.start
            for p in a.pinned.sorted(by: { $0.lowerBound < $1.lowerBound })
            where p.upperBound > pfn && p.lowerBound < r.end {
                if p.lowerBound > pfn { emit(PFNRange(start: pfn, end: p.lowerBound), .allocated(k)) }
                let e = Swift.min(r.end, p.upperBound)
                emit(PFNRange(start: Swift.max(pfn, p.lowerBound), end: e), .allocated(.pinned))
                pfn = e
            }
            emit(PFNRange(start: pfn, end: r.end), .allocated(k))
        }
        func kernelRun(_ r: PFNRange) {
            let n = stacks.take(r.count)
            emit(PFNRange(start: r.start, count: n), .allocated(.kernelStack))
            let rest = PFNRange(start: r.start + n, end: r.end)
            let m = slabFromKernel.take(rest.count)
            emit(PFNRange(start: rest.start, count: m), .allocated(.slabUnreclaimable))
            emit(PFNRange(start: rest.start + m, end: rest.end), .allocated(.kernel))
        }
        func split(_ r: PFNRange, _ sp: inout Spreader, _ a: PageKind, _ b: PageKind, lru: Bool) {
            let n = sp.take(r.count)
            let first = PFNRange(start: r.start, count: n), rest = PFNRange(start: r.start + n, end: r.end)
            if lru {
                emitLRU(first, a); emitLRU(rest, b)
            } else {
                emit(first, .allocated(a)); emit(rest, .allocated(b))
            }
        }
        var i = 0
        while i < census.runCount {
            let start = census.starts[i], end = census.runEnd(i), kind = census.kinds[i]
            let r = PFNRange(start: start, end: end)
            i += 1
            switch kind {
            case .noPage: continue
            case .free, .freePCP: emit(r, .free)
            case .anon, .unevictable, .mlocked: emitLRU(r, .anon)
            case .file: split(r, &shmem, .shmem, a.dirtyPageCacheMigrates ? .pageCache : .ramfs, lru: true)
            case .ramfs: emitLRU(r, a.ramfsNeverMigrates ? .ramfs : .pageCache)
            case .slab: split(r, &sreclaim, .slabReclaimable, .slabUnreclaimable, lru: false)
            case .pageTable: emit(r, .allocated(.pageTable))
            case .reserved: emit(r, .reserved)
            case .kernel: kernelRun(r)
            case .flagless:
                let key = s.zone(ofPFN: start).map { "\($0.node) \($0.name)" } ?? ""
                if flaglessKernel.contains(key) { kernelRun(r) } else { emit(r, .free) }
            case .offline: emit(r, .pageOffline(released: a.offlinePagesReleased))
            case .hwpoison: emit(r, .pageOffline(released: true))
            case .hugetlbFree, .hugetlbUsed:
                // Each head is one page; its tails follow as one run.
                var head = start
                while head < end {
                    var tails = 0
                    if head == end - 1, i < census.runCount, census.kinds[i] == .hugetlbTail {
                        tails = census.runEnd(i) - census.starts[i]
                    }
                    let pages = tails + 1
                    if pages.nonzeroBitCount == 1, pages >= 512, head % pages == 0 {
                        emit(
                            PFNRange(start: head, count: pages),
                            .hugetlb(order: pages.trailingZeroBitCount, inUse: kind == .hugetlbUsed))
                        if tails > 0 { i += 1 }
                    } else {
                        emit(PFNRange(start: head, count: 1), .reserved)
                    }
                    head += 1
                }
            case .hugetlbTail: emit(r, .reserved)  // a tail without its head (cut by the capture)
            }
        }
        return out
    }

    /// Hands out a share of pages over many runs without drifting: after N pages, ⌊share·N⌋
    /// have been taken.
    struct Spreader {
        let share: Double
        var seen = 0, taken = 0
        init(_ share: Double) { self.share = share }
        mutating func take(_ n: Int) -> Int {
            seen += n
            let due = Int((share * Double(seen)).rounded(.down))
            let t = Swift.max(0, Swift.min(n, due - taken))
            taken += t
            return t
        }
    }
}
