#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `memhp snapshot`: read a host's memory state through its kernel files only (HostRoot),
/// never writing. What cannot be read is listed in `missing` with what the model loses.
public struct SnapshotCapture {
    public let root: HostRoot
    /// Read /proc/kpageflags (and /proc/kpagecount) into the census.
    public var census = true

    public init(root: HostRoot, census: Bool = true) { self.root = root; self.census = census }

    public func capture() -> (HostSnapshot, PageCensus?) {
        var s = HostSnapshot()
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        s.capturedAt = Int(ts.tv_sec)
        func need(_ path: String, _ effect: String) -> String? {
            switch root.text(path) {
            case .success(let t): return t
            case .failure(let e):
                s.missing.append(.init(path: path, why: e.message, effect: effect))
                return nil
            }
        }
        s.arch = root.value("/proc/sys/kernel/arch")
        s.kernelRelease = need("/proc/sys/kernel/osrelease", "kernel version unknown").map(\.trimmingSpaces)
        s.kernelVersion = root.value("/proc/version")
        s.cmdline = need("/proc/cmdline", "kernel command line unknown").map(\.trimmingSpaces)

        // Firmware map: /sys/firmware/memmap/N/{start,end,type}, in the kernel's order.
        if let entries = root.list("/sys/firmware/memmap") {
            for n in entries.compactMap(Int.init).sorted() {
                let d = "/sys/firmware/memmap/\(n)"
                guard let st = root.value(d + "/start").flatMap(hexValue),
                    let en = root.value(d + "/end").flatMap(hexValue),
                    let ty = root.value(d + "/type")
                else { continue }
                s.firmwareMap.append(.init(start: st, end: en, type: ty))
            }
        } else {
            s.missing.append(
                .init(
                    path: "/sys/firmware/memmap", why: "not present (CONFIG_FIRMWARE_MEMMAP off)",
                    effect: "holes come from /proc/iomem alone"))
        }
        if let t = need("/proc/iomem", "holes come from the firmware map alone") {
            s.iomem = ProcParsers.iomem(t)
            if !s.iomem.isEmpty && s.iomem.allSatisfy({ $0.start == 0 && $0.end == 0 }) {
                s.missing.append(
                    .init(
                        path: "/proc/iomem", why: "addresses read as 0 (needs CAP_SYS_ADMIN)",
                        effect: "holes come from the firmware map alone"))
                s.iomem = []
            }
        }

        s.nodesOnline = root.value("/sys/devices/system/node/online")
        s.nodesWithMemory = root.value("/sys/devices/system/node/has_memory")
        if let t = need("/proc/zoneinfo", "no zone spans, watermarks or free counts: predictions cannot tell zones") {
            s.zones = ProcParsers.zoneinfo(t)
        }
        if let t = need("/proc/pagetypeinfo", "free blocks per migratetype unknown (root only since 5.9)") {
            let p = ProcParsers.pagetypeinfo(t)
            s.pageblockOrder = p.order
            s.pagetypeFree = p.rows
        }
        if let t = need("/proc/meminfo", "no meminfo totals") { s.meminfo = ProcParsers.meminfo(t) }

        // Memory blocks.
        let mem = "/sys/devices/system/memory"
        if let bs = need(mem + "/block_size_bytes", "no memory hotplug on this host (CONFIG_MEMORY_HOTPLUG off)") {
            s.blockSizeBytes = hexValue(bs.trimmingSpaces).map(Int.init) ?? 0
        }
        s.autoOnlineBlocks = root.value(mem + "/auto_online_blocks")
        for name in root.list(mem) ?? [] where name.hasPrefix("memory") {
            guard let id = Int(name.dropFirst(6)) else { continue }
            let d = mem + "/" + name
            let node = root.list(d)?.first(where: { $0.hasPrefix("node") }).flatMap { Int($0.dropFirst(4)) }
            s.blocks.append(
                .init(
                    id: id, state: root.value(d + "/state") ?? "?", validZones: root.value(d + "/valid_zones"),
                    node: node, physDevice: root.value(d + "/phys_device"), removable: root.value(d + "/removable")))
        }
        s.blocks.sort { $0.id < $1.id }

        // HugeTLB pools, global and per node.
        let hp = "/sys/kernel/mm/hugepages"
        let nodeIDs = ProcParsers.nodeList(s.nodesOnline ?? "0")
        for name in root.list(hp) ?? [] where name.hasPrefix("hugepages-") {
            guard let kb = Int(name.dropFirst(10).dropLast(2)) else { continue }
            let d = hp + "/" + name
            func n(_ f: String, _ base: String) -> Int { root.value(base + "/" + f).flatMap { Int($0) } ?? 0 }
            var pool = HostSnapshot.HugePool(
                sizeKB: kb, nr: n("nr_hugepages", d), free: n("free_hugepages", d),
                resv: n("resv_hugepages", d), surplus: n("surplus_hugepages", d),
                overcommit: n("nr_overcommit_hugepages", d), perNode: [])
            for node in nodeIDs {
                let nd = "/sys/devices/system/node/node\(node)/hugepages/" + name
                guard root.read(nd + "/nr_hugepages") != nil else { continue }
                pool.perNode.append(
                    .init(
                        node: node, nr: n("nr_hugepages", nd), free: n("free_hugepages", nd),
                        surplus: n("surplus_hugepages", nd)))
            }
            s.hugepages.append(pool)
        }
        s.hugepages.sort { $0.sizeKB < $1.sizeKB }

        for name in SnapshotCapture.sysctlNames {
            if let v = root.value("/proc/sys/vm/" + name) { s.sysctls[name] = v }
        }
        for name in root.list("/sys/module/memory_hotplug/parameters") ?? [] {
            if let v = root.value("/sys/module/memory_hotplug/parameters/" + name) { s.moduleParameters[name] = v }
        }

        guard census else { return (s, nil) }
        let end = (s.blocks.map(\.id).max().map { $0 + 1 } ?? 0) * s.blockPages
        var (census, header, problem) = readCensus(endHint: end)
        if let problem { s.missing.append(problem) }
        if let c = census, c.buddyHeadsOnly {
            census = c.inferringBuddyTails()
            header?.buddyTailsInferred = true
            header?.runs = census!.runCount
        }
        if let header { s.census = header }
        if census != nil && header?.pageCounts == false && !s.missing.contains(where: { $0.path == "/proc/kpagecount" })
        {
            s.missing.append(
                .init(
                    path: "/proc/kpagecount", why: "not readable",
                    effect: "pages without flags cannot be told apart: per-cpu free pages are counted as kernel memory")
            )
        }
        return (s, census)
    }

    /// The /proc/sys/vm settings hotplug and HugeTLB behaviour depend on.
    public static let sysctlNames = [
        "hugetlb_optimize_vmemmap", "nr_hugepages", "nr_overcommit_hugepages", "min_free_kbytes",
        "watermark_scale_factor", "watermark_boost_factor", "lowmem_reserve_ratio", "compact_unevictable_allowed",
        "overcommit_memory", "hugetlb_shm_group", "numa_zonelist_order", "percpu_pagelist_high_fraction"
    ]

    /// Pfns per census segment: 1 GiB, the largest compound page's alignment, so no compound
    /// page straddles two segments (a tail always finds its head in its own segment).
    static let segmentPages = 1 << 18

    /// Reads /proc/kpageflags (and /proc/kpagecount for the 1 GiB segments that hold a page
    /// whose kind depends on its count: no flags, a HugeTLB head) in 1 GiB segments, several at
    /// once: the kernel's stable_page_flags() costs ~100 ns a page, so a terabyte host is read
    /// in parallel by up to `threads` readers. `endHint` (the end of the last memory block) sizes
    /// the parallel part; the last segment reads on to the end of the file.
    func readCensus(endHint: Int = 0, threads: Int = 0) -> (
        PageCensus?, HostSnapshot.CensusHeader?, HostSnapshot.Missing?
    ) {
        let flagsFile: BinaryFile
        switch root.openBinary("/proc/kpageflags") {
        case .success(let f): flagsFile = f
        case .failure(let e):
            return (
                nil, nil,
                .init(
                    path: "/proc/kpageflags", why: e.message,
                    effect: "no per-page census: predictions know zones, holes and block states only (run as root)")
            )
        }
        let countFile = try? root.openBinary("/proc/kpagecount").get()
        var t0 = timespec(), t1 = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t0)
        let seg = SnapshotCapture.segmentPages
        let fixed = max(endHint / seg, 0)
        let readers = threads > 0 ? threads : min(max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1), 16)
        var parts = [SegmentResult?](repeating: nil, count: fixed + 1)
        let lock = NSLockish()
        var next = 0
        // Segments 0..<fixed in parallel; the last one (index `fixed`) reads until EOF.
        let workers = (0..<min(readers, fixed + 1)).map { _ in
            Worker {
                while true {
                    let i: Int = lock.locked {
                        defer { next += 1 }; return next
                    }
                    if i > fixed { return }
                    let r = readSegment(flagsFile, countFile, start: i * seg, limit: i == fixed ? nil : seg)
                    lock.locked { parts[i] = r }
                }
            }
        }
        for w in workers { w.join() }
        var census = PageCensus()
        var usedCounts = countFile != nil
        for (i, part) in parts.enumerated() {
            guard let part else { continue }
            if let err = part.error {
                return (
                    nil, nil,
                    .init(path: "/proc/kpageflags", why: err + " at pfn \(i * seg)", effect: "no per-page census")
                )
            }
            if !part.countsOK { usedCounts = false }
            // A segment cut short ends the file: later ones are empty.
            for (k, n) in part.runs { census.append(k, count: n) }
            if part.pages < seg && i < fixed { break }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1)
        let secs = Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) / 1e9
        let h = HostSnapshot.CensusHeader(
            endPFN: census.endPFN, runs: census.runCount, bytes: 0, fnv1a64: "",
            pageCounts: usedCounts, seconds: (secs * 1000).rounded() / 1000)
        return (census, h, nil)
    }

    struct SegmentResult {
        var runs: [(CensusKind, Int)] = []
        var pages = 0
        var countsOK = true
        var error: String?
    }

    /// One segment: pfns from `start`, `limit` of them (nil: to the end of the file).
    func readSegment(_ flagsFile: BinaryFile, _ countFile: BinaryFile?, start: Int, limit: Int?) -> SegmentResult {
        var r = SegmentResult()
        let chunk = 1 << 18
        var flags = [UInt64](repeating: 0, count: chunk)
        var counts = [UInt64](repeating: 0, count: chunk)
        var classifier = PageClassifier()
        var runKind: CensusKind?, runLen = 0
        var pfn = start
        let hugeHead = (UInt64(1) << UInt64(KPFBit.huge)) | (UInt64(1) << UInt64(KPFBit.compoundHead))
        while limit.map({ pfn < start + $0 }) ?? true {
            let want = limit.map { min(chunk, start + $0 - pfn) } ?? chunk
            let n = flags.withUnsafeMutableBytes {
                flagsFile.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(want * 8)]), at: pfn * 8)
            }
            if n < 0 { r.error = String(cString: strerror(Int32(-n))); return r }
            let words = n / 8
            if words == 0 { break }
            var needCounts = false
            if let countFile, r.countsOK {
                for i in 0..<words where flags[i] == 0 || flags[i] & hugeHead == hugeHead { needCounts = true; break }
                if needCounts {
                    let m = counts.withUnsafeMutableBytes {
                        countFile.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<(words * 8)]), at: pfn * 8)
                    }
                    if m < words * 8 { r.countsOK = false; needCounts = false }
                }
            }
            let haveCounts = countFile != nil && r.countsOK
            for i in 0..<words {
                let k = classifier.classify(flags[i], count: haveCounts ? (needCounts ? counts[i] : 1) : nil)
                if k == runKind {
                    runLen += 1
                } else {
                    if let rk = runKind { r.runs.append((rk, runLen)) }
                    runKind = k; runLen = 1
                }
            }
            pfn += words
            r.pages += words
            if words < want { break }
        }
        if let rk = runKind { r.runs.append((rk, runLen)) }
        return r
    }
}

/// A mutex for the census readers (pthread, so no Foundation lock is needed).
final class NSLockish: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&m); defer { pthread_mutex_unlock(&m) }
        return body()
    }
}

/// A pthread running `body`, joined by `join()`.
final class Worker: @unchecked Sendable {
    private var thread = pthread_t()
    private let box: Box
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    init(_ body: @escaping () -> Void) {
        box = Box(body)
        let arg = Unmanaged.passRetained(box).toOpaque()
        pthread_create(
            &thread, nil,
            { p in
                let b = Unmanaged<Worker.Box>.fromOpaque(p!).takeRetainedValue()
                b.body()
                return nil
            }, arg)
    }
    func join() { pthread_join(thread, nil) }
}

/// "0x1000" or "1000" (hex, as sysfs writes addresses and block_size_bytes).
func hexValue(_ s: String) -> UInt64? {
    let t = s.trimmingSpaces
    return UInt64(t.hasPrefix("0x") ? String(t.dropFirst(2)) : t, radix: 16)
}
