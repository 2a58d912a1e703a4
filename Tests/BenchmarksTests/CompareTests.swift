import XCTest

@testable import Benchmarks

/// `memhp bench --compare`: ratios against the baseline, with the noise allowance.
final class CompareTests: XCTestCase {
    func result(_ name: String, _ cpus: [Double], rss: Int = 100_000) -> BenchResult {
        BenchResult(
            name: name, summary: "",
            runs: cpus.map {
                var s = BenchSample(cpu: $0, wall: $0); s.peakRSSKiB = rss; return s
            })
    }
    func report(_ r: [BenchResult]) -> BenchReport { BenchReport(date: "d", host: "h", results: r) }

    func testMedianAndSpread() {
        XCTAssertEqual(Stats.median([3, 1, 2]), 2)
        XCTAssertEqual(Stats.median([4, 1, 2, 3]), 2.5)
        XCTAssertEqual(Stats.spread([1.0, 1.5, 2.0]), 1.0 / 1.5, accuracy: 1e-12)
        XCTAssertEqual(Stats.spread([5]), 0)
    }

    func testRegressionBeyondNoiseIsNamed() {
        let base = report([
            result("a", [1.0, 1.0, 1.0]), result("b", [0.1, 0.1, 0.1]), result("c", [1.0, 1.0, 1.0], rss: 100_000)
        ])
        let now = report([
            result("a", [1.10, 1.10, 1.10]),  // +10 %: inside the 15 % floor
            result("b", [0.13, 0.13, 0.13]),  // +30 %: a regression
            result("c", [1.0, 1.0, 1.0], rss: 200_000)
        ])  // RSS doubled
        let cmp = BenchComparison(baseline: base, current: now)
        XCTAssertEqual(cmp.regressions.map(\.name), ["b", "c"])
        XCTAssertEqual(cmp.rows.first { $0.name == "b" }!.cpuRatio, 1.3, accuracy: 1e-9)
        XCTAssertTrue(cmp.rows.first { $0.name == "c" }!.rssRegressed)
        XCTAssertFalse(cmp.rows.first { $0.name == "c" }!.timeRegressed)
    }

    /// A noisy baseline (runs 1.0-2.0 s) widens the allowance: 1.6x its median is not named.
    func testSpreadWidensTheAllowance() {
        let base = report([result("a", [1.0, 1.5, 2.0])])
        let now = report([result("a", [2.4, 2.4, 2.4])])
        let cmp = BenchComparison(baseline: base, current: now)
        XCTAssertEqual(cmp.rows[0].tolerance, 1 + 1.0 / 1.5, accuracy: 1e-9)
        XCTAssertTrue(cmp.regressions.isEmpty)
    }

    func testMissingAndSkippedAreListedNotCompared() {
        var skipped = result("s", [])
        skipped.skipped = "too big"
        let cmp = BenchComparison(
            baseline: report([result("a", [1]), skipped]), current: report([result("b", [1]), skipped]))
        XCTAssertEqual(cmp.rows.count, 0)
        XCTAssertEqual(Set(cmp.missing), ["a", "b"])
    }

    /// A baseline no run can have written is named (BenchComparison's RSS difference overflowed
    /// on a peak RSS of Int.min); measured ones pass.
    func testImpossibleFiguresAreNamed() {
        XCTAssertNil(report([result("a", [1, 2]), result("s", [])]).impossibleFigure)
        XCTAssertEqual(
            report([result("a", [1]), result("b", [1, 2], rss: Int.min)]).impossibleFigure,
            "results[1].runs[0].peakRSSKiB is -9223372036854775808")
        XCTAssertEqual(report([result("a", [1, -0.5])]).impossibleFigure, "results[0].runs[1].cpu is -0.5")
        XCTAssertEqual(report([result("a", [.infinity])]).impossibleFigure, "results[0].runs[0].cpu is inf")
    }
}
