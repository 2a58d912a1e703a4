/// How the conformance results are printed: percentages, ratios and the README table.
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
            s +=
                "| \(r.scenario) | \(r.compared) | \(ratio(r.structuralAgreed, r.structuralChecked)) | \(ratio(r.countersAgreed, r.countersChecked)) | \(st.rawValue) |\n"
        }
        return s
    }
}
