import Foundation
import XCTest

@testable import Conformance
@testable import Scenario

/// The live check names its kernel: a fresh kernel run of another build than the fixture's
/// says so, and passes only when it agrees and is the same series.
final class HarnessCheckTests: XCTestCase {
    static let k56 = KernelIdentity(
        abi: "6.1.0-56-amd64", package: "linux-image-6.1.0-56-amd64", debVersion: "6.1.192-2")
    static let k57 = KernelIdentity(
        abi: "6.1.0-57-amd64", package: "linux-image-6.1.0-57-amd64", debVersion: "6.1.192-3")
    static let k62 = KernelIdentity(abi: "6.2.0-1-amd64", package: "linux-image-6.2.0-1-amd64", debVersion: "6.2.1-1")

    func agreeing() -> DiffReport { var r = DiffReport(scenario: "a-baseline"); r.compared = 43; return r }
    func differing() -> DiffReport {
        var r = agreeing()
        r.differences = [
            Difference(
                kind: .structural, step: 1, kernelLine: 9, modelLine: 9, subject: "zone node=0 zone=DMA32",
                key: "spanned", kernelValue: "1", modelValue: "2", note: "")
        ]
        return r
    }

    func testTheHeaderNamesTheKernel() {
        let log =
            "# memhp observations v1\n# scenario: x\n# kernel: 6.1.0-56-amd64 linux-image-6.1.0-56-amd64 6.1.192-2\nstep n=1 label=\"a\"\n"
        XCTAssertEqual(KernelIdentity(log: log), Self.k56)
        XCTAssertEqual(Self.k56.series, "6.1")
        XCTAssertEqual(Self.k56.description, "6.1.0-56-amd64 (6.1.192-2)")
        XCTAssertNil(KernelIdentity(log: "# memhp observations v1\n# runner: model\n"))
    }

    func testSameBuildPassesOrFailsOnTheDiffAlone() {
        let ok = HarnessCheck.verdict(scenario: "a-baseline", fixture: Self.k56, live: Self.k56, report: agreeing())
        XCTAssertTrue(ok.ok)
        XCTAssertEqual(ok.match, .sameBuild)
        XCTAssertEqual(
            ok.message,
            "harness-check a-baseline: the live kernel agrees with the fixture (43 observations) on 6.1.0-56-amd64 (6.1.192-2)"
        )
        XCTAssertFalse(
            HarnessCheck.verdict(scenario: "a-baseline", fixture: Self.k56, live: Self.k56, report: differing()).ok)
    }

    /// Another Debian build of 6.1 that agrees passes, but never silently: the line names both kernels.
    func testAnotherBuildThatAgreesPassesWithANotice() {
        let v = HarnessCheck.verdict(scenario: "a-baseline", fixture: Self.k56, live: Self.k57, report: agreeing())
        XCTAssertTrue(v.ok)
        XCTAssertEqual(v.match, .otherBuild)
        XCTAssertTrue(
            v.message.hasPrefix(
                "harness-check a-baseline: fixture recorded on 6.1.0-56-amd64 (6.1.192-2), this run 6.1.0-57-amd64 (6.1.192-3): the live kernel agrees"
            ), v.message)
        XCTAssertTrue(v.message.contains("NOTICE"), v.message)
        XCTAssertTrue(v.message.contains("re-record them on 6.1.0-57-amd64"), v.message)
    }

    func testAnotherBuildThatDiffersFailsAndSaysTheKernelsDiffer() {
        let v = HarnessCheck.verdict(scenario: "a-baseline", fixture: Self.k56, live: Self.k57, report: differing())
        XCTAssertFalse(v.ok)
        XCTAssertTrue(
            v.message.contains("fixture recorded on 6.1.0-56-amd64 (6.1.192-2), this run 6.1.0-57-amd64 (6.1.192-3)"),
            v.message)
        XCTAssertTrue(v.message.contains("may be the kernel's"), v.message)
    }

    func testAnotherSeriesOrAnUnnamedKernelFails() {
        let other = HarnessCheck.verdict(scenario: "a-baseline", fixture: Self.k56, live: Self.k62, report: agreeing())
        XCTAssertFalse(other.ok)
        XCTAssertEqual(other.match, .otherSeries)
        let unnamed = HarnessCheck.verdict(scenario: "a-baseline", fixture: nil, live: Self.k57, report: agreeing())
        XCTAssertFalse(unnamed.ok)
        XCTAssertEqual(unnamed.match, .unnamed)
    }

    /// Every committed fixture names the kernel that recorded it, so the live check can compare.
    func testEveryFixtureNamesItsKernel() throws {
        let dir = ConformanceTests.dir
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".kernel.txt") }
        XCTAssertGreaterThanOrEqual(names.count, 33)
        for n in names {
            let text = try String(contentsOf: dir.appendingPathComponent(n), encoding: .utf8)
            let k = KernelIdentity(log: text)
            XCTAssertNotNil(k, "\(n) names no kernel")
            XCTAssertEqual(k?.series, "6.1", n)
        }
    }
}
