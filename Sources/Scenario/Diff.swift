/// Diffing a model observation log against a real-kernel fixture.
///
/// Every key of every kind is classified (docs/conformance.md has the table and the reasons):
/// *structural* keys (block states, valid_zones, errnos, hugepage counters, zone spans) must be
/// equal; *counters* (free pages, watermarks, MemFree, ...) must agree within a tolerance;
/// *volatile* keys (timings, per-cpu list counts) are ignored. A fixture may widen what it
/// accepts for values that vary on the real kernel itself with `range` rules.

// MARK: - Classification

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

/// `|model − kernel| ≤ max(relative × |kernel|, absolute)`.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    public var relative: Double
    public var absolute: Int
    public init(relative: Double, absolute: Int) { self.relative = relative; self.absolute = absolute }

    public func accepts(kernel: Int, model: Int) -> Bool {
        let d = kernel > model ? kernel - model : model - kernel
        let rel = relative * Double(kernel < 0 ? -kernel : kernel)
        return Double(d) <= rel || d <= absolute
    }

    public var description: String { "±max(\(ConformanceFormat.percent(relative)), \(absolute))" }

    /// Page and kB counters that follow the model's allocator: free pages, watermarks, managed.
    public static let pages = Tolerance(relative: 0.01, absolute: 16)
    /// MemTotal, MemFree, MemAvailable (kB).
    public static let meminfoKB = Tolerance(relative: 0.01, absolute: 1024)
    /// What the guest's own processes and the kernel's caches hold (Cached, Slab, AnonPages, ...
    /// in kB): the model books them once at boot, the guest's activity moves them a little.
    public static let kernelNoiseKB = Tolerance(relative: 0.01, absolute: 4096)
    /// vmstat event counts (allocstall, pgsteal, compaction, migration).
    public static let events = Tolerance(relative: 0.01, absolute: 64)
    /// Free-block counts per order in buddyinfo: the low orders churn with every allocation.
    public static let buddyOrders = Tolerance(relative: 0.01, absolute: 32)
    /// Per-block page kinds from kpageflags (pages of one 128 MiB block).
    public static let blockPages = Tolerance(relative: 0.01, absolute: 256)
    /// `fill` headroom: the filler stops within its last chunk of the margin.
    public static let headroom = Tolerance(relative: 0, absolute: 64)
}

/// The rules: which kinds are compared and how each key is.
public enum ConformanceRules {
    /// Kinds only the kernel runner writes (or whose content is the kernel's own words); never compared.
    public static let kernelOnlyKinds: Set<String> = ["guest", "dmesg", "kmsg", "insmod", "qmp_event", "stage", "end", "dyndbg", "kpf", "kpf_end"]
    /// Kinds only the model writes: a step it cannot perform yet.
    public static let modelOnlyKinds: Set<String> = ["unsupported"]
    /// Timing keys, volatile wherever they appear.
    public static let volatileKeys: Set<String> = ["elapsed_cs", "elapsed_s", "boot_s", "total_s", "build_s"]

    /// Keys that name an observation, by kind. Kinds not listed align by position.
    public static let identityKeys: [String: [String]] = [
        "step": ["n"],
        "write": ["path", "value"],
        "read": ["path"],
        "hotplug": ["action", "id"],
        "hold": ["id"], "release": ["id"], "fill": ["id"],
        "block": ["idx"],
        "zone": ["node", "zone"], "buddy": ["node", "zone"],
        "hstate": ["size_kB"], "hstate_node": ["node", "size_kB"],
        "pageflags": ["block"],
        "param": ["path"],
    ]

    /// Paths whose `read` value is a table of counters, compared token by token.
    static let counterReadPaths = ["/proc/meminfo", "/proc/zoneinfo", "/proc/vmstat", "/proc/buddyinfo", "/proc/pagetypeinfo"]

    static let meminfoBig: Set<String> = ["MemTotal", "MemFree", "MemAvailable"]
    static let meminfoNoise: Set<String> = ["Buffers", "Cached", "Unevictable", "AnonPages", "Shmem", "Slab", "SReclaimable",
                                             "SUnreclaim", "KernelStack", "PageTables"]

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
            return .structural   // HugePages_*, Hugepagesize, Hugetlb
        case "hugepages":
            return key == "MemFree" || key == "MemTotal" ? .counter(.meminfoKB) : .structural
        case "zone":
            switch key {
            case "pcp": return .volatile
            case "free", "min", "low", "high", "managed", "protection": return .counter(.pages)
            default: return .structural   // spanned, present, start_pfn
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

    /// Whether a `read`'s value is compared as counters (token by token) rather than exactly.
    static func isCounterRead(_ o: Observation) -> Bool {
        guard o.kind == "read", let p = o["path"] else { return false }
        return counterReadPaths.contains(p)
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

// MARK: - Ranges

/// A fixture's statement that a value varies on the real kernel itself: on observations
/// matching `selector` (and `step`, when given), `key` may take any value in `allowed`.
/// Written `range KIND [KEY=VALUE...] [step=N] : KEY=ALLOWED... [# reason]` in
/// `tests/conformance/NAME.ranges`, or as a `# range ...` comment in `NAME.kernel.txt`.
public struct RangeRule: Sendable, Equatable {
    public enum Allowed: Sendable, Equatable {
        /// `LO..HI` (inclusive).
        case numeric(Int, Int)
        /// `a|b|c`.
        case oneOf([String])
        /// `*`: not compared.
        case any

        public func accepts(_ v: String) -> Bool {
            switch self {
            case .any: return true
            case .oneOf(let vs): return vs.contains(v)
            case .numeric(let lo, let hi):
                guard let n = Int(v) else { return false }
                return n >= lo && n <= hi
            }
        }
        public var text: String {
            switch self {
            case .any: return "*"
            case .oneOf(let vs): return vs.joined(separator: "|")
            case .numeric(let lo, let hi): return "\(lo)..\(hi)"
            }
        }
    }

    public var kind: String
    public var selector: [Observation.Field]
    public var step: Int?
    public var constraints: [(key: String, allowed: Allowed)]
    public var reason: String
    public var line: Int

    public static func == (a: RangeRule, b: RangeRule) -> Bool {
        a.kind == b.kind && a.selector == b.selector && a.step == b.step && a.reason == b.reason && a.line == b.line
            && a.constraints.map(\.key) == b.constraints.map(\.key) && a.constraints.map(\.allowed) == b.constraints.map(\.allowed)
    }

    public func matches(_ o: Observation, step s: Int) -> Bool {
        guard o.kind == kind else { return false }
        if let step, step != s { return false }
        return selector.allSatisfy { o[$0.key] == $0.value }
    }

    public func allowed(for key: String) -> Allowed? { constraints.first(where: { $0.key == key })?.allowed }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses `KIND [K=V...] [step=N] : K=ALLOWED... [# reason]` (without the leading `range`).
    public static func parse(_ body: String, line: Int) throws -> RangeRule {
        var text = body
        var reason = ""
        if let hash = Self.commentStart(text) {
            reason = String(text[text.index(after: hash)...]).trimmed()
            text = String(text[..<hash])
        }
        guard let colon = Self.separator(text) else {
            throw ParseError(line: line, message: "expected `range KIND [KEY=VALUE...] : KEY=LO..HI|a|b|*...`, found no `:`")
        }
        let head = String(text[..<colon]).trimmed(), tail = String(text[text.index(after: colon)...]).trimmed()
        let kind = String(head.prefix(while: { $0 != " " }))
        guard !kind.isEmpty else { throw ParseError(line: line, message: "expected an observation kind after `range`") }
        var rule = RangeRule(kind: kind, selector: [], step: nil, constraints: [], reason: reason, line: line)
        for tok in try words(String(head.dropFirst(kind.count)), line: line) {
            let (k, alts) = try field(tok, line: line)
            guard alts.count == 1 else { throw ParseError(line: line, message: "expected one value for `\(k)=` before `:`") }
            if k == "step" {
                guard let n = Int(alts[0].text) else { throw ParseError(line: line, message: "expected `step=N`, got `step=\(alts[0].text)`") }
                rule.step = n
            } else {
                rule.selector.append(Observation.Field(k, alts[0].text))
            }
        }
        for tok in try words(tail, line: line) {
            let (k, alts) = try field(tok, line: line)
            if alts.count == 1, !alts[0].quoted, alts[0].text == "*" {
                rule.constraints.append((k, .any)); continue
            }
            if alts.count == 1, !alts[0].quoted {
                let parts = alts[0].text.split(separator: ".", omittingEmptySubsequences: false)
                if parts.count == 3, parts[1].isEmpty {
                    guard let lo = Int(parts[0]), let hi = Int(parts[2]), lo <= hi else {
                        throw ParseError(line: line, message: "expected `LO..HI` with LO <= HI, got `\(alts[0].text)`")
                    }
                    rule.constraints.append((k, .numeric(lo, hi))); continue
                }
            }
            rule.constraints.append((k, .oneOf(alts.map(\.text))))
        }
        guard !rule.constraints.isEmpty else {
            throw ParseError(line: line, message: "expected at least one KEY=ALLOWED after `:`")
        }
        return rule
    }

    /// Blank-separated words; blanks inside `"..."` do not separate.
    static func words(_ s: String, line: Int) throws -> [String] {
        var out: [String] = []
        var cur = ""
        var inQuote = false
        var escaped = false
        for c in s {
            if escaped { cur.append(c); escaped = false; continue }
            if c == "\\" && inQuote { cur.append(c); escaped = true; continue }
            if c == "\"" { inQuote.toggle() }
            if (c == " " || c == "\t") && !inQuote {
                if !cur.isEmpty { out.append(cur); cur = "" }
                continue
            }
            cur.append(c)
        }
        guard !inQuote else { throw ParseError(line: line, message: "unterminated \" quote") }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// `KEY=ALT|ALT...`; each alternative bare or `"quoted"` (with `\"` and `\\`).
    static func field(_ tok: String, line: Int) throws -> (String, [(text: String, quoted: Bool)]) {
        guard let eq = tok.firstIndex(of: "="), eq != tok.startIndex else {
            throw ParseError(line: line, message: "expected KEY=VALUE, got `\(tok)`")
        }
        let key = String(tok[..<eq])
        var alts: [(text: String, quoted: Bool)] = []
        var cur = "", quoted = false, inQuote = false, escaped = false
        for c in tok[tok.index(after: eq)...] {
            if escaped { cur.append(c); escaped = false; continue }
            if inQuote {
                if c == "\\" { escaped = true } else if c == "\"" { inQuote = false } else { cur.append(c) }
                continue
            }
            if c == "\"" { inQuote = true; quoted = true; continue }
            if c == "|" { alts.append((cur, quoted)); cur = ""; quoted = false; continue }
            cur.append(c)
        }
        alts.append((cur, quoted))
        return (key, alts)
    }
    /// The `:` between selector and constraints: outside quotes, preferably with blanks around it.
    static func separator(_ s: String) -> String.Index? {
        var inQuote = false
        var prev: Character = " "
        var first: String.Index?
        for i in s.indices {
            let c = s[i]
            if c == "\"" && prev != "\\" { inQuote.toggle() }
            if c == ":" && !inQuote {
                let next = s.index(after: i)
                if prev == " " && (next == s.endIndex || s[next] == " ") { return i }
                if first == nil { first = i }
            }
            prev = c
        }
        return first
    }

    /// A `#` outside quotes.
    static func commentStart(_ s: String) -> String.Index? {
        var inQuote = false
        var prev: Character = " "
        for i in s.indices {
            let c = s[i]
            if c == "\"" && prev != "\\" { inQuote.toggle() }
            if c == "#" && !inQuote { return i }
            prev = c
        }
        return nil
    }

    /// Every `range` rule of a `.ranges` file (`range ...` lines; `#` comments and blank lines skipped).
    public static func parseFile(_ text: String) throws -> [RangeRule] {
        var out: [RangeRule] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = String(raw).trimmed()
            if l.isEmpty || l.hasPrefix("#") { continue }
            guard l.hasPrefix("range ") else {
                throw ParseError(line: i + 1, message: "expected `range KIND ... : KEY=ALLOWED`, got `\(l)`")
            }
            out.append(try parse(String(l.dropFirst(6)), line: i + 1))
        }
        return out
    }

    /// The `# range ...` comments embedded in a fixture.
    public static func parseEmbedded(_ text: String) throws -> [RangeRule] {
        var out: [RangeRule] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where raw.hasPrefix("# range ") {
            out.append(try parse(String(raw.dropFirst(8)), line: i + 1))
        }
        return out
    }
}

// MARK: - Logs with line numbers

/// A parsed observation log that remembers where each observation came from.
public struct ObservationLog: Sendable {
    public struct Entry: Sendable {
        public var line: Int
        public var observation: Observation
    }
    public var entries: [Entry]
    /// `end total_s=` of a kernel log (the real run's wall time), if present.
    public var totalSeconds: Double? {
        guard let e = entries.last(where: { $0.observation.kind == "end" }), let t = e.observation["total_s"] else { return nil }
        return Double(t)
    }
    /// `end completed=1`.
    public var completed: Bool? {
        entries.last(where: { $0.observation.kind == "end" })?.observation["completed"].map { $0 == "1" }
    }

    public init(entries: [Entry]) { self.entries = entries }

    /// Parses a log; lines that do not parse are skipped and returned in `bad`.
    public static func parse(_ text: String) -> (log: ObservationLog, bad: [Int]) {
        var entries: [Entry] = []
        var bad: [Int] = []
        for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do {
                if let o = try Observation.parse(String(l)) { entries.append(Entry(line: i + 1, observation: o)) }
            } catch {
                bad.append(i + 1)
            }
        }
        return (ObservationLog(entries: entries), bad)
    }
}

// MARK: - The diff

/// One disagreement between the kernel's log and the model's.
public struct Difference: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The kernel printed it, the model did not.
        case missing
        /// The model printed it, the kernel did not.
        case extra
        /// A structural key differs.
        case structural
        /// A counter is outside its tolerance.
        case counter
        /// A value is outside the fixture's `range`.
        case range
    }
    public var kind: Kind
    /// The `step n=` the observation belongs to (0 = before the first step).
    public var step: Int
    public var kernelLine: Int?
    public var modelLine: Int?
    /// `kind identity...` of the observation.
    public var subject: String
    public var key: String?
    public var kernelValue: String?
    public var modelValue: String?
    public var note: String

    public var description: String {
        let at = "step \(step)" + (kernelLine.map { ", kernel line \($0)" } ?? "") + (modelLine.map { ", model line \($0)" } ?? "")
        switch kind {
        case .missing: return "missing in model: \(subject) (\(at))"
        case .extra: return "extra in model: \(subject) (\(at))"
        default:
            return "\(kind.rawValue) \(subject) \(key ?? ""): kernel \(kernelValue ?? "-") model \(modelValue ?? "-")"
                + (note.isEmpty ? "" : " [\(note)]") + " (\(at))"
        }
    }
}

/// The comparison of one scenario.
public struct DiffReport: Sendable {
    public var scenario: String
    /// Observations present in both logs and compared key by key.
    public var compared = 0
    public var kernelObservations = 0
    public var modelObservations = 0
    public var structuralChecked = 0
    public var structuralAgreed = 0
    public var countersChecked = 0
    public var countersAgreed = 0
    public var differences: [Difference] = []
    /// Model `unsupported` lines (steps whose API does not exist yet).
    public var unsupported: [String] = []
    /// Problems with the fixture itself (its own value outside its range, an incomplete run).
    public var warnings: [String] = []
    /// The real run's `end total_s=`.
    public var kernelSeconds: Double?

    public init(scenario: String) { self.scenario = scenario }

    public var passed: Bool { differences.isEmpty }

    /// Per-scenario text: a header line, the differences (at most `limit`), warnings.
    public func render(limit: Int = 40) -> String {
        var s = "\(scenario): \(passed ? "PASS" : "FAIL") — \(compared) observations compared, structural \(ConformanceFormat.ratio(structuralAgreed, structuralChecked)), counters \(ConformanceFormat.ratio(countersAgreed, countersChecked))\n"
        for d in differences.prefix(limit) { s += "  \(d)\n" }
        if differences.count > limit { s += "  ... \(differences.count - limit) more differences\n" }
        for u in unsupported { s += "  unsupported in model: \(u)\n" }
        for w in warnings { s += "  warning: \(w)\n" }
        return s
    }
}

public enum ObservationDiff {
    /// Compares the model's observations against the kernel's. Kernel-only and model-only
    /// kinds are set aside; the rest is split at `step` lines and aligned within each step by
    /// kind and identity keys (longest common subsequence), then compared key by key.
    public static func diff(scenario: String, kernel: ObservationLog, model: ObservationLog, ranges: [RangeRule] = []) -> DiffReport {
        var r = DiffReport(scenario: scenario)
        r.kernelSeconds = kernel.totalSeconds
        if kernel.completed == false { r.warnings.append("the kernel run did not complete (end completed=0): the fixture is partial") }
        let k = kernel.entries.filter { !ConformanceRules.kernelOnlyKinds.contains($0.observation.kind) && !ConformanceRules.modelOnlyKinds.contains($0.observation.kind) }
        var m: [ObservationLog.Entry] = []
        for e in model.entries {
            if ConformanceRules.modelOnlyKinds.contains(e.observation.kind) {
                r.unsupported.append(e.observation["step"] ?? e.observation.line)
            } else if !ConformanceRules.kernelOnlyKinds.contains(e.observation.kind) {
                m.append(e)
            }
        }
        r.kernelObservations = k.count
        r.modelObservations = m.count
        let ks = segments(k), ms = segments(m)
        let steps = Set(ks.keys).union(ms.keys).sorted()
        for s in steps {
            let a = ks[s] ?? [], b = ms[s] ?? []
            let pairs = align(a.map { ConformanceRules.alignmentKey($0.observation) }, b.map { ConformanceRules.alignmentKey($0.observation) })
            var ia = 0, ib = 0
            for (pa, pb) in pairs + [(a.count, b.count)] {
                while ia < pa { r.differences.append(missing(a[ia], step: s)); r.structuralChecked += 1; ia += 1 }
                while ib < pb { r.differences.append(extra(b[ib], step: s)); r.structuralChecked += 1; ib += 1 }
                if pa < a.count && pb < b.count {
                    compare(a[pa], b[pb], step: s, ranges: ranges, into: &r)
                    ia = pa + 1; ib = pb + 1
                }
            }
        }
        return r
    }

    /// Entries grouped by the `step n=` they follow (0 before the first).
    static func segments(_ es: [ObservationLog.Entry]) -> [Int: [ObservationLog.Entry]] {
        var d: [Int: [ObservationLog.Entry]] = [:]
        var cur = 0
        for e in es {
            if e.observation.kind == "step", let n = Int(e.observation["n"] ?? "") { cur = n }
            d[cur, default: []].append(e)
        }
        return d
    }

    /// Index pairs of a longest common subsequence of `a` and `b` (deterministic ties: prefer
    /// skipping in `b`, so a missing kernel line is reported before an extra model line).
    static func align(_ a: [String], _ b: [String]) -> [(Int, Int)] {
        let n = a.count, mm = b.count
        if n == 0 || mm == 0 { return [] }
        // Fast path: identical key sequences.
        if a == b { return (0..<n).map { ($0, $0) } }
        var dp = [Int32](repeating: 0, count: (n + 1) * (mm + 1))
        let w = mm + 1
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: mm - 1, through: 0, by: -1) {
                dp[i * w + j] = a[i] == b[j] ? dp[(i + 1) * w + j + 1] + 1 : max(dp[(i + 1) * w + j], dp[i * w + j + 1])
            }
        }
        var out: [(Int, Int)] = []
        var i = 0, j = 0
        while i < n && j < mm {
            if a[i] == b[j] { out.append((i, j)); i += 1; j += 1 } else if dp[(i + 1) * w + j] >= dp[i * w + j + 1] { i += 1 } else { j += 1 }
        }
        return out
    }

    static func subject(_ o: Observation) -> String {
        var s = o.kind
        for k in ConformanceRules.identityKeys[o.kind] ?? [] {
            if let v = o[k] { s += " \(k)=\(Observation.needsQuotes(v) ? "\"" + Observation.escape(v) + "\"" : v)" }
        }
        return s
    }

    static func missing(_ e: ObservationLog.Entry, step: Int) -> Difference {
        Difference(kind: .missing, step: step, kernelLine: e.line, modelLine: nil, subject: subject(e.observation), key: nil,
                   kernelValue: nil, modelValue: nil, note: "")
    }
    static func extra(_ e: ObservationLog.Entry, step: Int) -> Difference {
        Difference(kind: .extra, step: step, kernelLine: nil, modelLine: e.line, subject: subject(e.observation), key: nil,
                   kernelValue: nil, modelValue: nil, note: "")
    }

    static func compare(_ ke: ObservationLog.Entry, _ me: ObservationLog.Entry, step: Int, ranges: [RangeRule], into r: inout DiffReport) {
        let ko = ke.observation, mo = me.observation
        r.compared += 1
        let rules = ranges.filter { $0.matches(ko, step: step) }
        var keys: [String] = ko.fields.map(\.key)
        for f in mo.fields where !keys.contains(f.key) { keys.append(f.key) }
        func diff(_ kind: Difference.Kind, _ key: String, _ kv: String?, _ mv: String?, _ note: String = "") -> Difference {
            Difference(kind: kind, step: step, kernelLine: ke.line, modelLine: me.line, subject: subject(ko), key: key,
                       kernelValue: kv, modelValue: mv, note: note)
        }
        let firstDifference = r.differences.count
        defer { collapseImplied(&r.differences, from: firstDifference) }
        // A block (or pageflags block) one side shows as `state=absent`: one difference.
        if (ko["state"] == "absent") != (mo["state"] == "absent") {
            let n = Swift.max(1, keys.filter { isCompared(ko.kind, $0, rules) }.count)
            r.structuralChecked += n
            r.differences.append(diff(.structural, "state", ko["state"], mo["state"],
                                      ko["state"] == "absent" ? "absent on the kernel" : "absent in the model"))
            return
        }
        // Keys only one side has (`value=` against `errno=` of a read): one difference naming
        // them all, each key counted as checked.
        let kernelOnly = keys.filter { mo[$0] == nil && ko[$0] != nil && isCompared(ko.kind, $0, rules) }
        let modelOnly = keys.filter { ko[$0] == nil && mo[$0] != nil && isCompared(ko.kind, $0, rules) }
        if !kernelOnly.isEmpty || !modelOnly.isEmpty {
            let all = kernelOnly + modelOnly
            r.structuralChecked += all.count
            func show(_ o: Observation, _ ks: [String]) -> String? {
                ks.isEmpty ? nil : ks.map { "\($0)=\(o[$0]!)" }.joined(separator: " ")
            }
            r.differences.append(diff(.structural, all.joined(separator: "/"), show(ko, kernelOnly), show(mo, modelOnly),
                                      "keys only one side has"))
            keys.removeAll { all.contains($0) }
        }
        for key in keys {
            let kv = ko[key], mv = mo[key]
            if let rule = rules.first(where: { $0.allowed(for: key) != nil }), let allowed = rule.allowed(for: key) {
                if case .any = allowed { continue }
                r.structuralChecked += 1
                if let kv, !allowed.accepts(kv) {
                    r.warnings.append("kernel line \(ke.line): \(key)=\(kv) is outside its own range \(allowed.text) (rule line \(rule.line))")
                }
                if let mv, allowed.accepts(mv) { r.structuralAgreed += 1 } else {
                    r.differences.append(diff(.range, key, kv, mv, "range \(allowed.text)"))
                }
                continue
            }
            var cls = ConformanceRules.classify(kind: ko.kind, key: key)
            if key == "value", ConformanceRules.isCounterRead(ko) || ConformanceRules.isDerivedTunable(ko) { cls = .counter(.pages) }
            switch cls {
            case .volatile, .identity:
                continue
            case .derived:
                guard let kv, let mv else { continue }
                r.structuralChecked += 1
                if kv == mv { r.structuralAgreed += 1 } else { r.differences.append(diff(.structural, key, kv, mv)) }
            case .structural:
                r.structuralChecked += 1
                if kv == mv { r.structuralAgreed += 1 } else { r.differences.append(diff(.structural, key, kv, mv, kv == nil || mv == nil ? "key missing" : "")) }
            case .counter(let tol):
                r.countersChecked += 1
                guard let kv, let mv else { r.differences.append(diff(.counter, key, kv, mv, "key missing")); continue }
                if counterAgrees(kv, mv, tol) { r.countersAgreed += 1 } else { r.differences.append(diff(.counter, key, kv, mv, "tolerance \(tol)")) }
            }
        }
    }

    /// `rc` restates `errno` (0 exactly when errno is 0): when both differ, only errno is listed.
    static func collapseImplied(_ ds: inout [Difference], from start: Int) {
        guard ds.count - start >= 2, ds[start...].contains(where: { $0.key == "errno" }) else { return }
        if let i = ds[start...].firstIndex(where: { $0.key == "rc" }) { ds.remove(at: i) }
    }

    /// Whether a key one log lacks counts against the model (volatile and derived keys do not).
    static func isCompared(_ kind: String, _ key: String, _ rules: [RangeRule]) -> Bool {
        if let a = rules.lazy.compactMap({ $0.allowed(for: key) }).first, case .any = a { return false }
        switch ConformanceRules.classify(kind: kind, key: key) {
        case .volatile, .derived, .identity: return false
        default: return true
        }
    }

    /// Numbers within the tolerance; comma- or blank-separated lists element by element (other
    /// tokens must be equal); anything else must be equal.
    static func counterAgrees(_ k: String, _ m: String, _ t: Tolerance) -> Bool {
        if k == m { return true }
        if let a = Int(k), let b = Int(m) { return t.accepts(kernel: a, model: b) }
        let sep: (Character) -> Bool = { $0 == "," || $0 == " " || $0 == "\n" || $0 == "\t" }
        let ka = k.split(whereSeparator: sep), ma = m.split(whereSeparator: sep)
        guard ka.count == ma.count, ka.count > 1 else { return false }
        for (x, y) in zip(ka, ma) {
            if let a = Int(x), let b = Int(y) { if !t.accepts(kernel: a, model: b) { return false } } else if x != y { return false }
        }
        return true
    }
}

// MARK: - Expected failures

/// `tests/conformance/EXPECTED-FAILURES`: scenarios the model does not pass yet, one per line,
/// `NAME  reason...`, `#` comments. An expected failure that passes must be taken off the list.
public struct ExpectedFailures: Sendable {
    public var reasons: [String: String]
    public init(reasons: [String: String] = [:]) { self.reasons = reasons }

    public static func parse(_ text: String) -> ExpectedFailures {
        var d: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            let l = String(raw).trimmed()
            if l.isEmpty || l.hasPrefix("#") { continue }
            let name = String(l.prefix(while: { $0 != " " && $0 != "\t" }))
            d[name] = String(l.dropFirst(name.count)).trimmed()
        }
        return ExpectedFailures(reasons: d)
    }

    public func reason(_ scenario: String) -> String? { reasons[scenario] }
}

/// The verdict on one scenario, given the expected-failures list.
public enum ConformanceStatus: String, Sendable {
    case pass, fail
    /// Fails, and EXPECTED-FAILURES says so.
    case expectedFailure = "expected-fail"
    /// Listed in EXPECTED-FAILURES but passes: the list must be updated.
    case unexpectedPass = "unexpected-pass"

    public init(passed: Bool, expected: Bool) {
        switch (passed, expected) {
        case (true, false): self = .pass
        case (false, false): self = .fail
        case (false, true): self = .expectedFailure
        case (true, true): self = .unexpectedPass
        }
    }
    /// Whether the suite is healthy with this result.
    public var ok: Bool { self == .pass || self == .expectedFailure }
}

// MARK: - Summary

public enum ConformanceFormat {
    /// `97.5%` (one decimal, no Foundation).
    public static func percent(_ x: Double) -> String {
        let t = Int((x * 1000).rounded())
        return "\(t / 10).\(t % 10)%"
    }
    /// `118/120 (98.3%)`, or `-` when nothing was checked.
    public static func ratio(_ a: Int, _ b: Int) -> String {
        b == 0 ? "-" : "\(a)/\(b) (\(percent(Double(a) / Double(b))))"
    }

    /// The README table: scenario, observations compared, structural agreement, counter agreement, status.
    public static func markdownTable(_ rows: [(report: DiffReport, status: ConformanceStatus)]) -> String {
        var s = "| scenario | observations compared | structural agreement | counter agreement | status |\n"
        s += "|---|---:|---:|---:|---|\n"
        for (r, st) in rows {
            s += "| \(r.scenario) | \(r.compared) | \(ratio(r.structuralAgreed, r.structuralChecked)) | \(ratio(r.countersAgreed, r.countersChecked)) | \(st.rawValue) |\n"
        }
        return s
    }
}

extension String {
    fileprivate func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
