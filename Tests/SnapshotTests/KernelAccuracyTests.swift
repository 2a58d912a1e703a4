import Foundation
import XCTest

@testable import Snapshot

/// Predictions against the real kernel: each `tests/snapshot/NAME.kernel.txt` is a
/// `memhp kernel-run` of NAME.scn on Debian's Linux 6.1 under QEMU — a dump of the guest's
/// state (every kpageflags word included), then every block offlined for real and onlined again.
/// The snapshot built from the dump must predict each offline's errno; the misses must be
/// exactly the ones `tests/snapshot/MISSES` lists and explains.
final class KernelAccuracyTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tests/snapshot")

    func testPredictionsMatchTheRealKernel() throws {
        let logs = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).filter {
            $0.hasSuffix(".kernel.txt")
        }.sorted()
        XCTAssertGreaterThanOrEqual(logs.count, 2, "the committed real-kernel fixtures are missing")
        var right = 0, total = 0
        var misses: [String] = []
        var kernels = Set<String>()
        var perGuest: [(String, Int, Int)] = []
        for log in logs {
            let name = String(log.dropLast(".kernel.txt".count))
            let text = try String(contentsOf: Self.dir.appendingPathComponent(log), encoding: .utf8)
            let r = try GuestLog.parse(text, path: log)
            kernels.insert(r.snapshot.kernelRelease ?? "?")
            try SnapshotCheck.check(r.snapshot, source: log)
            let ps = Dictionary(
                uniqueKeysWithValues: OfflinePredictor(snapshot: r.snapshot, census: r.census).predictAll().map {
                    ($0.block, $0)
                })
            XCTAssertFalse(r.offlines.isEmpty, "\(log): no offline writes after the snapshot")
            let before = (right, total)
            defer { perGuest.append((name, right - before.0, total - before.1)) }
            for o in r.offlines {
                guard let p = ps[o.block] else { XCTFail("\(log): memory\(o.block) not in the snapshot"); continue }
                total += 1
                if p.errno == o.errno {
                    right += 1
                } else {
                    misses.append("\(name) memory\(o.block) predicted \(p.errno) kernel \(o.errno)")
                    print(
                        "miss: \(name) memory\(o.block) (\(p.zone)): predicted \(p.errno) [\(p.reason): \(p.detail)], kernel \(o.errno)"
                    )
                }
            }
        }
        print("snapshot predictions vs Linux \(kernels.sorted().joined(separator: ", ")): \(right)/\(total) blocks")
        XCTAssertGreaterThanOrEqual(Double(right) / Double(max(total, 1)), 0.95)
        // README's accuracy table shows these figures.
        let readme = try String(
            contentsOf: Self.dir.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "README.md"),
            encoding: .utf8)
        let pct = String(format: "%.1f", 100 * Double(right) / Double(max(total, 1)))
        XCTAssertTrue(
            readme.contains("**\(right)/\(total) (\(pct)%)**"),
            "README: the accuracy figure is \(right)/\(total) (\(pct)%)")
        for (name, r, t) in perGuest {
            XCTAssertTrue(
                readme.split(separator: "\n").contains { $0.hasPrefix("| \(name) |") && $0.hasSuffix("| \(r)/\(t) |") },
                "README: the accuracy table's row for \(name) should read \(r)/\(t)")
        }
        let listed = (try? String(contentsOf: Self.dir.appendingPathComponent("MISSES"), encoding: .utf8)) ?? ""
        let expected = listed.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { String($0.split(separator: "#", omittingEmptySubsequences: false)[0]).trimmingSpaces }.filter {
                !$0.isEmpty
            }
        XCTAssertEqual(
            misses.sorted(), expected.sorted(), "tests/snapshot/MISSES must list exactly the misses, each explained")
    }
}
