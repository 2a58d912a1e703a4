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
