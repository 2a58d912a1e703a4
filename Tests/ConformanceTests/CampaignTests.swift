import Foundation
import XCTest

@testable import Conformance
@testable import Scenario

/// The random differential campaign (issue 15): every seed in tests/campaign with recorded
/// kernel variants runs on the model and must equal one of them line by line, unless it is
/// listed with its cause in tests/campaign/EXPECTED-DIFFERENCES (a listed seed that agrees
/// fails, so the list stays honest).
final class CampaignTests: XCTestCase {
    static let dir = ConformanceTests.root.appendingPathComponent("tests/campaign")

    func testRecordedSeedsAgreeWithTheKernelsVariants() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path)
        let seeds = names.compactMap { f -> Int? in
            guard f.hasPrefix("seed-"), f.hasSuffix(".kernel.txt"), !f.dropLast(11).contains(".") else { return nil }
            return Int(f.dropFirst(5).prefix { $0.isNumber })
        }.sorted()
        XCTAssertFalse(seeds.isEmpty, "no recorded seed in tests/campaign")
        let expected = ExpectedFailures.parse(
            (try? String(contentsOf: Self.dir.appendingPathComponent("EXPECTED-DIFFERENCES"), encoding: .utf8)) ?? "")
        var results: [Campaign.SeedResult] = []
        for s in seeds {
            let stem = Campaign.stem(s)
            let sc = try Scenario.parse(
                try String(contentsOf: Self.dir.appendingPathComponent(stem + ".scn"), encoding: .utf8),
                file: "tests/campaign/\(stem).scn")
            let variants = Campaign.variantPaths(dir: Self.dir.path, seed: s).map {
                try! String(contentsOfFile: $0, encoding: .utf8)
            }
            let r = Campaign.compare(
                seed: s, shape: CampaignGenerator.shape(seed: s).name, model: ModelRunner(scenario: sc).run().text,
                variants: variants, limit: 12)
            results.append(r)
            switch (r.identical, expected.reason(stem)) {
            case (false, nil):
                XCTFail(
                    "\(stem) (\(r.shape)) differs from the kernel (not in EXPECTED-DIFFERENCES):\n"
                        + r.diff.joined(separator: "\n"))
            case (true, .some):
                XCTFail("\(stem) now agrees with the kernel: take it off tests/campaign/EXPECTED-DIFFERENCES")
            default: break
            }
        }
        print(Campaign.table(results), terminator: "")
    }

    /// The committed scenarios are the generator's output (regenerating changes nothing).
    func testCommittedScenariosAreTheGeneratorsOutput() throws {
        for s in [0, 1, 7, 8, 99, 199, 1000, 1007, 1039, 2000, 2007, 2031] {
            let text = try String(
                contentsOf: Self.dir.appendingPathComponent(Campaign.stem(s) + ".scn"), encoding: .utf8)
            XCTAssertEqual(text, CampaignGenerator.scenario(seed: s), "seed \(s)")
            XCTAssertNoThrow(try Scenario.parse(text, file: "seed-\(s)"))
        }
    }

    func testTheComparisonIgnoresOnlyKernelOnlyKindsTimingAndFreeCounts() {
        let k = """
            dmesg [    0.05] Zone ranges:
            write path=/proc/sys/vm/nr_hugepages value="2" rc=0 errno=0 elapsed_cs=3
            zone node=0 zone=DMA32 free=1000 pcp=7 min=100 spanned=10 present=9 managed=8
            """
        let m = """
            write path=/proc/sys/vm/nr_hugepages value="2" rc=0 errno=0 err="" elapsed_cs=0
            zone node=0 zone=DMA32 free=1200 pcp=70 min=100 spanned=10 present=9 managed=8
            """
        XCTAssertTrue(Campaign.compare(seed: 0, shape: "x", model: m, variants: [k]).identical)
        let m2 = m.replacingOccurrences(of: "managed=8", with: "managed=9")
        let r = Campaign.compare(seed: 0, shape: "x", model: m2, variants: ["scenario_exit rc=0", k])
        XCTAssertFalse(r.identical)
        XCTAssertEqual(r.variant, 1)
        XCTAssertEqual(r.matchedLines, 1)
        XCTAssertEqual(r.diff.count, 2)
    }

    /// RUNS names the runner build beside the kernel; lines from before `guest=` still parse, and
    /// the text round-trips.
    func testRunsTableKeepsKernelAndGuestRunner() {
        let text = """
            # header
            seed-0003 runs=2 kernel=6.1.0-57-amd64 guest=fbd2a3eb9a70ec8e
            seed-0010 runs=1 kernel=6.1.0-56-amd64
            """
        let t = Campaign.Runs.parse(text)
        XCTAssertEqual(t.runs[3], .init(count: 2, kernel: "6.1.0-57-amd64", guest: "fbd2a3eb9a70ec8e"))
        XCTAssertEqual(t.runs[10], .init(count: 1, kernel: "6.1.0-56-amd64", guest: nil))
        XCTAssertNil(t.runs[4])
        XCTAssertEqual(Campaign.Runs.parse(t.text).runs, t.runs)
        XCTAssertTrue(t.text.contains("seed-0003 runs=2 kernel=6.1.0-57-amd64 guest=fbd2a3eb9a70ec8e\n"))
        XCTAssertTrue(t.text.contains("seed-0010 runs=1 kernel=6.1.0-56-amd64\n"))
    }

    /// After an OOM kill of the guest the exit status is the dying guest's race (137 or -1):
    /// not compared; without an OOM kill it is.
    func testExitStatusAfterTheGuestsOOMKillIsNotCompared() {
        let kernel = "oom_kill process=memhp-guest\nscenario_exit rc=137\n"
        let model = "oom_kill process=memhp-guest\nscenario_exit rc=-1\n"
        XCTAssertTrue(Campaign.compare(seed: 0, shape: "x", model: model, variants: [kernel]).identical)
        let lived = Campaign.compare(
            seed: 0, shape: "x", model: "scenario_exit rc=-1\n", variants: ["scenario_exit rc=137\n"])
        XCTAssertFalse(lived.identical)
    }
}
