import Foundation
import Scenario

/// The campaign's comparison (issue 15): a seed is *identical* when the model's log, line by
/// line, equals one of the kernel's accepted variants (every distinct output the real kernel
/// produced over its recorded runs). No tolerance: the kernel's own variation is what the
/// variants hold. Lines are observations without the kernel-only kinds (dmesg, kmsg, qmp_event,
/// ...), without timing, and without the few free-page counters that move with every page the
/// guest's own processes touch (zone `free`/`pcp`, the `hugepages` line's `MemFree`, a fill's
/// `pages`/`headroom`); the generator does not dump meminfo, buddyinfo, vmstat or pageflags.
public enum Campaign {
    /// Keys dropped from the compared lines, by kind (see the type's comment).
    public static let noise: [String: Set<String>] = [
        "zone": ["free", "pcp"],
        "hugepages": ["MemFree"],
        "fill": ["pages", "headroom"]
    ]

    /// The compared lines of an observation log.
    public static func lines(_ text: String) -> [String] {
        var out: [String] = []
        var guestKilled = false
        for e in ObservationLog.parse(text).log.entries {
            let o = e.observation
            if ConformanceRules.kernelOnlyKinds.contains(o.kind) { continue }
            var drop = ConformanceRules.volatileKeys
            if let n = noise[o.kind] { drop.formUnion(n) }
            // Once the OOM killer has killed the guest program, the exit status the log ends with
            // is a race inside the dying guest, not an observation of memory: init reports 137
            // (128 + SIGKILL) when it runs before the kernel's "System is deadlocked on memory"
            // panic, otherwise nobody does (-1). Seed 122's two runs on one kernel show both.
            if o.kind == "oom_kill" { guestKilled = true }
            if o.kind == "scenario_exit" && guestKilled { drop.insert("rc") }
            // Derived keys (the model's `err` text of a failed write) are no observation of the kernel's.
            for f in o.fields where ConformanceRules.classify(kind: o.kind, key: f.key) == .derived {
                drop.insert(f.key)
            }
            out.append(o.dropping(drop).line)
        }
        return out
    }

    /// Lines two sequences share, in order (longest common subsequence; logs are a few hundred
    /// lines, and the common prefix and suffix are taken off first).
    public static func commonLines(_ a: [String], _ b: [String]) -> Int {
        var lo = 0
        while lo < a.count && lo < b.count && a[lo] == b[lo] { lo += 1 }
        var hiA = a.count, hiB = b.count
        while hiA > lo && hiB > lo && a[hiA - 1] == b[hiB - 1] { hiA -= 1; hiB -= 1 }
        let x = Array(a[lo..<hiA]), y = Array(b[lo..<hiB])
        if x.isEmpty || y.isEmpty { return lo + (a.count - hiA) }
        var prev = [Int](repeating: 0, count: y.count + 1)
        var cur = prev
        for i in 1...x.count {
            for j in 1...y.count {
                cur[j] = x[i - 1] == y[j - 1] ? prev[j - 1] + 1 : max(prev[j], cur[j - 1])
            }
            swap(&prev, &cur)
        }
        return lo + (a.count - hiA) + prev[y.count]
    }

    /// A line-by-line diff (`-` kernel only, `+` model only), at most `limit` lines.
    public static func diff(kernel a: [String], model b: [String], limit: Int = 40) -> [String] {
        // Myers would be nicer; logs are short, so a table walk is fine.
        let n = a.count, m = b.count
        guard n * m <= 4_000_000 else { return ["(logs too long to diff: \(n) vs \(m) lines)"] }
        var t = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                t[i][j] = a[i] == b[j] ? t[i + 1][j + 1] + 1 : max(t[i + 1][j], t[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0, j = 0
        while (i < n || j < m) && out.count < limit {
            if i < n && j < m && a[i] == b[j] {
                i += 1; j += 1
            } else if j < m && (i == n || t[i][j + 1] >= t[i + 1][j]) {
                out.append("+ " + b[j]); j += 1
            } else {
                out.append("- " + a[i]); i += 1
            }
        }
        return out
    }

    /// One seed's result against its variants.
    public struct SeedResult: Sendable {
        public var seed: Int
        public var shape: String
        public var identical: Bool
        /// Kernel lines of the closest variant, and how many of them the model printed.
        public var kernelLines: Int
        public var matchedLines: Int
        /// The closest variant (0-based) and the diff against it.
        public var variant: Int
        public var diff: [String]
    }

    public static func compare(seed: Int, shape: String, model: String, variants: [String], limit: Int = 40)
        -> SeedResult
    {
        let m = lines(model)
        var best: SeedResult?
        for (i, v) in variants.enumerated() {
            let k = lines(v)
            if k == m {
                return SeedResult(
                    seed: seed, shape: shape, identical: true, kernelLines: k.count, matchedLines: k.count, variant: i,
                    diff: [])
            }
            let c = commonLines(k, m)
            if best == nil
                || Double(c) / Double(max(k.count, 1)) > Double(best!.matchedLines) / Double(max(best!.kernelLines, 1))
            {
                best = SeedResult(
                    seed: seed, shape: shape, identical: false, kernelLines: k.count, matchedLines: c, variant: i,
                    diff: [])
            }
        }
        guard var r = best else {
            return SeedResult(
                seed: seed, shape: shape, identical: false, kernelLines: 0, matchedLines: 0, variant: -1,
                diff: ["(no kernel variant)"])
        }
        r.diff = diff(kernel: lines(variants[r.variant]), model: m, limit: limit)
        return r
    }

    /// Campaign figures per shape: seeds recorded on the kernel, how many of them the model
    /// reproduces line for line, % of kernel lines the model printed.
    public static func table(_ results: [SeedResult]) -> String {
        var rows: [String: (n: Int, same: Int, k: Int, matched: Int)] = [:]
        var order: [String] = []
        for r in results {
            if rows[r.shape] == nil { order.append(r.shape); rows[r.shape] = (0, 0, 0, 0) }
            rows[r.shape]!.n += 1
            rows[r.shape]!.same += r.identical ? 1 : 0
            rows[r.shape]!.k += r.kernelLines
            rows[r.shape]!.matched += r.matchedLines
        }
        func pct(_ a: Int, _ b: Int) -> String {
            b == 0 ? "-" : String(format: "%.1f%%", 100.0 * Double(a) / Double(b))
        }
        var s = "| shape | seeds recorded | identical | lines |\n|---|---:|---:|---:|\n"
        var tot = (n: 0, same: 0, k: 0, matched: 0)
        for name in order {
            let v = rows[name]!
            s += "| \(name) | \(v.n) | \(v.same) (\(pct(v.same, v.n))) | \(pct(v.matched, v.k)) |\n"
            tot.n += v.n; tot.same += v.same; tot.k += v.k; tot.matched += v.matched
        }
        s += "| all | \(tot.n) | \(tot.same) (\(pct(tot.same, tot.n))) | \(pct(tot.matched, tot.k)) |\n"
        return s
    }

    // MARK: the directory

    /// `seed-0007`: the file stem of a seed.
    public static func stem(_ seed: Int) -> String { "seed-" + String(format: "%04d", seed) }

    /// The accepted variants' files of a seed: `seed-N.kernel.txt`, `seed-N.kernel.2.txt`, ...
    public static func variantPaths(dir: String, seed: Int) -> [String] {
        KernelVariants.paths(dir: dir, stem: stem(seed))
    }

    /// `RUNS`: one line per seed, `seed-N runs=R kernel=ABI guest=ID`: how many kernel runs the
    /// variants come from (record resumes from it), on which kernel and with which build of the
    /// guest runner (`GuestSource.fingerprint`: a runner whose own memory differs, e.g. one with a
    /// THP of its own, records different free counts). Lines without `guest=` predate it.
    public struct Runs: Sendable {
        public struct Entry: Sendable, Equatable {
            public var count: Int
            public var kernel: String
            public var guest: String?
            public init(count: Int, kernel: String, guest: String?) {
                self.count = count; self.kernel = kernel; self.guest = guest
            }
        }
        public var runs: [Int: Entry] = [:]
        public init() {}
        public static func parse(_ text: String) -> Runs {
            var r = Runs()
            for l in text.split(separator: "\n") where !l.hasPrefix("#") {
                let w = l.split(separator: " ")
                guard w.count >= 2, w[0].hasPrefix("seed-"), let s = Int(w[0].dropFirst(5)) else { continue }
                var e = Entry(count: 0, kernel: "", guest: nil)
                for f in w.dropFirst() {
                    if f.hasPrefix("runs="), let v = Int(f.dropFirst(5)) { e.count = v }
                    if f.hasPrefix("kernel=") { e.kernel = String(f.dropFirst(7)) }
                    if f.hasPrefix("guest=") { e.guest = String(f.dropFirst(6)) }
                }
                r.runs[s] = e
            }
            return r
        }
        public var text: String {
            "# campaign seeds recorded on the real kernel: seed-N runs=R kernel=ABI guest=ID (memhp campaign record)\n"
                + runs.keys.sorted().map { seed in
                    let e = runs[seed]!
                    return "\(stem(seed)) runs=\(e.count) kernel=\(e.kernel)" + (e.guest.map { " guest=\($0)" } ?? "")
                }.joined(separator: "\n") + "\n"
        }
    }

    /// The most seeds one list names (a campaign is a few hundred).
    public static let maxSeeds = 1_000_000

    /// `A..B` (inclusive) or `N` or `A,B,C` of seeds >= 0, at most `maxSeeds` of them; nil
    /// for anything else.
    public static func parseSeeds(_ s: String) -> [Int]? {
        var out: [Int] = []
        for part in s.split(separator: ",") {
            if let r = part.range(of: "..") {
                guard let a = Int(part[..<r.lowerBound]), let b = Int(part[r.upperBound...]), 0 <= a, a <= b,
                    b - a < maxSeeds - out.count
                else { return nil }
                out += Array(a...b)
            } else {
                guard let v = Int(part), v >= 0, out.count < maxSeeds else { return nil }
                out.append(v)
            }
        }
        return out.isEmpty ? nil : out
    }
}
