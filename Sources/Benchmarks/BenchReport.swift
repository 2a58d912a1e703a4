import Foundation

/// The results of one `memhp bench` run (`--json` writes it; `--compare` reads a saved one).
public struct BenchReport: Codable, Sendable {
    public var date: String
    public var host: String
    public var results: [BenchResult]
    public init(date: String, host: String, results: [BenchResult]) {
        self.date = date; self.host = host; self.results = results
    }

    /// The first figure no measured run can have (a time that is negative or not finite, a
    /// negative peak RSS), named by its place in the file; nil when every one is possible.
    public var impossibleFigure: String? {
        for (i, r) in results.enumerated() {
            for (j, s) in r.runs.enumerated() {
                let at = "results[\(i)].runs[\(j)]"
                if !(s.cpu.isFinite && s.cpu >= 0) { return "\(at).cpu is \(s.cpu)" }
                if !(s.wall.isFinite && s.wall >= 0) { return "\(at).wall is \(s.wall)" }
                if s.peakRSSKiB < 0 { return "\(at).peakRSSKiB is \(s.peakRSSKiB)" }
            }
        }
        return nil
    }
}

/// One benchmark over several runs: the median is the figure, the spread says how much to trust it.
public struct BenchResult: Codable, Sendable {
    public var name: String
    public var summary: String
    public var runs: [BenchSample]
    /// Why the case did not run (host too small, a model limit), or why it failed.
    public var skipped: String?
    public var failed: String?

    public init(name: String, summary: String, runs: [BenchSample] = [], skipped: String? = nil, failed: String? = nil)
    {
        self.name = name; self.summary = summary; self.runs = runs; self.skipped = skipped; self.failed = failed
    }

    public var medianCPU: Double { Stats.median(runs.map(\.cpu)) }
    public var medianWall: Double { Stats.median(runs.map(\.wall)) }
    /// (max - min) / median of the CPU times: 0 for one run.
    public var cpuSpread: Double { Stats.spread(runs.map(\.cpu)) }
    public var peakRSSKiB: Int { runs.map(\.peakRSSKiB).max() ?? 0 }
    public var figures: [String: Double] {
        var out: [String: Double] = [:]
        for key in Set(runs.flatMap(\.figures.keys)) { out[key] = Stats.median(runs.compactMap { $0.figures[key] }) }
        return out
    }
}

public enum Stats {
    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    public static func spread(_ xs: [Double]) -> Double {
        guard xs.count > 1, let lo = xs.min(), let hi = xs.max() else { return 0 }
        let m = median(xs)
        return m > 0 ? (hi - lo) / m : 0
    }
}

/// `memhp bench --compare BASELINE`: each benchmark's median against the baseline's, as a
/// ratio. A regression is a ratio beyond the noise: above 1 + the larger of `minTolerance`
/// and the two runs' spreads added, and above `floorSeconds` in absolute terms (timer noise).
public struct BenchComparison: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var baseCPU: Double, cpu: Double
        public var baseRSSKiB: Int, rssKiB: Int
        /// Allowed ratio before a slowdown counts.
        public var tolerance: Double
        public var timeRegressed: Bool
        public var rssRegressed: Bool
        public var cpuRatio: Double { baseCPU > 0 ? cpu / baseCPU : 1 }
        public var rssRatio: Double { baseRSSKiB > 0 ? Double(rssKiB) / Double(baseRSSKiB) : 1 }
    }
    public var rows: [Row] = []
    /// In the baseline, not measured now (or the reverse).
    public var missing: [String] = []
    public var regressions: [Row] { rows.filter { $0.timeRegressed || $0.rssRegressed } }

    public static let minTolerance = 0.15
    public static let rssTolerance = 0.10
    public static let floorSeconds = 0.002

    public init(baseline: BenchReport, current: BenchReport) {
        for r in current.results where r.skipped == nil && r.failed == nil && !r.runs.isEmpty {
            guard let b = baseline.results.first(where: { $0.name == r.name }), b.skipped == nil, b.failed == nil,
                !b.runs.isEmpty
            else {
                missing.append(r.name); continue
            }
            let tol = Swift.max(BenchComparison.minTolerance, b.cpuSpread + r.cpuSpread)
            let slower =
                r.medianCPU > b.medianCPU * (1 + tol) && r.medianCPU - b.medianCPU > BenchComparison.floorSeconds
            let fatter =
                Double(r.peakRSSKiB) > Double(b.peakRSSKiB) * (1 + BenchComparison.rssTolerance)
                && r.peakRSSKiB - b.peakRSSKiB > 8192
            rows.append(
                Row(
                    name: r.name, baseCPU: b.medianCPU, cpu: r.medianCPU, baseRSSKiB: b.peakRSSKiB,
                    rssKiB: r.peakRSSKiB,
                    tolerance: 1 + tol, timeRegressed: slower, rssRegressed: fatter))
        }
        for b in baseline.results
        where !current.results.contains(where: { $0.name == b.name && !$0.runs.isEmpty }) && !b.runs.isEmpty {
            missing.append(b.name)
        }
    }
}
