import MemoryModel

/// A scenario: the machine QEMU boots, and the steps run on it, in order.
///
/// The same file drives the model runner and `memhp kernel-run` (the real kernel under QEMU),
/// so every step is something both can do: a sysfs/procfs access, a hot-plug action the host
/// performs over QMP, a workload the guest holds, or a dump. See docs/scenarios.md.
public struct Scenario: Sendable, Equatable {
    /// The file name without directory and `.scn` suffix (`a-baseline`).
    public var name: String
    /// The path the scenario was read from, as given to the parser (used in errors).
    public var file: String
    public var description: String
    /// `-m`, `maxmem`, `slots`, `-numa`, cold-plugged `pc-dimm`s, `virtio-mem-pci`s, `-append`,
    /// `-cpu ...,+pdpe1gb`. `cmdline` is only the scenario's `append:` part: the kernel runner
    /// adds its own `console=ttyS0 quiet panic=-1 nokaslr` in front.
    public var machine: MachineConfig
    /// Modules the guest loads before the first step (`module: NAME ARGS`), in order.
    /// Modules a device needs (virtio_mem for a virtio-mem device) are added by the runner.
    public var modules: [Module]
    /// Bound on the whole run in seconds (boot included).
    public var timeoutSeconds: Int
    public var steps: [Step]
    /// The line each step came from, parallel to `steps`.
    public var stepLines: [Int]

    public struct Module: Sendable, Equatable {
        public var name: String
        public var args: String
        public init(name: String, args: String = "") { self.name = name; self.args = args }
    }

    public init(
        name: String, file: String, description: String = "", machine: MachineConfig = MachineConfig(),
        modules: [Module] = [], timeoutSeconds: Int = Scenario.defaultTimeoutSeconds,
        steps: [Step] = [], stepLines: [Int] = []
    ) {
        self.name = name; self.file = file; self.description = description; self.machine = machine
        self.modules = modules; self.timeoutSeconds = timeoutSeconds; self.steps = steps
        self.stepLines = stepLines.count == steps.count ? stepLines : Array(repeating: 0, count: steps.count)
    }

    public static let defaultTimeoutSeconds = 300
}

/// One step. Each emits the observation kinds listed in docs/scenarios.md.
public enum Step: Sendable, Equatable {
    /// `step NAME`: starts a labelled section. Emits `step n=K label="NAME"`.
    case step(name: String)
    /// `write PATH VALUE [timeout=S]` (newline appended, like `echo`) or `write-raw PATH VALUE`
    /// (no newline, like `printf %s`). Emits `write path= value= [nonl=1] rc= errno= ...`.
    case write(path: String, value: String, newline: Bool, timeoutSeconds: Int)
    /// `read PATH`. Emits `read path= value="..."` (trailing newline removed) or `read path= errno=`.
    case read(path: String)
    /// `online N [online|online_kernel|online_movable]`: writes the type to `memoryN/state`.
    case online(block: Int, type: OnlineType)
    /// `offline N [TIMEOUT_S]`: writes `offline` to `memoryN/state`; a write still running after
    /// TIMEOUT_S gets a signal (offline_pages() then gives up with EINTR).
    case offline(block: Int, timeoutSeconds: Int)
    /// `dimm-add ID SIZE [node=N]`: QMP `object-add` + `device_add pc-dimm`, waits until the guest
    /// reported the ACPI insertion (`_OST`) done.
    case dimmAdd(id: String, sizeBytes: Int, node: Int)
    /// `dimm-del ID [TIMEOUT_S]`: QMP `device_del`, waits for DEVICE_DELETED or a failing `_OST`.
    case dimmDel(id: String, timeoutSeconds: Int)
    /// `vmem-resize ID SIZE [TIMEOUT_S]`: sets `requested-size`, waits until the device's `size` matches.
    case vmemResize(id: String, sizeBytes: Int, timeoutSeconds: Int)
    /// `hold KIND ID SIZE [node=N]`: the guest keeps SIZE of memory of KIND until `release ID`.
    case hold(kind: HoldKind, id: String, sizeBytes: Int, node: Int?)
    /// `release ID`: frees what `hold` or `fill-kernel` took, without allocating.
    case release(id: String)
    /// `fill-kernel NODE MARGIN_PAGES [id=ID]`: fills NODE's kernel zones with ramfs pages until
    /// MARGIN_PAGES remain above min watermark + lowmem_reserve (summed over the node's kernel
    /// zones). Released with `release ID` (default ID `fill`).
    case fillKernel(node: Int, marginPages: Int, id: String)
    /// `dump WHAT...`.
    case dump([DumpItem])
    /// `sleep S` (decimal seconds).
    case sleep(seconds: Double)
}

/// What a `hold` step takes.
public enum HoldKind: String, Sendable, CaseIterable {
    /// Anonymous private memory (movable, swap-less guest: never reclaimed).
    case anon
    /// tmpfs/shmem pages (a memfd): movable page cache.
    case shmem
    /// ramfs pages: allocated without __GFP_MOVABLE, never migratable, kernel zones only.
    case ramfs
    /// Long-term pinned memory (FOLL_LONGTERM). On 6.1 in practice io_uring registered buffers;
    /// pinning migrates pages out of ZONE_MOVABLE first, and offline spins on pinned pages.
    case pinned
    /// Unreclaimable slab (SUnreclaim): System V messages of 4048 bytes in one queue (msgmnb
    /// raised to fit), each a kmalloc-cg-4k object (msg_msg header + text, `alloc_msg`), eight
    /// to an order-3 slab. Never migratable: offlining a block that holds one fails with EBUSY.
    case slab
    /// User page tables (PageTables): an anonymous read-only mapping read once every 2 MiB, so
    /// each read allocates a PTE page and maps the shared zero page (no data page), plus a PMD
    /// page per 1 GiB of the mapping. SIZE is the PTE pages'. Unmovable: EBUSY on offline.
    case pagetable

    /// Text bytes of one `hold slab` message: with msg_msg's 48-byte header, a 4 KiB object.
    public static let slabMessageBytes = 4048
    /// The largest `hold slab` the guest can take. memhp-guest's hold_slab queues SIZE/4096
    /// messages and first sets msgmnb to (SIZE/4096 + 1) × 4048 bytes; 6.1's msgmnb is an int
    /// (ipc/ipc_sysctl.c: proc_dointvec_minmax up to SYSCTL_INT_MAX), so a larger value is
    /// EINVAL and the hold fails. 530,503 messages: 2,172,940,288 bytes (2,122,012K).
    public static let slabMaxBytes = (Int(Int32.max) / slabMessageBytes - 1) * 4096
}

/// What a `dump` step prints.
public enum DumpItem: Sendable, Equatable {
    /// `block_size_bytes`, then a `block` line per memory block (all, or the selected
    /// indices), then `blocks_total count=`.
    case blocks([Int]?)
    /// `meminfo K=V ...` (kB, the captures' keys).
    case meminfo
    /// `zone` lines, one per node and zone.
    case zones
    /// `buddy node= zone= orders=` (/proc/buddyinfo).
    case buddyinfo
    /// `hugepages` (the default 2 MiB hstate), `hstate` per size, `hstate_node` per node and size.
    case hugepages
    /// `pageflags block= ...`: per-block page-kind counts from /proc/kpageflags.
    case pageflags([Int]?)
    /// `param path= value=` for the hotplug and hugetlb tunables.
    case params
    /// `iomem line=` for each System RAM range.
    case layout
    /// `vmstat K=V ...` (the captures' counters).
    case vmstat
    /// `kpf start= runs=` lines: every pfn's kpageflags word (masked) and whether its kpagecount
    /// is 0, run-length encoded, for `memhp snapshot --from-log` (kernel-only).
    case kpageflags

    /// The word the file uses.
    public var keyword: String {
        switch self {
        case .blocks: "blocks"
        case .meminfo: "meminfo"
        case .zones: "zones"
        case .buddyinfo: "buddyinfo"
        case .hugepages: "hugepages"
        case .pageflags: "pageflags"
        case .params: "params"
        case .layout: "layout"
        case .vmstat: "vmstat"
        case .kpageflags: "kpageflags"
        }
    }
    /// `dump all`: what the captures' `dump LABEL` printed.
    public static let all: [DumpItem] = [.blocks(nil), .meminfo, .hugepages, .zones, .buddyinfo, .vmstat]
}

/// A malformed scenario: where, and what was expected.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) { self.file = file; self.line = line; self.message = message }
    public var description: String { "\(file):\(line): \(message)" }
}

// MARK: - Paths

/// Short names for the directories scenarios write to; `$MEM/memory32/state` etc.
public enum ScenarioPaths {
    public static let variables: [(String, String)] = [
        ("MEM", "/sys/devices/system/memory"),
        ("NODE", "/sys/devices/system/node"),
        ("MHP", "/sys/module/memory_hotplug/parameters"),
        ("VM", "/proc/sys/vm"),
        ("HUGE", "/sys/kernel/mm/hugepages"),
        ("DEBUG", "/sys/kernel/debug")
    ]
    public static let memory = "/sys/devices/system/memory"
    public static func blockState(_ n: Int) -> String { "\(memory)/memory\(n)/state" }
}

// MARK: - Parsing

extension Scenario {
    /// Parses a scenario file. `file` is used for `name` and in errors.
    public static func parse(_ text: String, file: String) throws -> Scenario {
        var p = ScenarioParser(file: file)
        return try p.parse(text)
    }

    /// The file name's last component without `.scn`.
    public static func name(fromFile file: String) -> String {
        var base = file.split(separator: "/").last.map(String.init) ?? file
        if base.hasSuffix(".scn") { base.removeLast(4) }
        return base
    }
}

/// Sizes in scenario files, parsed as QEMU 7.2 parses the option each stands for
/// (`QEMUSize`): `mem:` and `node:` are `-m` and `-numa node,mem=`, where a bare number is MiB;
/// every other size (`maxmem:`, `dimm:`, `virtio-mem:`, `dimm-add`, `vmem-resize`, `hold`) is a
/// `qemu_strtosz` size, where a bare number is bytes. Fractions with a unit work (`1.5G`).
public enum SizeParser {
    /// `qemu_strtosz`: a bare number is bytes. nil when QEMU would refuse it.
    public static func bytes(_ s: String) -> Int? { try? checkedBytes(s) }

    /// `qemu_strtosz`, or why not.
    public static func checkedBytes(_ s: String) throws(QEMUSize.Failure) -> Int {
        let v = try QEMUSize.strtosz(s)
        guard v <= UInt64(Int.max) else { throw .outOfRange }
        return Int(v)
    }

    /// `-m` / `-numa node,mem=`: a bare number is MiB.
    public static func checkedMiBDefault(_ s: String) throws(QEMUSize.Failure) -> Int {
        let v = try QEMUSize.legacyMiB(s)
        guard v <= UInt64(Int.max) else { throw .outOfRange }
        return Int(v)
    }

    /// The shortest exact spelling QEMU reads back as the same bytes in any option: `512M`,
    /// `1G`, `4K`, `1000B` (the `B` keeps `-m` from reading a bare number as MiB).
    public static func format(_ bytes: Int) -> String {
        if bytes == 0 { return "0" }
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)B"
    }
}

struct ScenarioParser {
    let file: String
    var lineNo = 0

    init(file: String) { self.file = file }

    func fail(_ msg: String, line: Int? = nil) -> ScenarioError {
        ScenarioError(file: file, line: line ?? lineNo, message: msg)
    }

    mutating func parse(_ text: String) throws -> Scenario {
        var sc = Scenario(name: Scenario.name(fromFile: file), file: file)
        var machine = MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4)
        var appends: [String] = []
        var seen: Set<String> = []
        var inSteps = false
        var distances: [(Int, Int, Int, Int)] = []  // a, b, d, line
        var nodeLines: [Int] = []

        // Names that must be known when steps run: plugged DIMMs, virtio-mem devices, live holds.
        var plugged: Set<String> = []
        var everPlugged: Set<String> = []
        var vmem: [String: VirtioMemConfig] = [:]
        var holds: Set<String> = []
        var deviceLines: [String: Int] = [:]
        var lastContentLine = 1
        // The (last) line of each header key: errors about the machine as a whole point there,
        // not at the `---` that completes it.
        var keyLines: [String: Int] = [:]

        // "\r\n" is one Character in Swift: split on it too, or a CRLF file is one long line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (i, raw) in lines.enumerated() {
            lineNo = i + 1
            var l = String(raw)
            if l.hasSuffix("\r") { l.removeLast() }
            let trimmed = l.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            lastContentLine = lineNo

            if !inSteps {
                if trimmed == "---" {
                    inSteps = true
                    // The machine is complete: check it before the steps refer to it.
                    try finishMachine(
                        &machine, distances: distances, nodeLines: nodeLines, deviceLines: deviceLines,
                        keyLines: keyLines, appends: appends)
                    for d in machine.dimms { plugged.insert(d.id); everPlugged.insert(d.id) }
                    for v in machine.virtioMem { vmem[v.id] = v }
                    continue
                }
                guard let colon = trimmed.firstIndex(of: ":") else {
                    throw fail("expected `key: value` in the header (or `---` before the steps), got `\(trimmed)`")
                }
                let key = String(trimmed[..<colon]).trimmingSpaces()
                let value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces()
                let repeatable: Set<String> = ["node", "dimm", "virtio-mem", "append", "module", "distance", "cpu"]
                if !repeatable.contains(key) {
                    if seen.contains(key) { throw fail("`\(key):` given twice") }
                    seen.insert(key)
                }
                keyLines[key] = lineNo
                switch key {
                case "description": sc.description = value
                case "mem":
                    machine.memBytes = try size(
                        value, what: "`mem: SIZE` (e.g. 1G; a bare number is MiB, as for -m)", mibDefault: true)
                case "maxmem": machine.maxmemBytes = try size(value, what: "`maxmem: SIZE` (e.g. 4G)")
                case "slots": machine.slots = try int(value, what: "`slots: N`", range: 0...256)
                case "timeout": sc.timeoutSeconds = try int(value, what: "`timeout: SECONDS`", range: 1...86400)
                case "seed":
                    guard let s = UInt64(value) else {
                        throw fail("expected `seed: N` (unsigned integer), got `\(value)`")
                    }
                    machine.seed = s
                case "append":
                    if value.isEmpty { throw fail("expected `append: KERNEL ARGS`, got nothing") }
                    appends.append(value)
                case "cpu":
                    guard value == "gbpages" else { throw fail("expected `cpu: gbpages`, got `\(value)`") }
                    machine.gbpages = true
                case "node":
                    let t = try tokens(value)
                    guard t.count == 2 else { throw fail("expected `node: ID SIZE` (e.g. `node: 0 768M`)") }
                    let id = try int(t[0], what: "a node id in `node: ID SIZE`", range: 0...63)
                    guard id == machine.nodes.count else {
                        throw fail(
                            "expected node \(machine.nodes.count) next (nodes are numbered 0, 1, ... in order), got \(id)"
                        )
                    }
                    machine.nodes.append(
                        NodeConfig(
                            id: id,
                            memBytes: try size(
                                t[1],
                                what: "a node size in `node: ID SIZE` (a bare number is MiB, as for -numa node,mem=)",
                                mibDefault: true)))
                    nodeLines.append(lineNo)
                case "distance":
                    let t = try tokens(value)
                    guard t.count == 3 else { throw fail("expected `distance: NODE NODE DISTANCE`") }
                    distances.append(
                        (
                            try int(t[0], what: "a node id", range: 0...63),
                            try int(t[1], what: "a node id", range: 0...63),
                            try int(t[2], what: "a distance (10-255)", range: 10...255), lineNo
                        ))
                case "dimm":
                    let t = try tokens(value)
                    guard t.count == 2 || t.count == 3 else { throw fail("expected `dimm: ID SIZE [node=N]`") }
                    let id = try ident(t[0], what: "a DIMM id")
                    if machine.dimms.contains(where: { $0.id == id })
                        || machine.virtioMem.contains(where: { $0.id == id })
                    {
                        throw fail("device id `\(id)` used twice")
                    }
                    let sz = try blockMultiple(t[1], what: "a DIMM size in `dimm: ID SIZE`")
                    var node = 0
                    if t.count == 3 { node = try option(t[2], "node", what: "`node=N` after the DIMM size") }
                    machine.dimms.append(DIMMConfig(id: id, sizeBytes: sz, node: node))
                    deviceLines[id] = lineNo
                case "virtio-mem":
                    let t = try tokens(value)
                    guard t.count >= 2 else {
                        throw fail("expected `virtio-mem: ID size=SIZE [requested=SIZE] [node=N] [block=SIZE]`")
                    }
                    let id = try ident(t[0], what: "a virtio-mem device id")
                    if machine.dimms.contains(where: { $0.id == id })
                        || machine.virtioMem.contains(where: { $0.id == id })
                    {
                        throw fail("device id `\(id)` used twice")
                    }
                    var v = VirtioMemConfig(id: id, regionBytes: 0)
                    var haveSize = false
                    for o in t.dropFirst() {
                        guard let eq = o.firstIndex(of: "=") else {
                            throw fail(
                                "expected `size=`, `requested=`, `node=` or `block=` in `virtio-mem:`, got `\(o)`")
                        }
                        let k = String(o[..<eq]), val = String(o[o.index(after: eq)...])
                        switch k {
                        case "size":
                            v.regionBytes = try blockMultiple(val, what: "`size=SIZE` (a multiple of 128M)");
                            haveSize = true
                        case "requested": v.requestedBytes = try size(val, what: "`requested=SIZE`")
                        case "node": v.node = try int(val, what: "`node=N`", range: 0...63)
                        case "block": v.blockBytes = try size(val, what: "`block=SIZE` (e.g. 2M)")
                        default:
                            throw fail(
                                "expected `size=`, `requested=`, `node=` or `block=` in `virtio-mem:`, got `\(k)=`")
                        }
                    }
                    guard haveSize else { throw fail("expected `size=SIZE` in `virtio-mem:`") }
                    guard v.blockBytes > 0, v.blockBytes & (v.blockBytes - 1) == 0 else {
                        throw fail("expected `block=` to be a power of two")
                    }
                    guard v.requestedBytes <= v.regionBytes, v.requestedBytes % v.blockBytes == 0 else {
                        throw fail(
                            "expected `requested=` to be a multiple of the device block size and at most `size=`")
                    }
                    machine.virtioMem.append(v)
                    deviceLines[v.id] = lineNo
                case "module":
                    let t = try tokens(value)
                    guard let name = t.first, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
                    else {
                        throw fail("expected `module: NAME [ARGS...]`")
                    }
                    sc.modules.append(.init(name: name, args: t.dropFirst().joined(separator: " ")))
                default:
                    throw fail(
                        "unknown header key `\(key):`; expected one of description, mem, maxmem, slots, node, distance, dimm, virtio-mem, append, cpu, module, timeout, seed"
                    )
                }
                continue
            }

            // Steps.
            let t = try tokens(l)
            guard let verb = t.first else { continue }
            let args = Array(t.dropFirst())
            let step: Step
            switch verb {
            case "step":
                guard args.count == 1 else { throw fail("expected `step NAME` (one word, or quoted)") }
                step = .step(name: args[0])
            case "write", "write-raw":
                guard args.count == 2 || args.count == 3 else {
                    throw fail(
                        "expected `\(verb) PATH VALUE [timeout=S]` (quote an empty or spaced VALUE: \"\" or \"a b\")")
                }
                let path = try kernelPath(args[0])
                var timeout = Step.defaultWriteTimeout
                if args.count == 3 {
                    timeout = try option(args[2], "timeout", what: "`timeout=S` after the value", range: 1...3600)
                }
                step = .write(path: path, value: args[1], newline: verb == "write", timeoutSeconds: timeout)
            case "read":
                guard args.count == 1 else { throw fail("expected `read PATH`") }
                step = .read(path: try kernelPath(args[0]))
            case "online":
                guard args.count == 1 || args.count == 2 else {
                    throw fail("expected `online BLOCK [online|online_kernel|online_movable]`")
                }
                let n = try int(args[0], what: "a memory block number", range: 0...1_000_000)
                var type = OnlineType.online
                if args.count == 2 {
                    guard let ty = OnlineType(name: args[1]), ty != .offline else {
                        throw fail(
                            "expected online, online_kernel or online_movable, got `\(args[1])` (use `write` to test invalid strings)"
                        )
                    }
                    type = ty
                }
                step = .online(block: n, type: type)
            case "offline":
                guard args.count == 1 || args.count == 2 else { throw fail("expected `offline BLOCK [TIMEOUT_S]`") }
                let n = try int(args[0], what: "a memory block number", range: 0...1_000_000)
                let to =
                    args.count == 2
                    ? try int(args[1], what: "a timeout in seconds", range: 1...3600) : Step.defaultOfflineTimeout
                step = .offline(block: n, timeoutSeconds: to)
            case "dimm-add":
                guard args.count == 2 || args.count == 3 else { throw fail("expected `dimm-add ID SIZE [node=N]`") }
                let id = try ident(args[0], what: "a DIMM id")
                if everPlugged.contains(id) || vmem[id] != nil {
                    throw fail("device id `\(id)` already used (QEMU ids and their memory backends cannot be reused)")
                }
                let sz = try blockMultiple(args[1], what: "a DIMM size")
                let node = args.count == 3 ? try option(args[2], "node", what: "`node=N` after the size") : 0
                try checkNode(node, machine)
                plugged.insert(id); everPlugged.insert(id)
                step = .dimmAdd(id: id, sizeBytes: sz, node: node)
            case "dimm-del":
                guard args.count == 1 || args.count == 2 else { throw fail("expected `dimm-del ID [TIMEOUT_S]`") }
                let id = try ident(args[0], what: "a DIMM id")
                guard plugged.contains(id) else { throw fail("expected the id of a plugged DIMM, got `\(id)`") }
                // A refused eject leaves the DIMM in place, so later steps may still name it.
                let to =
                    args.count == 2
                    ? try int(args[1], what: "a timeout in seconds", range: 1...3600) : Step.defaultDimmDelTimeout
                step = .dimmDel(id: id, timeoutSeconds: to)
            case "vmem-resize":
                guard args.count == 2 || args.count == 3 else {
                    throw fail("expected `vmem-resize ID SIZE [TIMEOUT_S]`")
                }
                guard let dev = vmem[args[0]] else {
                    throw fail("expected the id of a `virtio-mem:` device, got `\(args[0])`")
                }
                let sz = try size(args[1], what: "a requested size")
                guard sz <= dev.regionBytes, sz % dev.blockBytes == 0 else {
                    throw fail(
                        "expected a requested size that is a multiple of \(SizeParser.format(dev.blockBytes)) and at most \(SizeParser.format(dev.regionBytes))"
                    )
                }
                let to =
                    args.count == 3
                    ? try int(args[2], what: "a timeout in seconds", range: 1...3600) : Step.defaultResizeTimeout
                step = .vmemResize(id: dev.id, sizeBytes: sz, timeoutSeconds: to)
            case "hold":
                guard args.count == 3 || args.count == 4 else {
                    throw fail("expected `hold anon|shmem|ramfs|pinned|slab|pagetable ID SIZE [node=N]`")
                }
                guard let kind = HoldKind(rawValue: args[0]) else {
                    throw fail("expected a hold kind (anon, shmem, ramfs, pinned, slab or pagetable), got `\(args[0])`")
                }
                let id = try ident(args[1], what: "a hold id")
                guard !holds.contains(id) else { throw fail("hold `\(id)` is already held; `release \(id)` first") }
                let sz = try size(args[2], what: "a size (e.g. 64M)")
                guard sz > 0, sz % Geometry.pageSize == 0 else {
                    throw fail("expected a size that is a positive multiple of 4K")
                }
                if kind == .slab && sz > HoldKind.slabMaxBytes {
                    throw fail(
                        "a slab hold is at most \(SizeParser.format(HoldKind.slabMaxBytes)) (\(HoldKind.slabMaxBytes) bytes): the guest queues SIZE/4096 System V messages of \(HoldKind.slabMessageBytes) bytes in one queue, and msgmnb, an int, cannot hold more (the kernel refuses the write with EINVAL)"
                    )
                }
                var node: Int? = nil
                if args.count == 4 {
                    let n = try option(args[3], "node", what: "`node=N` after the size"); try checkNode(n, machine);
                    node = n
                }
                holds.insert(id)
                step = .hold(kind: kind, id: id, sizeBytes: sz, node: node)
            case "release":
                guard args.count == 1 else { throw fail("expected `release ID`") }
                guard holds.contains(args[0]) else {
                    throw fail("expected the id of a held `hold` or `fill-kernel`, got `\(args[0])`")
                }
                holds.remove(args[0])
                step = .release(id: args[0])
            case "fill-kernel":
                guard args.count == 2 || args.count == 3 else {
                    throw fail("expected `fill-kernel NODE MARGIN_PAGES [id=ID]`")
                }
                let node = try int(args[0], what: "a node number", range: 0...63)
                try checkNode(node, machine)
                let margin = try int(args[1], what: "a margin in pages", range: 0...100_000_000)
                var id = "fill"
                if args.count == 3 {
                    guard args[2].hasPrefix("id=") else {
                        throw fail("expected `id=ID` after the margin, got `\(args[2])`")
                    }
                    id = try ident(String(args[2].dropFirst(3)), what: "a hold id")
                }
                guard !holds.contains(id) else { throw fail("hold `\(id)` is already held; `release \(id)` first") }
                holds.insert(id)
                step = .fillKernel(node: node, marginPages: margin, id: id)
            case "dump":
                guard !args.isEmpty else {
                    throw fail(
                        "expected `dump WHAT...` (blocks, meminfo, zones, zoneinfo, buddyinfo, hugepages, pageflags, params, layout, vmstat, all)"
                    )
                }
                var items: [DumpItem] = []
                for a in args { items += try dumpItems(a) }
                step = .dump(items)
            case "sleep":
                guard args.count == 1, let s = Double(args[0]), s >= 0, s <= 3600 else {
                    throw fail("expected `sleep SECONDS` (0-3600, decimals allowed)")
                }
                step = .sleep(seconds: s)
            default:
                throw fail(
                    "unknown step `\(verb)`; expected step, write, write-raw, read, online, offline, dimm-add, dimm-del, vmem-resize, hold, release, fill-kernel, dump or sleep"
                )
            }
            sc.steps.append(step)
            sc.stepLines.append(lineNo)
        }
        if !inSteps {
            throw fail("expected a `---` line between the header and the steps", line: lastContentLine)
        }
        sc.machine = machine
        return sc
    }

    // The machine as a whole: node sizes add up, devices fit, references resolve.
    mutating func finishMachine(
        _ m: inout MachineConfig, distances: [(Int, Int, Int, Int)], nodeLines: [Int],
        deviceLines: [String: Int], keyLines: [String: Int], appends: [String]
    ) throws {
        m.cmdline = appends.joined(separator: " ")
        guard m.memBytes > 0, m.memBytes % (2 << 20) == 0 else {
            throw fail("expected `mem:` to be a positive multiple of 2M", line: keyLines["mem"] ?? 1)
        }
        let lastDeviceLine = deviceLines.values.max()
        if !m.nodes.isEmpty {
            let total = m.nodes.reduce(0) { $0 + $1.memBytes }
            guard total == m.memBytes else {
                throw fail(
                    "the `node:` sizes add up to \(SizeParser.format(total)), expected `mem:` (\(SizeParser.format(m.memBytes)))",
                    line: nodeLines.first)
            }
        }
        let nodeCount = max(1, m.nodes.count)
        for d in m.dimms where d.node >= nodeCount {
            throw fail(
                "DIMM `\(d.id)` is on node \(d.node), but the machine has \(nodeCount) node(s)", line: deviceLines[d.id]
            )
        }
        for v in m.virtioMem where v.node >= nodeCount {
            throw fail(
                "virtio-mem `\(v.id)` is on node \(v.node), but the machine has \(nodeCount) node(s)",
                line: deviceLines[v.id])
        }
        guard m.dimms.count <= m.slots else {
            throw fail(
                "\(m.dimms.count) DIMMs need at least \(m.dimms.count) `slots:`, have \(m.slots)",
                line: keyLines["slots"] ?? m.dimms.dropFirst(m.slots).first.flatMap { deviceLines[$0.id] })
        }
        let devices = m.dimms.reduce(0) { $0 + $1.sizeBytes } + m.virtioMem.reduce(0) { $0 + $1.regionBytes }
        if devices > 0 || m.maxmemBytes > 0 {
            guard m.maxmemBytes >= m.memBytes + devices else {
                throw fail(
                    "`maxmem:` \(SizeParser.format(m.maxmemBytes)) is smaller than mem + DIMMs + virtio-mem (\(SizeParser.format(m.memBytes + devices)))",
                    line: keyLines["maxmem"] ?? lastDeviceLine)
            }
        }
        if !distances.isEmpty {
            var d = (0..<nodeCount).map { a in (0..<nodeCount).map { b in a == b ? 10 : 20 } }
            for (a, b, dist, line) in distances {
                guard a < nodeCount, b < nodeCount, a != b else {
                    throw fail("expected two different nodes below \(nodeCount) in `distance:`", line: line)
                }
                d[a][b] = dist; d[b][a] = dist
            }
            m.distances = d
        }
    }

    func checkNode(_ n: Int, _ m: MachineConfig) throws {
        let count = max(1, m.nodes.count)
        guard n < count else {
            throw fail("expected a node below \(count) (the machine has \(count) node(s)), got \(n)")
        }
    }

    /// A size as QEMU reads it; `mibDefault` for `-m` and `-numa node,mem=` (a bare number is MiB).
    func size(_ s: String, what: String, mibDefault: Bool = false) throws -> Int {
        do throws(QEMUSize.Failure) {
            return mibDefault ? try SizeParser.checkedMiBDefault(s) : try SizeParser.checkedBytes(s)
        } catch {
            throw fail("expected \(what), got `\(s)`: \(error)")
        }
    }
    func blockMultiple(_ s: String, what: String) throws -> Int {
        let v = try size(s, what: what)
        guard v > 0, v % Geometry.minMemoryBlockSize == 0 else {
            throw fail("expected \(what) to be a positive multiple of 128M, got `\(s)`")
        }
        return v
    }
    func int(_ s: String, what: String, range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(s), range.contains(v) else { throw fail("expected \(what), got `\(s)`") }
        return v
    }
    func option(_ s: String, _ key: String, what: String, range: ClosedRange<Int> = 0...63) throws -> Int {
        guard s.hasPrefix(key + "=") else { throw fail("expected \(what), got `\(s)`") }
        return try int(String(s.dropFirst(key.count + 1)), what: what, range: range)
    }
    func ident(_ s: String, what: String) throws -> String {
        guard let f = s.first, f.isASCII, f.isLetter,
            s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") })
        else {
            throw fail("expected \(what) (a letter, then letters, digits, `-`, `_` or `.`), got `\(s)`")
        }
        return s
    }

    /// `$VAR/...` expanded; the result must be a kernel file (under /sys or /proc).
    func kernelPath(_ s: String) throws -> String {
        var p = s
        if p.hasPrefix("$") {
            let name = String(p.dropFirst().prefix(while: { $0 != "/" }))
            guard let dir = ScenarioPaths.variables.first(where: { $0.0 == name })?.1 else {
                throw fail(
                    "unknown path variable `$\(name)`; expected one of "
                        + ScenarioPaths.variables.map { "$" + $0.0 }.joined(separator: ", "))
            }
            p = dir + String(p.dropFirst(1 + name.count))
        }
        guard p.hasPrefix("/sys/") || p.hasPrefix("/proc/") else {
            throw fail("expected a kernel file path under /sys/ or /proc/ (or $MEM/..., $VM/...), got `\(s)`")
        }
        guard !p.split(separator: "/").contains(".."), !p.contains(" ") else {
            throw fail("expected a plain path without `..` or spaces, got `\(s)`")
        }
        return p
    }

    func dumpItems(_ a: String) throws -> [DumpItem] {
        let parts = a.split(separator: ":", maxSplits: 1).map(String.init)
        let word = parts.first ?? ""
        var sel: [Int]? = nil
        if parts.count == 2 {
            guard word == "blocks" || word == "pageflags" else {
                throw fail("only `blocks:` and `pageflags:` take a block selection, got `\(a)`")
            }
            sel = try blockList(parts[1])
        }
        switch word {
        case "blocks": return [.blocks(sel)]
        case "pageflags": return [.pageflags(sel)]
        case "meminfo": return [.meminfo]
        case "zones", "zoneinfo": return [.zones]
        case "buddyinfo": return [.buddyinfo]
        case "hugepages": return [.hugepages]
        case "params": return [.params]
        case "layout": return [.layout]
        case "vmstat": return [.vmstat]
        case "kpageflags": return [.kpageflags]
        case "all": return DumpItem.all
        default:
            throw fail(
                "unknown dump `\(a)`; expected blocks[:SEL], meminfo, zones, zoneinfo, buddyinfo, hugepages, pageflags[:SEL], params, layout, vmstat, kpageflags or all"
            )
        }
    }

    /// `32-35,40` → [32, 33, 34, 35, 40].
    func blockList(_ s: String) throws -> [Int] {
        var out: [Int] = []
        for part in s.split(separator: ",", omittingEmptySubsequences: false) {
            let r = part.split(separator: "-", omittingEmptySubsequences: false)
            if r.count == 1, let n = Int(r[0]), n >= 0 { out.append(n); continue }
            if r.count == 2, let a = Int(r[0]), let b = Int(r[1]), a >= 0, a <= b, b - a < 100_000 {
                out += Array(a...b); continue
            }
            throw fail("expected a block selection like `32-35,40`, got `\(s)`")
        }
        return out
    }

    /// Shell-like words: blanks separate, "..." and '...' quote, `\` escapes inside "...",
    /// and a `#` at the start of a word starts a comment.
    func tokens(_ line: String) throws -> [String] {
        var out: [String] = []
        var cur = ""
        var inWord = false
        var it = Array(line)
        it.append(" ")
        var i = 0
        while i < it.count {
            let c = it[i]
            if c == " " || c == "\t" {
                if inWord { out.append(cur); cur = ""; inWord = false }
                i += 1; continue
            }
            if c == "#" && !inWord { break }
            inWord = true
            if c == "\"" {
                i += 1
                var closed = false
                while i < it.count - 1 {
                    let d = it[i]
                    if d == "\"" { closed = true; break }
                    if d == "\\", i + 1 < it.count - 1 {
                        let n = it[i + 1]
                        switch n {
                        case "n": cur.append("\n")
                        case "t": cur.append("\t")
                        case "\\", "\"", "$": cur.append(n)
                        default: cur.append("\\"); cur.append(n)
                        }
                        i += 2; continue
                    }
                    cur.append(d); i += 1
                }
                guard closed else { throw fail("unterminated \" quote; expected a closing \"") }
                i += 1; continue
            }
            if c == "'" {
                i += 1
                var closed = false
                while i < it.count - 1 {
                    if it[i] == "'" { closed = true; break }
                    cur.append(it[i]); i += 1
                }
                guard closed else { throw fail("unterminated ' quote; expected a closing '") }
                i += 1; continue
            }
            cur.append(c); i += 1
        }
        return out
    }
}

extension Step {
    public static let defaultWriteTimeout = 60
    public static let defaultOfflineTimeout = 30
    public static let defaultDimmDelTimeout = 60
    public static let defaultResizeTimeout = 120

    /// The step in file syntax (parsing it gives the same step back).
    public var line: String {
        func q(_ s: String) -> String {
            if !s.isEmpty,
                s.allSatisfy({ !$0.isWhitespace && $0 != "\"" && $0 != "'" && $0 != "\\" && $0 != "#" && $0 != "$" })
            {
                return s
            }
            var o = "\""
            for c in s {
                switch c {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                case "$": o += "\\$"
                case "\n": o += "\\n"
                case "\t": o += "\\t"
                default: o.append(c)
                }
            }
            return o + "\""
        }
        func sel(_ s: [Int]?) -> String { s.map { ":" + $0.map(String.init).joined(separator: ",") } ?? "" }
        switch self {
        case .step(let n): return "step \(q(n))"
        case .write(let p, let v, let nl, let t):
            return "\(nl ? "write" : "write-raw") \(p) \(q(v))" + (t == Step.defaultWriteTimeout ? "" : " timeout=\(t)")
        case .read(let p): return "read \(p)"
        case .online(let b, let ty): return "online \(b) \(ty.name)"
        case .offline(let b, let t): return "offline \(b) \(t)"
        case .dimmAdd(let id, let s, let n): return "dimm-add \(id) \(SizeParser.format(s)) node=\(n)"
        case .dimmDel(let id, let t): return "dimm-del \(id) \(t)"
        case .vmemResize(let id, let s, let t): return "vmem-resize \(id) \(SizeParser.format(s)) \(t)"
        case .hold(let k, let id, let s, let n):
            return "hold \(k.rawValue) \(id) \(SizeParser.format(s))" + (n.map { " node=\($0)" } ?? "")
        case .release(let id): return "release \(id)"
        case .fillKernel(let n, let m, let id): return "fill-kernel \(n) \(m)" + (id == "fill" ? "" : " id=\(id)")
        case .dump(let items):
            return "dump "
                + items.map { item -> String in
                    switch item {
                    case .blocks(let s): return "blocks" + sel(s)
                    case .pageflags(let s): return "pageflags" + sel(s)
                    default: return item.keyword
                    }
                }.joined(separator: " ")
        case .sleep(let s): return "sleep \(s)"
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
