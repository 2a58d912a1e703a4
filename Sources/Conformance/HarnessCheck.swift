import Scenario

/// The kernel that wrote an observation log: its `# kernel: ABI PACKAGE VERSION` header
/// (`# kernel: 6.1.0-56-amd64 linux-image-6.1.0-56-amd64 6.1.192-2`).
public struct KernelIdentity: Sendable, Equatable, CustomStringConvertible {
    /// Debian's kernel ABI name, `uname -r`: `6.1.0-56-amd64`.
    public var abi: String
    public var package: String
    /// The Debian package version: `6.1.192-2`.
    public var debVersion: String

    public init(abi: String, package: String, debVersion: String) {
        self.abi = abi; self.package = package; self.debVersion = debVersion
    }

    /// The header of `log` (the first `# kernel:` line), or nil when the log names no kernel.
    public init?(log: String) {
        for l in log.split(separator: "\n", omittingEmptySubsequences: false).prefix(40) where l.hasPrefix("# kernel: ")
        {
            let w = l.dropFirst(10).split(separator: " ")
            guard w.count == 3 else { return nil }
            self.init(abi: String(w[0]), package: String(w[1]), debVersion: String(w[2]))
            return
        }
        return nil
    }

    /// The upstream series, `6.1` of `6.1.0-56-amd64`: what the model and the fixtures describe.
    public var series: String { abi.split(separator: ".").prefix(2).joined(separator: ".") }

    /// `6.1.0-56-amd64 (6.1.192-2)`.
    public var description: String { "\(abi) (\(debVersion))" }
}

/// `memhp conformance --harness-check`: a fresh kernel run diffed against the committed fixture
/// proves the kernel runner and its guest still work, and the verdict names both kernels.
///
/// The rule: the same build as the fixture's must agree. Another Debian build of the same
/// series (6.1.0-57 against fixtures of 6.1.0-56: Debian's stable updates) passes when it
/// agrees, with a notice that says so and asks for the fixtures to be re-recorded, since the
/// check then proves the harness but not that the fixtures are still the kernel's answer; when it
/// differs it fails, and the message says the differences may be the kernel's. Another series
/// (or a log that names no kernel) fails: the fixtures are not that kernel's.
public enum HarnessCheck {
    public enum KernelMatch: Sendable, Equatable {
        case sameBuild
        case otherBuild
        case otherSeries
        case unnamed
    }

    public struct Verdict: Sendable, Equatable {
        public var ok: Bool
        public var match: KernelMatch
        /// One line: the scenario, both kernels when they differ, and the outcome.
        public var message: String
    }

    public static func match(fixture: KernelIdentity?, live: KernelIdentity?) -> KernelMatch {
        guard let fixture, let live else { return .unnamed }
        if fixture.abi == live.abi && fixture.debVersion == live.debVersion { return .sameBuild }
        return fixture.series == live.series ? .otherBuild : .otherSeries
    }

    public static func verdict(scenario: String, fixture: KernelIdentity?, live: KernelIdentity?, report: DiffReport)
        -> Verdict
    {
        let m = match(fixture: fixture, live: live)
        let head = "harness-check \(scenario): "
        let kernels =
            "fixture recorded on \(fixture?.description ?? "an unnamed kernel (no `# kernel:` header)"), this run \(live?.description ?? "an unnamed kernel")"
        let agrees = "the live kernel agrees with the fixture (\(report.compared) observations)"
        switch (m, report.passed) {
        case (.sameBuild, true):
            return Verdict(ok: true, match: m, message: head + agrees + " on \(live?.description ?? "")")
        case (.sameBuild, false):
            return Verdict(
                ok: false, match: m,
                message: head
                    + "the live kernel differs from the fixture on the same kernel \(live?.description ?? ""): the harness is broken"
            )
        case (.otherBuild, true):
            return Verdict(
                ok: true, match: m,
                message: head + kernels + ": " + agrees
                    + "; NOTICE: another build of \(live?.series ?? ""), so this proves the harness, not the fixtures: re-record them on \(live?.abi ?? "")"
            )
        case (.otherBuild, false):
            return Verdict(
                ok: false, match: m,
                message: head + kernels
                    + ": the live kernel differs from the fixture; the kernels differ, so the differences may be the kernel's: re-record the fixtures on \(live?.abi ?? "") (memhp kernel-run) and compare"
            )
        case (.otherSeries, _):
            return Verdict(
                ok: false, match: m,
                message: head + kernels
                    + ": not the fixtures' series \(fixture?.series ?? ""); the fixtures say nothing about this kernel")
        case (.unnamed, _):
            return Verdict(ok: false, match: m, message: head + kernels + ": cannot tell which kernel is checked")
        }
    }
}
