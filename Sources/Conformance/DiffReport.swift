import Scenario

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
        let at =
            "step \(step)" + (kernelLine.map { ", kernel line \($0)" } ?? "")
            + (modelLine.map { ", model line \($0)" } ?? "")
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
    /// Which of the scenario's recorded kernel outputs this diff is against (1 = the fixture
    /// `NAME.kernel.txt`, N = `NAME.kernel.N.txt`), and how many there are (`KernelVariants`).
    public var variant = 1, variants = 1

    public init(scenario: String) { self.scenario = scenario }

    public var passed: Bool { differences.isEmpty }

    /// Per-scenario text: a header line, the differences (at most `limit`), warnings. With a
    /// `status`, a listed failure reads `expected-fail`, not `FAIL`.
    public func render(limit: Int = 40, status: ConformanceStatus? = nil) -> String {
        let verdict =
            switch status {
            case .expectedFailure?: "expected-fail"
            case .unexpectedPass?: "UNEXPECTED PASS"
            default: passed ? "PASS" : "FAIL"
            }
        var s =
            "\(scenario): \(verdict) — \(compared) observations compared, structural \(ConformanceFormat.ratio(structuralAgreed, structuralChecked)), counters \(ConformanceFormat.ratio(countersAgreed, countersChecked))"
        if variants > 1 { s += " (against kernel run \(variant) of \(variants))" }
        s += "\n"
        for d in differences.prefix(limit) { s += "  \(d)\n" }
        if differences.count > limit { s += "  ... \(differences.count - limit) more differences\n" }
        for u in unsupported { s += "  unsupported in model: \(u)\n" }
        for w in warnings { s += "  warning: \(w)\n" }
        return s
    }
}
