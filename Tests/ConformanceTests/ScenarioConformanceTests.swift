import Foundation
import Testing

@testable import Conformance
@testable import Scenario

/// The committed fixtures, found from this file: tests/conformance must be there, with every
/// scenario it lists (a missing directory fails `fixturesArePresent` instead of leaving nothing to check).
enum CommittedFixtures {
    static let dir = ConformanceTests.dir

    /// The scenario names (`NAME.scn`), sorted; empty when the directory is missing.
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
        .filter { $0.hasSuffix(".scn") }.map { String($0.dropLast(4)) }.sorted()

    static func text(_ file: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
    }

    static let expected: ExpectedFailures? = (try? text("EXPECTED-FAILURES")).map(ExpectedFailures.parse)
}

/// The model against the real kernel, one test per committed scenario: the scenario runs on the
/// model and its log is diffed against the kernel's fixture (docs/conformance.md). Scenarios the
/// model does not pass yet are listed in tests/conformance/EXPECTED-FAILURES with a reason; a
/// listed scenario that passes fails, so the list is kept honest.
@Suite struct ScenarioConformanceTests {
    @Test func fixturesArePresent() throws {
        #expect(FileManager.default.fileExists(atPath: CommittedFixtures.dir.path), "no \(CommittedFixtures.dir.path)")
        #expect(
            CommittedFixtures.names.count >= 33,
            "scenarios missing from tests/conformance: \(CommittedFixtures.names.count)")
        let expected = try #require(CommittedFixtures.expected, "tests/conformance/EXPECTED-FAILURES is missing")
        for name in expected.reasons.keys.sorted() {
            #expect(CommittedFixtures.names.contains(name), "EXPECTED-FAILURES lists \(name), which has no scenario")
        }
    }

    /// A recorded kernel variant is a real second output: it disagrees with the fixture under
    /// the diff's own rules (else it proves no variance and must not be committed).
    @Test(arguments: CommittedFixtures.names)
    func variantsDisagreeWithTheFixture(_ name: String) throws {
        let paths = KernelVariants.paths(dir: CommittedFixtures.dir.path, stem: name)
        guard paths.count > 1 else { return }
        let texts = try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }
        for i in 1..<texts.count {
            let log = ObservationLog.parse(texts[i])
            #expect(log.bad.isEmpty, "\(paths[i]): unparsable lines \(log.bad)")
            let earlier = try KernelVariants.closest(scenario: name, kernels: Array(texts[..<i]), model: log.log) {
                try RangeRule.parseEmbedded(texts[$0])
            }
            #expect(!earlier.passed, "\(paths[i]) agrees with \(paths[earlier.variant - 1]): not a variant")
        }
    }

    @Test(arguments: CommittedFixtures.names)
    func agreesWithTheKernel(_ name: String) throws {
        let sc = try Scenario.parse(try CommittedFixtures.text(name + ".scn"), file: "tests/conformance/\(name).scn")
        let kernelTexts = try KernelVariants.paths(dir: CommittedFixtures.dir.path, stem: name).map {
            try String(contentsOfFile: $0, encoding: .utf8)
        }
        try #require(!kernelTexts.isEmpty, "no fixture \(name).kernel.txt")
        var sideRanges: [RangeRule] = []
        if let side = try? CommittedFixtures.text(name + ".ranges") { sideRanges = try RangeRule.parseFile(side) }
        let model = ModelRunner(scenario: sc).run()
        let modelLog = ObservationLog.parse(model.text)
        #expect(modelLog.bad.isEmpty, "unparsable model lines \(modelLog.bad)")
        for e in modelLog.log.entries {
            if let v = ObservationSchema.violation(e.observation) { Issue.record("model line \(e.line): \(v)") }
        }
        let report = try KernelVariants.closest(scenario: name, kernels: kernelTexts, model: modelLog.log) {
            try RangeRule.parseEmbedded(kernelTexts[$0]) + sideRanges
        }
        let reason = CommittedFixtures.expected?.reason(name)
        switch ConformanceStatus(passed: report.passed, expected: reason != nil) {
        case .pass, .expectedFailure:
            break
        case .fail:
            let rendered = report.render(limit: 15)
            Issue.record("\(name) disagrees with the kernel (not in EXPECTED-FAILURES):\n\(rendered)")
        case .unexpectedPass:
            Issue.record("\(name) now agrees with the kernel: take it off tests/conformance/EXPECTED-FAILURES")
        }
    }
}
