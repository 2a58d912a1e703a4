import Scenario

public enum ObservationDiff {
    /// Compares the model's observations against the kernel's. Kernel-only and model-only
    /// kinds are set aside; the rest is split at `step` lines and aligned within each step by
    /// kind and identity keys (longest common subsequence), then compared key by key.
    public static func diff(scenario: String, kernel: ObservationLog, model: ObservationLog, ranges: [RangeRule] = [])
        -> DiffReport
    {
        var r = DiffReport(scenario: scenario)
        r.kernelSeconds = kernel.totalSeconds
        if kernel.completed == false {
            r.warnings.append("the kernel run did not complete (end completed=0): the fixture is partial")
        }
        let k = kernel.entries.filter {
            !ConformanceRules.kernelOnlyKinds.contains($0.observation.kind)
                && !ConformanceRules.modelOnlyKinds.contains($0.observation.kind)
        }
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
            let pairs = align(
                a.map { ConformanceRules.alignmentKey($0.observation) },
                b.map { ConformanceRules.alignmentKey($0.observation) })
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
            if a[i] == b[j] {
                out.append((i, j)); i += 1; j += 1
            } else if dp[(i + 1) * w + j] >= dp[i * w + j + 1] {
                i += 1
            } else {
                j += 1
            }
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
        Difference(
            kind: .missing, step: step, kernelLine: e.line, modelLine: nil, subject: subject(e.observation), key: nil,
            kernelValue: nil, modelValue: nil, note: "")
    }
    static func extra(_ e: ObservationLog.Entry, step: Int) -> Difference {
        Difference(
            kind: .extra, step: step, kernelLine: nil, modelLine: e.line, subject: subject(e.observation), key: nil,
            kernelValue: nil, modelValue: nil, note: "")
    }

    static func compare(
        _ ke: ObservationLog.Entry, _ me: ObservationLog.Entry, step: Int, ranges: [RangeRule], into r: inout DiffReport
    ) {
        let ko = ke.observation, mo = me.observation
        r.compared += 1
        let rules = ranges.filter { $0.matches(ko, step: step) }
        var keys: [String] = ko.fields.map(\.key)
        for f in mo.fields where !keys.contains(f.key) { keys.append(f.key) }
        func diff(_ kind: Difference.Kind, _ key: String, _ kv: String?, _ mv: String?, _ note: String = "")
            -> Difference
        {
            Difference(
                kind: kind, step: step, kernelLine: ke.line, modelLine: me.line, subject: subject(ko), key: key,
                kernelValue: kv, modelValue: mv, note: note)
        }
        let firstDifference = r.differences.count
        defer { collapseImplied(&r.differences, from: firstDifference) }
        // A block (or pageflags block) one side shows as `state=absent`: one difference.
        if (ko["state"] == "absent") != (mo["state"] == "absent") {
            let n = Swift.max(1, keys.filter { isCompared(ko.kind, $0, rules) }.count)
            r.structuralChecked += n
            r.differences.append(
                diff(
                    .structural, "state", ko["state"], mo["state"],
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
            r.differences.append(
                diff(
                    .structural, all.joined(separator: "/"), show(ko, kernelOnly), show(mo, modelOnly),
                    "keys only one side has"))
            keys.removeAll { all.contains($0) }
        }
        for key in keys {
            let kv = ko[key], mv = mo[key]
            if let rule = rules.first(where: { $0.allowed(for: key) != nil }), let allowed = rule.allowed(for: key) {
                if case .any = allowed { continue }
                r.structuralChecked += 1
                if let kv, !allowed.accepts(kv) {
                    r.warnings.append(
                        "kernel line \(ke.line): \(key)=\(kv) is outside its own range \(allowed.text) (rule line \(rule.line))"
                    )
                }
                if let mv, allowed.accepts(mv) {
                    r.structuralAgreed += 1
                } else {
                    r.differences.append(diff(.range, key, kv, mv, "range \(allowed.text)"))
                }
                continue
            }
            var cls = ConformanceRules.classify(kind: ko.kind, key: key)
            if key == "value", ConformanceRules.isCounterRead(ko) || ConformanceRules.isDerivedTunable(ko) {
                cls = .counter(.pages)
            }
            switch cls {
            case .volatile, .identity:
                continue
            case .derived:
                guard let kv, let mv else { continue }
                r.structuralChecked += 1
                if kv == mv { r.structuralAgreed += 1 } else { r.differences.append(diff(.structural, key, kv, mv)) }
            case .structural:
                r.structuralChecked += 1
                if kv == mv {
                    r.structuralAgreed += 1
                } else {
                    r.differences.append(diff(.structural, key, kv, mv, kv == nil || mv == nil ? "key missing" : ""))
                }
            case .counter(let tol):
                r.countersChecked += 1
                guard let kv, let mv else { r.differences.append(diff(.counter, key, kv, mv, "key missing")); continue }
                if counterAgrees(kv, mv, tol) {
                    r.countersAgreed += 1
                } else {
                    r.differences.append(diff(.counter, key, kv, mv, "tolerance \(tol)"))
                }
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
            if let a = Int(x), let b = Int(y) {
                if !t.accepts(kernel: a, model: b) { return false }
            } else if x != y {
                return false
            }
        }
        return true
    }
}
