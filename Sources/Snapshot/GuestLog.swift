import Scenario

/// A snapshot from a `memhp kernel-run` observation log: the guest (a busybox initramfs) dumps
/// the raw state — `block`, `zone`, `hstate`, `param`, `iomem` and `kpf` lines — and the host
/// builds the snapshot from them, as `SnapshotCapture` builds one from the files themselves.
/// The state is the one dumped before the first `kpf_end`; the `offline` writes after it are
/// the kernel's answers to compare predictions with.
public enum GuestLog {
    public struct Result {
        public var snapshot: HostSnapshot
        public var census: PageCensus
        /// Each `echo offline > memoryN/state` after the snapshot, in order: block and errno
        /// name ("0" for success), with whether the writer's timeout signal ended it.
        public var offlines: [(block: Int, errno: String, timedOut: Bool)]
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// pfns x86_64 can address: MAX_PHYSMEM_BITS 52 (5-level paging) over 4 KiB pages. A
    /// census run beyond it is not a machine (and would overflow the census' pfn count).
    static let pfnLimit = 1 << 40

    /// Errors name `path:LINE`.
    public static func parse(_ text: String, path: String) throws -> Result {
        var obs: [(line: Int, o: Observation)] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (n, l) in lines.enumerated() {
            do { if let o = try Observation.parse(String(l)) { obs.append((n + 1, o)) } } catch let e
                as Observation.ParseError
            {
                throw Failure(description: "\(path):\(n + 1): \(e.message)")
            }
        }
        var s = HostSnapshot()
        var census = PageCensus()
        var classifier = PageClassifier()
        var blocks: [Int: HostSnapshot.BlockState] = [:]
        var zones: [String: HostSnapshot.ZoneSpan] = [:]
        var zoneOrder: [String] = []
        var pools: [Int: HostSnapshot.HugePool] = [:]
        var done = false
        var offlines: [(Int, String, Bool)] = []
        func int(_ o: Observation, _ k: String) -> Int { o[k].flatMap { Int($0) } ?? 0 }
        var lastKind = ""
        for (line, o) in obs {
            defer { lastKind = o.kind }
            if done {
                if o.kind == "write", o["value"] == "offline", let p = o["path"], p.hasSuffix("/state"),
                    let b = Int(p.split(separator: "/").dropLast().last?.dropFirst(6) ?? "")
                {
                    offlines.append((b, o["errno"] ?? "?", o["timed_out"] == "1"))
                }
                continue
            }
            switch o.kind {
            case "guest":
                if let u = o["uname"] {
                    s.kernelRelease = String(u.split(separator: " ").first ?? ""); s.kernelVersion = u
                }
                if let c = o["cmdline"] { s.cmdline = c }
            case "block_size_bytes":
                s.blockSizeBytes = o["value"].flatMap(hexValue).map(Int.init) ?? 0
            case "block":
                guard let id = o["idx"].flatMap({ Int($0) }), o["state"] != "absent" else { continue }
                blocks[id] = .init(
                    id: id, state: o["state"] ?? "?", validZones: o["valid_zones"], node: o["node"].flatMap { Int($0) },
                    physDevice: o["phys_device"], removable: o["removable"])
            case "zone":
                let key = "\(o["node"] ?? "0") \(o["zone"] ?? "?")"
                if zones[key] == nil { zoneOrder.append(key) }
                zones[key] = .init(
                    node: int(o, "node"), name: o["zone"] ?? "?", startPFN: int(o, "start_pfn"),
                    spanned: int(o, "spanned"),
                    present: int(o, "present"), managed: int(o, "managed"), free: int(o, "free"), min: int(o, "min"),
                    low: int(o, "low"), high: int(o, "high"),
                    protection: (o["protection"] ?? "").split(separator: ",").compactMap { Int($0) },
                    pcp: o["pcp"].flatMap { Int($0) })
            case "hstate":
                let kb = int(o, "size_kB")
                pools[kb] = .init(
                    sizeKB: kb, nr: int(o, "nr"), free: int(o, "free"), resv: int(o, "resv"),
                    surplus: int(o, "surplus"),
                    overcommit: int(o, "overcommit"), perNode: [])
            case "hstate_node":
                let kb = int(o, "size_kB")
                pools[kb]?.perNode.removeAll { $0.node == int(o, "node") }
                pools[kb]?.perNode.append(
                    .init(node: int(o, "node"), nr: int(o, "nr"), free: int(o, "free"), surplus: int(o, "surplus")))
            case "param":
                guard let p = o["path"], let v = o["value"] else { continue }
                let name = String(p.split(separator: "/").last ?? "")
                if p.hasPrefix("/proc/sys/vm/") {
                    s.sysctls[name] = v
                } else if p.contains("/memory_hotplug/") {
                    s.moduleParameters[name] = v
                } else if p.hasSuffix("auto_online_blocks") {
                    s.autoOnlineBlocks = v
                }
            case "iomem":
                // Each dump prints every System RAM line: a new dump replaces the last one.
                if lastKind != "iomem" { s.iomem = [] }
                if let l = o["line"] { s.iomem += ProcParsers.iomem(l) }
            case "meminfo":
                for f in o.fields { if let v = Int(f.value) { s.meminfo[f.key] = v } }
            case "kpf":
                guard let start = o["start"].flatMap({ Int($0) }), start == census.endPFN, let runs = o["runs"] else {
                    throw Failure(description: "\(path):\(line): a kpf line does not continue at pfn \(census.endPFN)")
                }
                for r in runs.split(separator: ",") {
                    let hl = r.split(separator: "*")
                    guard hl.count == 2, let w = UInt64(hl[0], radix: 16), let n = Int(hl[1]), n > 0 else {
                        throw Failure(description: "\(path):\(line): bad kpf run `\(r)`")
                    }
                    guard n <= pfnLimit - census.endPFN else {
                        throw Failure(
                            description:
                                "\(path):\(line): kpf run `\(r)` ends beyond pfn \(pfnLimit) (x86_64's 52-bit physical address space)"
                        )
                    }
                    // Identical words classify alike; a run of tails follows its head.
                    let k = classifier.classify(w & ~(1 << 63), count: w >> 63)
                    census.append(k, count: n)
                }
            case "kpf_end":
                guard int(o, "pfns") == census.endPFN else {
                    throw Failure(
                        description:
                            "\(path):\(line): kpf lines cover \(census.endPFN) pfns, kpf_end says \(o["pfns"] ?? "?")")
                }
                done = true
            default: break
            }
        }
        guard done else {
            throw Failure(description: "\(path):\(max(lines.count - 1, 1)): no `dump kpageflags` (kpf_end) in the log")
        }
        s.arch = "x86_64"
        s.pageblockOrder = 9
        s.blocks = blocks.values.sorted { $0.id < $1.id }
        s.zones = zoneOrder.compactMap { zones[$0] }
        s.hugepages = pools.values.sorted { $0.sizeKB < $1.sizeKB }
        s.census = .init(
            endPFN: census.endPFN, runs: census.runCount, bytes: 0, fnv1a64: "", pageCounts: true, seconds: 0)
        return Result(snapshot: s, census: census, offlines: offlines)
    }
}
