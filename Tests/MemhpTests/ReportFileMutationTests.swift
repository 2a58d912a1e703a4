import Benchmarks
import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

/// The JSON files memhp reads back: `bench --compare BASE.json` and `study merge SHARD...`.
/// Seeded mutants of a valid one (pretty-printed, so line mutations drop, repeat and swap
/// fields); each is taken, or refused with status 2 naming the file; never a trap.
final class ReportFileMutationTests: XCTestCase {
    /// A baseline as `bench --json` writes it: two cases, one with three runs and figures,
    /// one skipped.
    static func baseline() throws -> [UInt8] {
        var a = BenchResult(name: "demo-fill", summary: "the demo's fill")
        for (i, cpu) in [0.120, 0.125, 0.131].enumerated() {
            var s = BenchSample(cpu: cpu, wall: cpu + 0.01, figures: ["pages": 25600 + Double(i)])
            s.peakRSSKiB = 81_920 + 512 * i
            a.runs.append(s)
        }
        let b = BenchResult(name: "boot-1t", summary: "1 TiB boot", skipped: "needs 2 GiB of host memory")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try enc.encode(BenchReport(date: "2026-12-07T23:00:00Z", host: "2 CPUs", results: [a, b])))
    }

    func testDamagedBenchBaselinesAreRefused() throws {
        let dir = try MemhpBinary.temporaryDirectory("bench-mutants")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path + "/base.json"
        let valid = try Self.baseline()
        // The current run the baseline is compared with: the same cases, 10% slower.
        var current = try JSONDecoder().decode(BenchReport.self, from: Data(valid))
        for i in current.results[0].runs.indices { current.results[0].runs[i].cpu *= 1.1 }
        let cmd = try XCTUnwrap(try InProcessCLI.Parsed(["bench", "--compare", path]).command as? BenchCommand)
        let rule = MalformedInput(path: path, line: false)
        var outcomes: [Int32: Int] = [:]
        for m in InputMutation.mutants(of: valid, count: 250, seed: 0x5EED_0401) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = InProcessCLI.capture(in: dir.path) {
                Main.status(of: BenchCommand.self, arguments: ["bench"]) {
                    let base = try BenchCommand.loadBaseline(path)
                    cmd.printComparison(BenchComparison(baseline: base, current: current), baseline: base)
                }
            }
            rule.check(r, m.what)
            outcomes[r.status, default: 0] += 1
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 100, "\(outcomes)")
        XCTAssertGreaterThan(outcomes[0] ?? 0, 20, "\(outcomes)")
    }
}

extension ReportFileMutationTests {
    /// Two shards of a four-run study (1 GiB + a 512 MiB DIMM, HVO off/on, two online
    /// policies), made by `study hvo --shard K/2`; shard 1's study.json is mutated and merged
    /// with shard 2.
    func testDamagedStudyShardsAreRefused() throws {
        let dir = try MemhpBinary.temporaryDirectory("study-mutants")
        defer { try? FileManager.default.removeItem(at: dir) }
        for k in 1...2 {
            let r = InProcessCLI.run(
                [
                    "study", "hvo", "--mem", "1G", "--maxmem", "4G", "--dimm", "512M", "--pool", "10",
                    "--page-size", "2M", "--hvo", "off,on", "--pressure", "none", "--online", "movable,kernel",
                    "--reps", "1", "--jobs", "1", "--validation", "none", "--plain", "--shard", "\(k)/2",
                    "-o", dir.path + "/shard\(k)"
                ], in: dir.path)
            XCTAssertEqual(r.status, 0, r.err)
        }
        let path = dir.path + "/shard1/study.json"
        let valid = try Array(XCTUnwrap(FileManager.default.contents(atPath: path)))
        let merge = try InProcessCLI.Parsed([
            "study", "merge", path, dir.path + "/shard2", "-o", dir.path + "/merged", "--validation", "none"
        ])
        XCTAssertEqual(merge.run(in: dir.path).status, 0)
        let rule = MalformedInput(path: path, line: false)
        var outcomes: [Int32: Int] = [:]
        for m in InputMutation.mutants(of: valid, count: 200, seed: 0x5EED_0501) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = merge.run(in: dir.path)
            rule.check(r, m.what)
            outcomes[r.status, default: 0] += 1
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 100, "\(outcomes)")
        // A lone shard claiming a split into none (`(1...n)` trapped on N = 0).
        let text = try XCTUnwrap(String(decoding: valid, as: UTF8.self))
        let zero = text.replacingOccurrences(of: "\"n\" : 2", with: "\"n\" : 0")
        XCTAssertNotEqual(zero, text)
        try Data(zero.utf8).write(to: URL(fileURLWithPath: path))
        let lone = InProcessCLI.run(
            ["study", "merge", path, "-o", dir.path + "/merged", "--validation", "none"], in: dir.path)
        XCTAssertEqual(lone.status, 2, lone.err)
        XCTAssertTrue(lone.err.contains("merge: \(path): shard 1/0 is not K/N with 1 <= K <= N"), lone.err)
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let isDir = merge.run(in: dir.path)
        XCTAssertEqual(isDir.status, 2)
        XCTAssertTrue(isDir.err.contains(path), isDir.err)
    }
}
