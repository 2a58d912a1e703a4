import ArgumentParser
import Benchmarks
import Foundation

/// `memhp bench`: the model's speed on this machine, one fresh child process per run of each
/// benchmark (so each peak RSS is that workload's), medians over `--runs`. Figures, not
/// pass/fail: tests never time anything. `--compare` names regressions against a saved
/// `--json`; `--host` times this machine's kernel doing the same pool resize.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the model's speed (and, with --host, this machine's kernel).",
        discussion: "Benchmarks: " + ModelSuite.cases.map(\.name).joined(separator: ", ") + ".")
    @Option(name: .long, help: "Run only these benchmarks (repeatable, or comma-separated).") var only: [String] = []
    @Option(help: "Runs of each benchmark (the median is reported).") var runs = 3
    @Flag(help: "Print the results as JSON (save it as a baseline for --compare).") var json = false
    @Option(help: "Compare against a saved --json baseline; exit status 1 when something regressed beyond the noise.")
    var compare: String?
    @Flag(
        help:
            "Also time this host's kernel growing/shrinking its 2 MiB pool by 2048 pages, HVO off and on (root; changes /proc/sys/vm/nr_hugepages and hugetlb_optimize_vmemmap, restores them)."
    ) var host = false
    @Option(help: "Where the conformance scenarios are.") var scenarios = "tests/conformance"
    @Flag(help: "List the benchmarks.") var list = false
    @Option(help: .hidden) var child: String?

    func run() throws {
        ModelSuite.scenarioDir = scenarios
        if let child { throw ExitCode(ChildRunner.childMain(child)) }
        if list {
            for c in ModelSuite.cases { print("\(c.name): \(c.summary)") }
            return
        }
        guard runs >= 1 && runs <= 100 else { throw ValidationError("--runs: \(runs) is not between 1 and 100") }
        var names = only.flatMap { $0.split(separator: ",").map(String.init) }
        for n in names where ModelSuite.named(n) == nil {
            throw ValidationError("--only: no benchmark \(n) (memhp bench --list)")
        }
        if host {
            for n in ["pool-2048-hvo-off", "pool-2048-hvo-on"] where !names.isEmpty && !names.contains(n) {
                names.append(n)
            }
        }
        let cases = names.isEmpty ? ModelSuite.cases : ModelSuite.cases.filter { names.contains($0.name) }
        let baseline = try compare.map(Self.loadBaseline)

        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let available = ChildRunner.hostAvailableBytes() ?? Int.max
        var results: [BenchResult] = []
        for c in cases {
            var r = BenchResult(name: c.name, summary: c.summary)
            if c.needsBytes > available {
                r.skipped = "needs \(c.needsBytes >> 30) GiB of host memory, \(available >> 30) GiB available"
            } else {
                for _ in 0..<runs {
                    switch ChildRunner.runChild(
                        executable: exe, name: c.name, extraArguments: ["--scenarios", scenarios])
                    {
                    case .sample(let s): r.runs.append(s)
                    case .skipped(let why): r.skipped = why
                    case .failed(let why): r.failed = why
                    }
                    if r.skipped != nil || r.failed != nil { break }
                }
            }
            if !json { printResult(r) }
            results.append(r)
        }
        let report = BenchReport(
            date: ISO8601DateFormatter().string(from: Date()), host: hostDescription(), results: results)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        }
        if host { try runHost(results) }
        if let baseline {
            let cmp = BenchComparison(baseline: baseline, current: report)
            printComparison(cmp, baseline: baseline)
            if !cmp.regressions.isEmpty { throw ExitCode(1) }
        }
    }

    /// A saved `--json` report. A file that is not one, or that holds a figure no run has (a
    /// negative or infinite time, a negative peak RSS), is a usage error naming the file.
    static func loadBaseline(_ path: String) throws -> BenchReport {
        let text: String
        do { text = try readTextFile(path) } catch { throw ValidationError("--compare \(describe(error))") }
        let report: BenchReport
        do { report = try JSONDecoder().decode(BenchReport.self, from: Data(text.utf8)) } catch {
            throw ValidationError("--compare: \(path) is not a memhp bench --json report: \(error)")
        }
        if let bad = report.impossibleFigure {
            throw ValidationError("--compare: \(path) is not a memhp bench --json report: \(bad)")
        }
        return report
    }

    func printResult(_ r: BenchResult) {
        if let s = r.skipped { print("\(r.name): skipped: \(s)"); return }
        if let f = r.failed { print("\(r.name): FAILED: \(f)"); return }
        let figs = r.figures.sorted { $0.key < $1.key }.map { "\($0.key)=\(fmt($0.value))" }.joined(separator: " ")
        print(
            "\(r.name): \(ms(r.medianCPU)) ms CPU, \(ms(r.medianWall)) ms wall (median of \(r.runs.count), spread \(fmt(r.cpuSpread * 100))%), peak RSS \(r.peakRSSKiB / 1024) MiB  \(figs)"
        )
    }

    func printComparison(_ cmp: BenchComparison, baseline: BenchReport) {
        print(
            "\nCompared with \(compare ?? "") (\(baseline.date)): CPU-time ratio now/baseline (allowed: 1 + max(\(fmt(BenchComparison.minTolerance)), both spreads)), peak RSS ratio"
        )
        for row in cmp.rows {
            let mark = row.timeRegressed || row.rssRegressed ? "REGRESSION" : "ok"
            print(
                "  \(row.name): time x\(fmt(row.cpuRatio)) (allowed x\(fmt(row.tolerance)))\(row.timeRegressed ? " slower" : ""), RSS x\(fmt(row.rssRatio))\(row.rssRegressed ? " larger" : "")  \(mark)"
            )
        }
        for n in cmp.missing { print("  \(n): not in both runs") }
        print(
            cmp.regressions.isEmpty
                ? "no regressions beyond the noise"
                : "\(cmp.regressions.count) regression(s): \(cmp.regressions.map(\.name).joined(separator: ", "))")
    }

    func runHost(_ results: [BenchResult]) throws {
        print("\n## This host's kernel, same pool resize (2048 x 2 MiB), \(runs) runs each")
        let timings: [HostHugetlbBench.Timing]
        do { timings = try HostHugetlbBench.run(runs: runs) } catch let e as HostBenchError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(2)
        }
        for t in timings {
            let model = results.first { $0.name == (t.hvo ? "pool-2048-hvo-on" : "pool-2048-hvo-off") }
            let g = Stats.median(t.growSeconds), s = Stats.median(t.shrinkSeconds)
            var line =
                "host kernel, HVO \(t.hvo ? "on " : "off"): \(t.grown)/2048 pages, grow \(ms(g)) ms, shrink \(ms(s)) ms (median)"
            if let f = model?.figures, let mg = f["grow_wall_ms"], let msh = f["shrink_wall_ms"], mg > 0, msh > 0 {
                line +=
                    "; model grow \(fmt(mg)) ms, shrink \(fmt(msh)) ms; kernel/model x\(fmt(g * 1000 / mg)) grow, x\(fmt(s * 1000 / msh)) shrink"
            }
            print(line)
        }
    }

    func hostDescription() -> String {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return
            "\(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, Linux \(release)"
    }

    func ms(_ s: Double) -> String { fmt(s * 1000) }
}

func fmt(_ x: Double) -> String {
    let r = (x * 100).rounded() / 100
    return String(r)
}
