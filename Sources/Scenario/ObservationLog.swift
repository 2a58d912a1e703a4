/// A parsed observation log that remembers where each observation came from.
public struct ObservationLog: Sendable {
    public struct Entry: Sendable {
        public var line: Int
        public var observation: Observation
    }
    public var entries: [Entry]
    /// `end total_s=` of a kernel log (the real run's wall time), if present.
    public var totalSeconds: Double? {
        guard let e = entries.last(where: { $0.observation.kind == "end" }), let t = e.observation["total_s"] else {
            return nil
        }
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
