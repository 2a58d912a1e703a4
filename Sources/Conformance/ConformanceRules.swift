import Scenario

/// Diffing a model observation log against a real-kernel fixture.
///
/// Every key of every kind is classified (docs/conformance.md has the table and the reasons):
/// *structural* keys (block states, valid_zones, errnos, hugepage counters, zone spans) must be
/// equal; *counters* (free pages, watermarks, MemFree, ...) must agree within a tolerance;
/// *volatile* keys (timings, per-cpu list counts) are ignored. A fixture may widen what it
/// accepts for values that vary on the real kernel itself with `range` rules.

/// How a key is compared.
public enum KeyClass: Sendable, Equatable {
    /// Names the observation (a block's `idx`, a zone's `node` and `zone`): used to align
    /// the two logs, so equal by construction on matched observations.
    case identity
    /// Must be equal.
    case structural
    /// Numbers (or comma lists of numbers, compared element by element) within a tolerance.
    case counter(Tolerance)
    /// Differs between runs and runners (timing): never compared.
    case volatile
    /// Restates another key (`err` is strerror of `errno`): compared only when both logs have it.
    case derived
}

/// The rules: which kinds are compared and how each key is.
public enum ConformanceRules {
    /// Kinds that are each runner's own account (`ObservationSchema.Origin.runner`): never compared.
    public static let kernelOnlyKinds: Set<String> = Set(
        ObservationSchema.kinds.filter { $0.origin == .runner }.map(\.name))
    /// Kinds only the model writes: a step it cannot perform yet.
    public static let modelOnlyKinds: Set<String> = Set(
        ObservationSchema.kinds.filter { $0.origin == .modelOnly }.map(\.name))
    /// Timing keys, volatile wherever they appear.
    public static let volatileKeys: Set<String> = ["elapsed_cs", "elapsed_s", "boot_s", "total_s", "build_s"]

    /// Keys that name an observation, by kind (the schema's identity keys). Kinds without any align by position.
    public static let identityKeys: [String: [String]] = Dictionary(
        uniqueKeysWithValues: ObservationSchema.kinds.filter { !$0.identity.isEmpty }.map { ($0.name, $0.identity) })

    /// Paths whose `read` value is a table of counters, compared token by token.
    static let counterReadPaths = [
        "/proc/meminfo", "/proc/zoneinfo", "/proc/vmstat", "/proc/buddyinfo", "/proc/pagetypeinfo"
    ]

    static let meminfoBig: Set<String> = ["MemTotal", "MemFree", "MemAvailable"]
    static let meminfoNoise: Set<String> = [
        "Buffers", "Cached", "Unevictable", "AnonPages", "Shmem", "Slab", "SReclaimable",
        "SUnreclaim", "KernelStack", "PageTables"
    ]

    /// The class of `key` in an observation of `kind`.
    public static func classify(kind: String, key: String) -> KeyClass {
        if volatileKeys.contains(key) { return .volatile }
        if identityKeys[kind]?.contains(key) == true { return .identity }
        switch kind {
        case "write":
            return key == "err" ? .derived : .structural
        case "meminfo":
            if meminfoBig.contains(key) { return .counter(.meminfoKB) }
            if meminfoNoise.contains(key) { return .counter(.kernelNoiseKB) }
            return .structural  // HugePages_*, Hugepagesize, Hugetlb
        case "hugepages":
            return key == "MemFree" || key == "MemTotal" ? .counter(.meminfoKB) : .structural
        case "zone":
            switch key {
            case "pcp": return .volatile
            case "free", "min", "low", "high", "managed", "protection": return .counter(.pages)
            default: return .structural  // spanned, present, start_pfn
            }
        case "buddy":
            return key == "orders" ? .counter(.buddyOrders) : .structural
        case "vmstat":
            switch key {
            case "nr_free_pages": return .counter(.pages)
            case "nr_unevictable", "nr_kernel_stack", "nr_page_table_pages": return .counter(.kernelNoiseKB)
            case "oom_kill", "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail": return .structural
            default: return .counter(.events)
            }
        case "pageflags":
            switch key {
            case "pages", "nopage", "huge", "huge_heads", "state", "errno": return .structural
            default: return .counter(.blockPages)
            }
        case "fill":
            switch key {
            case "pages": return .counter(.blockPages)
            case "headroom": return .counter(.headroom)
            default: return .structural
            }
        default:
            return .structural
        }
    }

    /// Per-node counter tables (`/sys/devices/system/node/nodeN/FILE`): node_read_meminfo,
    /// node_read_vmstat and node_read_numastat print the node's share of the same counters
    /// /proc/meminfo and /proc/vmstat print (two kernel runs of two-nodes-1g read node1/meminfo
    /// with Slab 1952 and 1492 kB).
    static let nodeCounterFiles: Set<String> = ["meminfo", "vmstat", "numastat"]

    /// Whether a `read`'s value is compared as counters (token by token) rather than exactly.
    static func isCounterRead(_ o: Observation) -> Bool {
        guard o.kind == "read", let p = o["path"] else { return false }
        return counterReadPaths.contains(p) || isNodeCounterTable(p)
    }

    /// `/sys/devices/system/node/node<N>/<meminfo|vmstat|numastat>`.
    static func isNodeCounterTable(_ path: String) -> Bool {
        let prefix = "/sys/devices/system/node/node"
        guard path.hasPrefix(prefix) else { return false }
        let rest = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count == 2, let n = rest.first, !n.isEmpty, n.allSatisfy(\.isNumber) else { return false }
        return nodeCounterFiles.contains(String(rest[1]))
    }

    /// Tunables the kernel recomputes from managed pages on every online/offline
    /// (`min_free_kbytes` = sqrt(lowmem_kbytes × 16), raised by THP): counters, not facts.
    static let derivedTunablePaths: Set<String> = ["/proc/sys/vm/min_free_kbytes"]

    static func isDerivedTunable(_ o: Observation) -> Bool {
        guard o.kind == "param" || o.kind == "read", let p = o["path"] else { return false }
        return derivedTunablePaths.contains(p)
    }

    /// The key two observations are aligned by: kind plus identity values.
    static func alignmentKey(_ o: Observation) -> String {
        var s = o.kind
        for k in identityKeys[o.kind] ?? [] { s += "\u{1}" + k + "=" + (o[k] ?? "") }
        if o.kind == "write", o["nonl"] != nil { s += "\u{1}nonl" }
        return s
    }
}
