/// A proportion with its Wilson score interval (95%): honest at 0/n and n/n, where the
/// normal approximation collapses to a zero-width interval.
public struct Proportion: Sendable, Codable, Equatable {
    public var successes: Int
    public var trials: Int
    public var estimate: Double
    public var low: Double
    public var high: Double

    public init(_ successes: Int, of trials: Int, z: Double = 1.959964) {
        self.successes = successes
        self.trials = trials
        guard trials > 0 else { estimate = 0; low = 0; high = 1; return }
        let n = Double(trials), p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        estimate = p
        low = max(0, centre - half)
        high = min(1, centre + half)
    }
}

/// The aggregates of one study point: one row of points.csv.
public struct PointSummary: Sendable, Codable, Equatable {
    public var point: String
    public var poolPercent: Int
    public var pageSize: String
    public var hvo: Bool
    public var pressure: String
    public var online: String
    public var nodes: Int
    public var runs: Int
    /// Mean pool obtained (huge pages) and mean saving.
    public var poolPages: Double
    public var savedMiB: Double
    public var savedPercentOfRAM: Double
    /// Per block: offline attempts that succeeded (Wilson over all attempts of all runs).
    public var blockOffline: Proportion
    /// Per run: every hot-pluggable block went offline.
    public var allOffline: Proportion
    /// Attempts per outcome, in BlockOutcome.allCases order.
    public var outcomes: [String: Int]
    public var migratedMean: Double
    public var dissolvedMean: Double
    public var poolAfterMean: Double
}

public enum StudyAggregate {
    /// One summary per point that has runs, in grid order.
    public static func summarize(_ runs: [RunRecord], points: [StudyPoint], ramBytes: Int) -> [PointSummary] {
        var byPoint: [String: [RunRecord]] = [:]
        for r in runs { byPoint[r.point, default: []].append(r) }
        return points.compactMap { pt -> PointSummary? in
            guard let rs = byPoint[pt.id], !rs.isEmpty else { return nil }
            let n = Double(rs.count)
            let attempts = rs.flatMap(\.blocks)
            var outcomes: [String: Int] = [:]
            for o in BlockOutcome.allCases { outcomes[o.rawValue] = attempts.filter { $0.outcome == o }.count }
            let saved = Double(rs.map(\.savedKB).reduce(0, +)) / n
            return PointSummary(
                point: pt.id, poolPercent: pt.poolPercent, pageSize: pt.pageSize.rawValue, hvo: pt.hvo,
                pressure: pt.pressure.description, online: pt.online.description, nodes: pt.nodes, runs: rs.count,
                poolPages: Double(rs.map(\.poolPages).reduce(0, +)) / n,
                savedMiB: saved / 1024, savedPercentOfRAM: saved * 1024 / Double(ramBytes) * 100,
                blockOffline: Proportion(outcomes[BlockOutcome.offline.rawValue]!, of: attempts.count),
                allOffline: Proportion(rs.filter(\.allOffline).count, of: rs.count),
                outcomes: outcomes,
                migratedMean: Double(rs.map(\.migrated).reduce(0, +)) / n,
                dissolvedMean: Double(rs.map(\.dissolved).reduce(0, +)) / n,
                poolAfterMean: Double(rs.map(\.poolAfter).reduce(0, +)) / n)
        }
    }
}
