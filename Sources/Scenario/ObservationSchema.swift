/// The observation log's vocabulary, written once: every kind a runner writes, its keys in the
/// order they are written, the keys that name an observation, and the lists of kernel values
/// the guest program reads (meminfo and vmstat keys, tunables, boot log lines, kpageflags
/// classes).
///
/// The model runner builds its lines from it, the diff aligns and classifies by it, and the C
/// guest gets its lists from it: `GuestHeader` renders them as `memhp-schema.h`, the header
/// memhp-guest.c is compiled with. A fixture or model log that does not fit the schema fails
/// `ObservationSchemaTests`, so neither side can drift alone.
public enum ObservationSchema {
    /// Who writes a kind, which decides whether the diff compares it.
    public enum Origin: Sendable, Equatable {
        /// The guest program's observation of the kernel's files: both runners write it, the diff compares it.
        case guestProgram
        /// Each runner's own account (boot log, kernel messages, QMP events, timing, the run's
        /// end): its content is the runner's, never compared.
        case runner
        /// Only the model writes it: a step it cannot perform yet.
        case modelOnly
    }

    /// One kind of line: `kind key=value ...`.
    public struct Kind: Sendable, Equatable {
        public var name: String
        /// Every key the kind may carry, in the order runners write them. A line carries a
        /// subsequence (a `read` has `value` or `errno`, an absent block only `idx state`).
        public var keys: [String]
        /// The keys that name the observation (a block's `idx`); the diff aligns by them.
        public var identity: [String]
        public var origin: Origin
        /// Free text after the kind instead of fields (`dmesg [    0.050812] Zone ranges:`).
        public var freeText: Bool

        public init(
            _ name: String, _ keys: [String], identity: [String] = [], origin: Origin = .guestProgram,
            freeText: Bool = false
        ) {
            self.name = name; self.keys = keys; self.identity = identity; self.origin = origin; self.freeText = freeText
        }
    }

    // MARK: What the guest program reads

    /// `dump meminfo`: these /proc/meminfo lines, in this order (-1 when missing).
    public static let meminfoKeys = [
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Unevictable", "AnonPages",
        "Shmem", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
        "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize",
        "Hugetlb"
    ]

    /// `dump vmstat`: these /proc/vmstat counters, in this order (-1 when missing).
    public static let vmstatKeys = [
        "nr_free_pages", "nr_unevictable", "nr_kernel_stack", "nr_page_table_pages",
        "allocstall_normal", "allocstall_movable", "pgsteal_kswapd", "pgsteal_direct", "oom_kill",
        "pgmigrate_success", "pgmigrate_fail", "compact_stall", "compact_fail", "compact_success",
        "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail"
    ]

    /// `dump params`: the hotplug and HugeTLB tunables, one `param` line each.
    public static let paramPaths = [
        "/sys/devices/system/memory/auto_online_blocks",
        "/sys/module/memory_hotplug/parameters/auto_movable_numa_aware",
        "/sys/module/memory_hotplug/parameters/auto_movable_ratio",
        "/sys/module/memory_hotplug/parameters/memmap_on_memory",
        "/sys/module/memory_hotplug/parameters/online_policy",
        "/proc/sys/vm/hugetlb_optimize_vmemmap", "/proc/sys/vm/nr_hugepages", "/proc/sys/vm/nr_overcommit_hugepages",
        "/proc/sys/vm/min_free_kbytes", "/proc/sys/vm/lowmem_reserve_ratio", "/proc/sys/vm/watermark_scale_factor",
        "/proc/sys/vm/overcommit_memory"
    ]

    /// Boot log lines kept as `dmesg` (a message containing any of these).
    public static let bootLogKeys = [
        "SRAT", "Zone ranges", "  DMA ", "  DMA32 ", "  Normal ", "  Device ", "  Movable ",
        "Movable zone start", "Early memory node ranges", "  node ", "Memory:", "HugeTLB",
        "NUMA:", "Initmem setup node", "kernelcore", "movablecore", "Built 1 zonelists",
        "Built 2 zonelists", "hugetlb", "Memory block size", "nosave memory", "memmap",
        "memory", "Memory"
    ]

    /// `dump pageflags`: each page of a block counted once, in the first class whose test it
    /// passes, in this order (bit numbers of include/uapi/linux/kernel-page-flags.h). `anon`,
    /// `file`, `unevictable` and `mlocked` subdivide `lru`; `huge_heads` counts the heads of `huge`.
    public enum PageClass: String, CaseIterable, Sendable {
        case nopage, reserved, offline, buddy, lru, anon, file, unevictable, mlocked, slab, pgtable, huge
        case hugeHeads = "huge_heads"
        case thp, other

        /// Position in `allCases` (the order of the `pageflags` line's counts).
        public var index: Int {
            switch self {
            case .nopage: 0
            case .reserved: 1
            case .offline: 2
            case .buddy: 3
            case .lru: 4
            case .anon: 5
            case .file: 6
            case .unevictable: 7
            case .mlocked: 8
            case .slab: 9
            case .pgtable: 10
            case .huge: 11
            case .hugeHeads: 12
            case .thp: 13
            case .other: 14
            }
        }
    }

    // MARK: The kinds

    public static let kinds: [Kind] = [
        // The runner's own account.
        Kind("guest", ["uname", "cmdline"], origin: .runner),
        Kind("dmesg", [], origin: .runner, freeText: true),
        Kind("kmsg", ["prio", "msg"], origin: .runner),
        Kind("insmod", ["module", "args", "rc", "errno"], origin: .runner),
        Kind("dyndbg", ["query", "errno"], origin: .runner),
        Kind("qmp_event", ["name", "data"], origin: .runner),
        Kind("stage", ["name"], origin: .runner),
        Kind("end", ["completed", "reason", "scenario_rc", "qemu_rc", "boot_s", "total_s", "build_s"], origin: .runner),
        Kind("unsupported", ["step", "reason"], origin: .modelOnly),
        // The guest program's steps.
        Kind("step", ["n", "label"], identity: ["n"]),
        Kind(
            "write", ["path", "value", "nonl", "timeout_s", "timed_out", "rc", "errno", "written", "elapsed_cs", "err"],
            identity: ["path", "value"]),
        Kind("read", ["path", "value", "errno"], identity: ["path"]),
        Kind(
            "hotplug",
            [
                "action", "id", "requested", "size", "node", "addr", "blocks", "deleted", "ost", "ok", "error",
                "elapsed_s"
            ],
            identity: ["action", "id"]),
        Kind("hold", ["id", "kind", "size", "node", "rc", "errno"], identity: ["id"]),
        Kind("release", ["id", "rc"], identity: ["id"]),
        Kind("fill", ["id", "node", "margin", "pages", "headroom", "rc", "errno"], identity: ["id"]),
        // The OOM killer chose the guest program: the run ends there (kernel: from the console).
        Kind("oom_kill", ["process"]),
        Kind("scenario_exit", ["rc"]),
        // Dumps.
        Kind("block_size_bytes", ["value"]),
        Kind(
            "block", ["idx", "phys_index", "state", "valid_zones", "removable", "node", "phys_device"],
            identity: ["idx"]),
        Kind("blocks_total", ["count"]),
        Kind("meminfo", meminfoKeys),
        Kind("vmstat", vmstatKeys),
        Kind(
            "zone",
            [
                "node", "zone", "free", "pcp", "min", "low", "high", "spanned", "present", "managed", "protection",
                "start_pfn"
            ],
            identity: ["node", "zone"]),
        Kind("buddy", ["node", "zone", "orders"], identity: ["node", "zone"]),
        Kind(
            "hugepages",
            [
                "sysctl_nr_hugepages", "nr_hugepages", "free", "resv", "surplus", "overcommit", "meminfo_total",
                "MemFree", "MemTotal"
            ]),
        Kind("hstate", ["size_kB", "nr", "free", "resv", "surplus", "overcommit"], identity: ["size_kB"]),
        Kind("hstate_node", ["node", "size_kB", "nr", "free", "surplus"], identity: ["node", "size_kB"]),
        Kind("param", ["path", "value", "errno"], identity: ["path"]),
        Kind("iomem", ["line"]),
        Kind(
            "pageflags", ["block", "state", "errno", "pages"] + PageClass.allCases.map(\.rawValue), identity: ["block"]),
        // `dump kpageflags`: every pfn's masked kpageflags word (bit 63: kpagecount != 0), run-length
        // encoded, for `memhp snapshot --from-log`; the model reads its own pages directly, never compared.
        Kind("kpf", ["start", "runs", "errno"], origin: .runner),
        Kind("kpf_end", ["pfns"], origin: .runner)
    ]

    static let byName: [String: Kind] = Dictionary(uniqueKeysWithValues: kinds.map { ($0.name, $0) })

    /// The kind named `name`, if the schema has it.
    public static func kind(_ name: String) -> Kind? { byName[name] }

    /// Kinds the diff sets aside: each runner's own account and the model's `unsupported`.
    public static func isCompared(_ kind: String) -> Bool { (byName[kind]?.origin ?? .guestProgram) == .guestProgram }

    /// Why `o` does not fit the schema (an unknown kind, an unknown key, keys out of order), or nil.
    public static func violation(_ o: Observation) -> String? {
        guard let k = byName[o.kind] else { return "unknown kind `\(o.kind)`" }
        if k.freeText { return o.fields.isEmpty ? nil : "`\(o.kind)` carries free text, not fields" }
        var next = 0
        for f in o.fields {
            guard let i = k.keys.firstIndex(of: f.key) else { return "`\(o.kind)` has no key `\(f.key)`" }
            guard i >= next else {
                return "`\(o.kind)`: `\(f.key)` out of order (schema: \(k.keys.joined(separator: " ")))"
            }
            next = i + 1
        }
        return nil
    }
}
