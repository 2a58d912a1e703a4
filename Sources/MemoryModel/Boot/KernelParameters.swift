/// The kernel command line, parsed as Linux 6.1 parses it at boot.
///
/// Three passes, as in `start_kernel()`:
/// 1. `parse_early_param()`: `mem=`, `kernelcore=`, `movablecore=`, `movable_node`. A handler
///    that fails makes the kernel print `Malformed early option '<name>'`.
/// 2. `parse_args("Booting kernel")` over the built-in module and core parameters
///    (`memory_hotplug.*`, `hugetlb_free_vmemmap`). A failing setter prints
///    ``Booting kernel: `<val>' invalid for parameter `<name>'``.
/// 3. What no parameter claimed goes to `unknown_bootoption()`: the obsolete-style `__setup`
///    handlers (`memhp_default_state=`, `hugepagesz=`, `hugepages=`, `default_hugepagesz=`),
///    matched by prefix; then names with a dot are dropped silently; the rest is handed to
///    init and listed once in `Unknown kernel command line parameters "...", will be passed
///    to user space.`
///
/// Names compare with `-` and `_` equal (`parameq`). Values may be double-quoted (`next_arg`).
/// Defaults are Debian 12's (6.1.0 amd64 config): auto-online `offline`, `contig-zones`,
/// ratio 301, NUMA-aware, no memmap_on_memory, HVO off.
public struct KernelParameters: Sendable, Equatable {
    /// `kernelcore=` / `movablecore=`: an absolute size (kept in pages, as the kernel keeps it)
    /// or a percentage of all boot memory.
    public enum CoreRequest: Sendable, Equatable {
        case pages(Int)
        case percent(Int)
    }

    /// `memory_hotplug.online_policy`.
    public enum OnlinePolicy: String, Sendable, CaseIterable {
        case contigZones = "contig-zones"
        case autoMovable = "auto-movable"
        public var name: String { rawValue }
    }

    /// One hstate and how many pages the command line asks for at boot.
    public struct HugePageRequest: Sendable, Equatable {
        public var sizeBytes: Int
        /// `max_huge_pages`: the total (the sum of the node counts in node format).
        public var count: Int
        /// Node format (`hugepages=0:4,1:2`): pages per node id. Empty = spread by the kernel.
        public var perNode: [Int: Int]
        public init(sizeBytes: Int, count: Int = 0, perNode: [Int: Int] = [:]) {
            self.sizeBytes = sizeBytes; self.count = count; self.perNode = perNode
        }
        public var isGigantic: Bool { sizeBytes > Geometry.maxOrderPages << Geometry.pageShift }
    }

    /// The whole command line as given.
    public var cmdline: String
    /// `mem=`: RAM above this physical address is removed from e820, and it is `max_mem_size`
    /// (memory added while booting must end below it). nil = no limit.
    public var memLimitBytes: Int?
    public var kernelcore: CoreRequest?
    /// `kernelcore=mirror`: ZONE_MOVABLE is all non-mirrored memory above 4 GiB.
    public var kernelcoreMirror = false
    public var movablecore: CoreRequest?
    /// `movable_node`: hotpluggable memory (SRAT) is Movable; kernelcore=/movablecore= ignored.
    public var movableNode = false
    /// `memhp_default_state=`: the initial `auto_online_blocks`.
    public var autoOnline: OnlineType = .offline
    public var onlinePolicy: OnlinePolicy = .contigZones
    public var autoMovableRatio: Int = 301
    public var autoMovableNumaAware = true
    public var memmapOnMemory = false
    /// `hugetlb_free_vmemmap=` (6.1: a core_param bool): HVO at boot, and the initial sysctl.
    public var hugetlbFreeVmemmap = false
    /// Registered hstates in the order the command line created them (2 MiB always ends up
    /// registered by `hugetlb_init`), with the boot pool size of each.
    public var hugepages: [HugePageRequest] = [HugePageRequest(sizeBytes: 2 << 20)]
    /// `default_hugepagesz=`, else 2 MiB (HPAGE_SIZE).
    public var defaultHugePageSizeBytes: Int = 2 << 20
    /// `nokaslr`: the kernel image stays at its link address (16 MiB). Read by the
    /// decompressor, not by a kernel parameter handler, so 6.1 also lists it as unknown.
    public var nokaslr = false
    /// Parameters the kernel passes to init (in the order it lists them).
    public var unknown: [String] = []
    /// What the kernel logged while parsing, in order.
    public var messages: [String] = []

    /// Debian 12 defaults, empty command line.
    public init() { cmdline = "" }

    /// Parse `cmdline`. `gbpages` says whether 1 GiB hugepages are a valid size
    /// (X86_FEATURE_GBPAGES); `nodeCount` how many NUMA nodes are online (node format of
    /// `hugepages=` refuses other node ids).
    public init(parsing cmdline: String, gbpages: Bool = false, nodeCount: Int = 1) {
        self.cmdline = cmdline
        let args = KernelParameters.splitArgs(cmdline)
        // Pass 1: early parameters.
        for (name, value) in args { parseEarly(name: name, value: value) }
        // Passes 2 and 3.
        var hugetlb = HugeTLBParser(gbpages: gbpages, nodeCount: nodeCount)
        var argv: [String] = [], envp: [String] = []
        for (name, value) in args {
            let key = KernelParameters.normalize(name)
            if parseModuleParam(key: key, name: name, value: value) { continue }
            // unknown_bootoption(): obsolete-style __setup handlers, by prefix of "name=value".
            let line = value.map { name + "=" + $0 } ?? name
            if let v = value {
                switch key {
                case "memhp_default_state":
                    if let t = OnlineType(name: KernelParameters.stripNewline(v)) { autoOnline = t }
                    continue
                case "hugepagesz": hugetlb.hugepagesz(v); continue
                case "hugepages": hugetlb.hugepages(v); continue
                case "default_hugepagesz": hugetlb.defaultHugepagesz(v); continue
                default: break
                }
            }
            if KernelParameters.earlyNames.contains(key) || KernelParameters.knownElsewhere.contains(key) { continue }
            if key == "boot_image" || key.hasPrefix("kexec") { continue }
            if name.contains(".") { continue }  // an unused module parameter
            if value != nil { envp.append(line) } else { argv.append(line) }
        }
        hugetlb.finish()
        hugepages = hugetlb.hstates
        defaultHugePageSizeBytes = hugetlb.defaultSize
        messages += hugetlb.messages
        unknown = argv + envp
        if !unknown.isEmpty {
            messages.append(
                "Unknown kernel command line parameters \"\(unknown.joined(separator: " "))\", will be passed to user space."
            )
        }
    }

    /// The boot pool asked for the default hstate.
    public var defaultHugePages: Int { hugepages.first { $0.sizeBytes == defaultHugePageSizeBytes }?.count ?? 0 }

    // MARK: Early parameters (early_param)

    static let earlyNames: Set<String> = [
        "mem", "kernelcore", "movablecore", "movable_node", "quiet", "debug",
        "loglevel", "earlyprintk", "earlycon"
    ]
    /// Parameters the real kernel knows that this model does not use (so they are not "unknown").
    static let knownElsewhere: Set<String> = [
        "console", "panic", "root", "init", "rdinit", "ignore_loglevel",
        "nosmp", "maxcpus", "nr_cpus", "numa", "nopti", "mitigations",
        "printk.time", "no_hash_pointers", "initcall_debug", "rw", "ro"
    ]

    private mutating func parseEarly(name: String, value: String?) {
        let key = KernelParameters.normalize(name)
        var ok = true
        switch key {
        case "mem":
            // parse_memopt(): memparse; 0 (including garbage) is refused so that all memory is not removed.
            guard let v = value else { ok = false; break }
            if v == "nopentium" {
                messages.append("mem=nopentium ignored! (only supported on x86_32)")
                ok = false; break
            }
            let bytes = KernelParameters.memparse(v).value
            if bytes == 0 { ok = false; break }
            memLimitBytes = bytes > UInt64(Int.max) ? Int.max : Int(bytes)
        case "kernelcore":
            guard let v = value else { ok = false; break }
            if KernelParameters.parseOptionStr(v, "mirror") { kernelcoreMirror = true; break }
            kernelcore = KernelParameters.parseCore(v, messages: &messages)
        case "movablecore":
            guard let v = value else { ok = false; break }
            movablecore = KernelParameters.parseCore(v, messages: &messages)
        case "movable_node":
            movableNode = true
        case "nokaslr":
            nokaslr = true
        default:
            return
        }
        if !ok { messages.append("Malformed early option '\(name)'") }
    }

    /// cmdline_parse_core(): `NN%` (simple_strtoull base 0, then '%') or a memparse size.
    /// Nothing here ever fails: garbage is a size of 0, which asks for nothing.
    static func parseCore(_ v: String, messages: inout [String]) -> CoreRequest? {
        let bytes = Array(v.utf8)
        let (n, used) = simpleStrtoull(bytes[...])
        if used < bytes.count && bytes[used] == UInt8(ascii: "%") {
            if n > 100 { messages.append("WARNING: cmdline_parse_core: percent \(n) > 100") }
            return .percent(Int(truncatingIfNeeded: n))
        }
        let pages = Int(truncatingIfNeeded: memparse(v).value >> UInt64(Geometry.pageShift))
        return pages == 0 ? nil : .pages(pages)
    }

    // MARK: Built-in module and core parameters (parse_args "Booting kernel")

    private mutating func parseModuleParam(key: String, name: String, value: String?) -> Bool {
        func invalid() { messages.append("Booting kernel: `\(value ?? "")' invalid for parameter `\(name)'") }
        switch key {
        case "memory_hotplug.online_policy":
            // online_policy_set(): sysfs_match_string.
            if let v = value, let p = OnlinePolicy(rawValue: KernelParameters.stripNewline(v)) {
                onlinePolicy = p
            } else {
                invalid()
            }
        case "memory_hotplug.auto_movable_ratio":
            // param_set_uint(): kstrtouint base 0.
            if let v = value, let n = KernelParameters.kstrtoull(v), n <= UInt64(UInt32.max) {
                autoMovableRatio = Int(n)
            } else {
                invalid()
            }
        case "memory_hotplug.auto_movable_numa_aware":
            if let b = KernelParameters.paramBool(value) { autoMovableNumaAware = b } else { invalid() }
        case "memory_hotplug.memmap_on_memory":
            if let b = KernelParameters.paramBool(value) { memmapOnMemory = b } else { invalid() }
        case "hugetlb_free_vmemmap":
            if let b = KernelParameters.paramBool(value) { hugetlbFreeVmemmap = b } else { invalid() }
        default:
            return false
        }
        return true
    }

    // MARK: Lexing

    /// next_arg(): whitespace-separated `name[=value]`, double quotes group (and are removed
    /// around the value, or around the whole argument); `--` ends the kernel's arguments.
    public static func splitArgs(_ cmdline: String) -> [(name: String, value: String?)] {
        var out: [(String, String?)] = []
        let s = Array(cmdline.utf8)
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0d) }
        while i < s.count {
            while i < s.count && isSpace(s[i]) { i += 1 }
            if i >= s.count { break }
            var inQuote = false
            var quoted = false
            var equals: Int? = nil
            if s[i] == UInt8(ascii: "\"") { inQuote = true; quoted = true; i += 1 }
            let bodyStart = i
            while i < s.count {
                if isSpace(s[i]) && !inQuote { break }
                if equals == nil && s[i] == UInt8(ascii: "=") { equals = i }
                if s[i] == UInt8(ascii: "\"") { inQuote.toggle() }
                i += 1
            }
            var arg = Array(s[bodyStart..<i])
            var name: [UInt8], value: [UInt8]?
            if let e = equals {
                name = Array(s[bodyStart..<e])
                value = Array(s[(e + 1)..<i])
                if var v = value, v.first == UInt8(ascii: "\"") {
                    v.removeFirst()
                    if v.last == UInt8(ascii: "\"") { v.removeLast() }
                    value = v
                } else if quoted, var v = value, v.last == UInt8(ascii: "\"") {
                    v.removeLast(); value = v
                }
            } else {
                if quoted, arg.last == UInt8(ascii: "\"") { arg.removeLast() }
                name = arg; value = nil
            }
            let nameStr = String(decoding: name, as: UTF8.self)
            if nameStr == "--" && value == nil { break }
            out.append((nameStr, value.map { String(decoding: $0, as: UTF8.self) }))
        }
        return out
    }

    /// parameq(): `-` and `_` are the same character in parameter names.
    static func normalize(_ name: String) -> String { name.replacingDash() }

    static func stripNewline(_ s: String) -> String { s.hasSuffix("\n") ? String(s.dropLast()) : s }

    /// parse_option_str(): is `option` one of the comma-separated words of `str`?
    static func parseOptionStr(_ str: String, _ option: String) -> Bool {
        str.split(separator: ",", omittingEmptySubsequences: false).contains { $0 == option }
    }

    // MARK: Number parsing: the shared 6.1 parsers (KernelText.swift) over the value's bytes

    /// memparse(): simple_strtoull base 0, then an optional K/M/G/T/P/E suffix (any case).
    /// Overflow wraps as in C. Returns the value and how many bytes were consumed.
    public static func memparse(_ s: String) -> (value: UInt64, consumed: Int) {
        let r = MemoryModel.memparse(Array(s.utf8))
        return (r.value, r.consumed)
    }

    /// simple_strtoull(s, &end, 0): radix from the prefix (0x → 16, 0 → 8, else 10), digits
    /// until the first non-digit, wrapping on overflow. No sign.
    static func simpleStrtoull(_ s: ArraySlice<UInt8>) -> (UInt64, Int) {
        let c = Array(s)[...]
        let (base, skip) = fixupRadix(c, 0)
        let r = parseDigits(c, from: skip, base: base)
        return (r.value, r.count == 0 ? 0 : skip + r.count)
    }

    /// kstrtoull(s, 0): the whole string (one trailing newline allowed, a leading '+' too) must
    /// be digits; overflow is an error.
    static func kstrtoull(_ s: String) -> UInt64? { try? MemoryModel.kstrtoull(Array(s.utf8), base: 0) }

    /// kstrtobool() (6.1): y/Y/t/T/1 true, n/N/f/F/0 false, on/off by the first two letters.
    public static func kstrtobool(_ s: String) -> Bool? { try? MemoryModel.kstrtobool(Array(s.utf8)) }

    /// param_set_bool(): no value means "set".
    static func paramBool(_ value: String?) -> Bool? { value.map(kstrtobool) ?? true }
}

private extension String {
    func replacingDash() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}

/// hugepagesz_setup / hugepages_setup / default_hugepagesz_setup and the end of hugetlb_init(),
/// as a small state machine over the same variables the kernel keeps.
struct HugeTLBParser {
    let gbpages: Bool
    let nodeCount: Int
    var hstates: [KernelParameters.HugePageRequest] = []
    var messages: [String] = []
    var parsedValidHugepagesz = true
    var parsedDefaultHugepagesz = false
    /// Index into `hstates` of the hstate the last valid hugepagesz= named.
    var parsedHstate: Int? = nil
    var defaultIdx = 0
    /// `default_hstate_max_huge_pages` and its per-node split: hugepages= before any size.
    var defaultMax = 0
    var defaultPerNode: [Int: Int] = [:]
    /// Which counter the last hugepages= wrote: nil none, -1 the default counter, else an hstate.
    var lastTarget: Int?? = .none

    init(gbpages: Bool, nodeCount: Int) { self.gbpages = gbpages; self.nodeCount = nodeCount }

    var defaultSize: Int { hstates.isEmpty ? 2 << 20 : hstates[defaultIdx].sizeBytes }

    func validSize(_ size: UInt64) -> Bool { size == 2 << 20 || (size == 1 << 30 && gbpages) }

    /// hugetlb_add_hstate(): registering an existing size again is a no-op; a new hstate
    /// becomes `parsed_hstate`, the target of a following hugepages=.
    mutating func addHstate(_ size: Int) -> Int {
        if let i = hstates.firstIndex(where: { $0.sizeBytes == size }) { return i }
        hstates.append(.init(sizeBytes: size))
        parsedHstate = hstates.count - 1
        return hstates.count - 1
    }

    mutating func hugepagesz(_ s: String) {
        parsedValidHugepagesz = false
        let size = KernelParameters.memparse(s).value
        guard validSize(size) else { messages.append("HugeTLB: unsupported hugepagesz=\(s)"); return }
        if let i = hstates.firstIndex(where: { $0.sizeBytes == Int(size) }) {
            // Allowed only for the default hstate whose count was not given yet.
            if !parsedDefaultHugepagesz || i != defaultIdx || hstates[i].count != 0 {
                messages.append("HugeTLB: hugepagesz=\(s) specified twice, ignoring")
                return
            }
            parsedHstate = i
            parsedValidHugepagesz = true
            return
        }
        _ = addHstate(Int(size))
        parsedValidHugepagesz = true
    }

    mutating func hugepages(_ s: String) {
        if !parsedValidHugepagesz {
            messages.append("HugeTLB: hugepages=\(s) does not follow a valid hugepagesz, ignoring")
            parsedValidHugepagesz = true
            return
        }
        // hugetlb_max_hstate == 0: the count is for the default size, resolved later.
        let target: Int? = hstates.isEmpty ? nil : (parsedHstate ?? defaultIdx)
        let key: Int = target ?? -1
        if case .some(let last) = lastTarget, (last ?? -1) == key {
            messages.append(
                "HugeTLB: hugepages= specified twice without interleaving hugepagesz=, ignoring hugepages=\(s)")
            return
        }
        let b = Array(s.utf8)
        var p = 0
        var total = target.map { hstates[$0].count } ?? defaultMax
        var perNode: [Int: Int] = target.map { hstates[$0].perNode } ?? defaultPerNode
        func scanLong(_ from: Int) -> (Int, Int)? {
            // sscanf("%lu%n"): optional whitespace, optional sign, decimal digits.
            var i = from
            while i < b.count && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
            var neg = false
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) {
                neg = b[i] == UInt8(ascii: "-"); i += 1
            }
            let ds = i
            var v: UInt64 = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { v = v &* 10 &+ UInt64(b[i] - 0x30); i += 1 }
            if i == ds { return nil }
            let r = neg ? (0 &- v) : v
            return (Int(truncatingIfNeeded: r), i - from)
        }
        var invalidAt: Int? = nil
        while p < b.count {
            guard let (n, count) = scanLong(p) else { invalidAt = p; break }
            if p + count < b.count && b[p + count] == UInt8(ascii: ":") {
                guard n >= 0 && n < nodeCount else { invalidAt = p; break }
                let node = n
                p += count + 1
                guard let (m, c2) = scanLong(p) else { invalidAt = p; break }
                perNode[node] = m
                total += m
                if p + c2 < b.count && b[p + c2] == UInt8(ascii: ",") { p += c2 + 1 } else { break }
            } else {
                if p != 0 { invalidAt = p; break }
                total = n
                break
            }
        }
        if let at = invalidAt {
            messages.append("HugeTLB: Invalid hugepages parameter \(String(decoding: b[at...], as: UTF8.self))")
            // hugepages_clear_pages_in_node(): forget every node split given so far.
            defaultPerNode = [:]
            for i in hstates.indices { hstates[i].perNode = [:] }
            return
        }
        if let t = target {
            hstates[t].count = total; hstates[t].perNode = perNode
        } else {
            defaultMax = total; defaultPerNode = perNode
        }
        lastTarget = .some(target)
    }

    mutating func defaultHugepagesz(_ s: String) {
        parsedValidHugepagesz = false
        if parsedDefaultHugepagesz {
            messages.append("HugeTLB: default_hugepagesz previously specified, ignoring \(s)")
            return
        }
        let size = KernelParameters.memparse(s).value
        guard validSize(size) else { messages.append("HugeTLB: unsupported default_hugepagesz=\(s)"); return }
        defaultIdx = addHstate(Int(size))
        parsedValidHugepagesz = true
        parsedDefaultHugepagesz = true
        if defaultMax != 0 {
            hstates[defaultIdx].count = defaultMax
            hstates[defaultIdx].perNode = defaultPerNode
            defaultMax = 0
        }
    }

    /// x86's gigantic_pages_init (an arch_initcall: 1 GiB when the CPU has gbpages), then
    /// hugetlb_init(): make sure 2 MiB exists; without default_hugepagesz= it is the default
    /// and an implicit leading hugepages= overrides any explicit count for it. The order of
    /// registration is the order report_hugepages prints in.
    mutating func finish() {
        if gbpages { _ = addHstate(1 << 30) }
        let two = addHstate(2 << 20)
        if !parsedDefaultHugepagesz {
            defaultIdx = two
            if defaultMax != 0 {
                if hstates[two].count != 0 {
                    messages.append(
                        "HugeTLB: Ignoring hugepages=\(hstates[two].count) associated with 2.00 MiB page size")
                    messages.append("HugeTLB: Using hugepages=\(defaultMax) for number of default huge pages")
                }
                hstates[two].count = defaultMax
                hstates[two].perNode = defaultPerNode
            }
        }
    }
}
