import ArgumentParser
import Conformance
import Foundation
import Scenario

#if canImport(KernelRunner)
import KernelRunner
#endif

/// `memhp conformance`: runs scenarios on the model and diffs each log against the real
/// kernel's fixture (`tests/conformance/NAME.kernel.txt`), with the tolerances and ranges of
/// docs/conformance.md.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Diff the model against the real kernel's recorded observation logs.",
        discussion: """
            Without arguments, every tests/conformance/*.scn that has a .kernel.txt fixture. Prints \
            the differences per scenario and closes with `N passed, M failed`. Scenarios listed in \
            tests/conformance/EXPECTED-FAILURES may fail; one that passes while listed is reported, \
            so the list stays honest. Exit status: 0 when every result is as expected, 1 otherwise, \
            2 for a malformed scenario or ranges file, or when there is nothing to compare (no \
            fixture directory: run it from the repository's root or give --dir).
            """)

    @Argument(help: "Scenario files (.scn) or names in the fixture directory (default: all with a fixture).")
    var scenarios: [String] = []

    @Option(help: "Where the scenarios, fixtures, .ranges files and EXPECTED-FAILURES are.")
    var dir = "tests/conformance"

    @Flag(help: "Print a Markdown table (scenario, observations compared, structural and counter agreement, status).")
    var table = false

    @Flag(
        help: "Also run each scenario on the real kernel (memhp kernel-run) and diff the model against that fresh log.")
    var live = false

    @Flag(
        help:
            "Check the harness, not the model: run each scenario on the real kernel and diff that fresh log against the committed fixture."
    )
    var harnessCheck = false

    @Option(help: "Differences shown per scenario.")
    var limit = 40

    @Option(help: "Write each model log to this directory as NAME.model.txt.")
    var saveModelLogs: String?

    @Option(
        help: ArgumentHelp(
            "Diff this observation log (e.g. another `memhp kernel-run` of the scenario) instead of the model's.",
            discussion:
                "With one scenario: the kernel's variance check; a run that disagrees with every recorded output is committed as NAME.kernel.N.txt."
        ))
    var log: String?

    func run() throws {
        if harnessCheck { return try checkHarness() }
        let fm = FileManager.default
        var paths: [String] = []
        if scenarios.isEmpty {
            let files: [String]
            do { files = try fm.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".scn") }.sorted() } catch {
                printError(
                    "memhp conformance: cannot read the fixture directory \(dir) (\(absolute(dir))): \(describe(error, path: dir))"
                )
                printError("Run it from the repository's root, or give --dir DIR.")
                throw ExitCode(2)
            }
            for f in files {
                let base = String(f.dropLast(4))
                if fm.fileExists(atPath: "\(dir)/\(base).kernel.txt") || live { paths.append("\(dir)/\(f)") }
            }
            if paths.isEmpty {
                printError(
                    "memhp conformance: no scenario with a fixture in \(dir) (\(absolute(dir))): looked for NAME.scn next to NAME.kernel.txt"
                )
                throw ExitCode(2)
            }
        } else {
            for s in scenarios { paths.append(s.hasSuffix(".scn") || s.contains("/") ? s : "\(dir)/\(s).scn") }
        }
        let listPath = "\(dir)/EXPECTED-FAILURES"
        let expected = ExpectedFailures.parse(fm.fileExists(atPath: listPath) ? try readTextFile(listPath) : "")

        var rows: [(report: DiffReport, status: ConformanceStatus)] = []
        var passed = 0, failed = 0, expectedFails = 0, unexpectedPasses = 0
        var modelTotal = 0.0, kernelTotal = 0.0
        var missingFixtures = 0
        if log != nil && paths.count != 1 {
            printError("memhp conformance: --log needs exactly one scenario")
            throw ExitCode(2)
        }
        for path in paths {
            let sc = try loadScenario(path)
            let fixtureDir = (path as NSString).deletingLastPathComponent
            let fixture = "\(fixtureDir)/\(sc.name).kernel.txt"
            let t0 = Date()
            let modelText: String
            if let log {
                do { modelText = try readTextFile(log) } catch {
                    printError("memhp conformance: cannot read \(describe(error))")
                    throw ExitCode(2)
                }
            } else {
                modelText = ModelRunner(scenario: sc).run().text
            }
            let modelSeconds = Date().timeIntervalSince(t0)
            if let save = saveModelLogs {
                try? fm.createDirectory(atPath: save, withIntermediateDirectories: true)
                try writeTextFile(modelText, to: "\(save)/\(sc.name).model.txt")
            }

            // Every output the kernel gave (KernelVariants): the fixture, then NAME.kernel.N.txt.
            var kernelFiles: [(path: String, text: String)] = []
            if live {
                if let t = try liveKernelLog(sc) { kernelFiles = [("(live kernel run)", t)] }
            } else {
                // A fixture that cannot be read is an error, never a fixture less.
                kernelFiles = try KernelVariants.paths(dir: fixtureDir, stem: sc.name).map { p in
                    (p, try readTextFile(p))
                }
            }
            guard !kernelFiles.isEmpty else {
                // A scenario named on the command line without a fixture compares nothing:
                // that is a failure, not a pass.
                printError("memhp conformance: \(sc.name): no fixture \(fixture)")
                missingFixtures += 1
                continue
            }
            var sideRanges: [RangeRule] = []
            let side = "\(fixtureDir)/\(sc.name).ranges"
            if fm.fileExists(atPath: side) {
                let t = try readTextFile(side)
                do { sideRanges = try RangeRule.parseFile(t) } catch let e as RangeRule.ParseError {
                    FileHandle.standardError.write(Data("\(side):\(e.line): \(e.message)\n".utf8))
                    throw ExitCode(2)
                }
            }
            let report = try KernelVariants.closest(
                scenario: sc.name, kernels: kernelFiles.map(\.text), model: ObservationLog.parse(modelText).log
            ) { i in
                do { return try RangeRule.parseEmbedded(kernelFiles[i].text) + sideRanges } catch let e
                    as RangeRule.ParseError
                {
                    FileHandle.standardError.write(Data("\(kernelFiles[i].path):\(e.line): \(e.message)\n".utf8))
                    throw ExitCode(2)
                }
            }
            // A log given with --log is judged on its own: EXPECTED-FAILURES is about the model.
            let status = ConformanceStatus(
                passed: report.passed, expected: log == nil && expected.reason(sc.name) != nil)
            rows.append((report, status))
            switch status {
            case .pass: passed += 1
            case .fail: failed += 1
            case .expectedFailure: failed += 1; expectedFails += 1
            case .unexpectedPass: passed += 1; unexpectedPasses += 1
            }
            if !table {
                print(report.render(limit: limit, status: status), terminator: "")
                if status == .expectedFailure { print("  expected failure: \(expected.reason(sc.name) ?? "")") }
                if status == .unexpectedPass {
                    print("  UNEXPECTED PASS: \(sc.name) is listed in \(dir)/EXPECTED-FAILURES; take it off the list")
                }
                if log != nil { continue }
                var timing = "  time: model \(String(format: "%.3f", modelSeconds)) s"
                if let k = report.kernelSeconds {
                    timing +=
                        ", kernel \(String(format: "%.1f", k)) s (\(String(format: "%.0f", k / max(modelSeconds, 1e-6)))× faster)"
                    kernelTotal += k
                }
                print(timing)
            } else if let k = report.kernelSeconds {
                kernelTotal += k
            }
            modelTotal += modelSeconds
        }
        if table { print(ConformanceFormat.markdownTable(rows), terminator: "") }
        var closing = "\(passed) passed, \(failed) failed"
        if expectedFails > 0 { closing += " (\(expectedFails) expected, listed in EXPECTED-FAILURES)" }
        if unexpectedPasses > 0 { closing += "; \(unexpectedPasses) listed as expected failures now pass" }
        if kernelTotal > 0 {
            closing +=
                "; model \(String(format: "%.2f", modelTotal)) s vs kernel \(String(format: "%.1f", kernelTotal)) s"
        }
        if missingFixtures > 0 { closing += "; \(missingFixtures) without a fixture" }
        print(closing)
        if rows.contains(where: { !$0.status.ok }) || missingFixtures > 0 { throw ExitCode(1) }
    }

    /// The directory as an absolute path, for messages that say where memhp looked.
    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// `--harness-check`: the real kernel today must still produce the committed fixture
    /// (structural observations equal, counters within tolerance), which proves kernel-run
    /// and the guest runner still work. Prints one line per scenario naming both kernels when
    /// they differ (`HarnessCheck`'s rule) and no pass/fail tally.
    func checkHarness() throws {
        var bad = 0
        for s in scenarios {
            let path = s.hasSuffix(".scn") || s.contains("/") ? s : "\(dir)/\(s).scn"
            let sc = try loadScenario(path)
            let fixtureDir = (path as NSString).deletingLastPathComponent
            let recordedRuns = KernelVariants.paths(dir: fixtureDir, stem: sc.name).compactMap {
                try? String(contentsOfFile: $0, encoding: .utf8)
            }
            guard !recordedRuns.isEmpty else {
                print("harness-check \(sc.name): no fixture \(fixtureDir)/\(sc.name).kernel.txt"); bad += 1; continue
            }
            guard let live = try liveKernelLog(sc) else { bad += 1; continue }
            // The fresh run must agree with one of the kernel's recorded outputs (KernelVariants).
            let report = try KernelVariants.closest(
                scenario: sc.name, kernels: recordedRuns, model: ObservationLog.parse(live).log
            ) { try RangeRule.parseEmbedded(recordedRuns[$0]) }
            let recorded = recordedRuns[report.variant - 1]
            let verdict = HarnessCheck.verdict(
                scenario: sc.name, fixture: KernelIdentity(log: recorded),
                live: KernelIdentity(log: live), report: report)
            print(verdict.message)
            if !verdict.ok { bad += 1 }
            if !report.passed { print(report.render(limit: limit), terminator: "") }
        }
        if bad > 0 { throw ExitCode(1) }
    }

    /// Runs the scenario on the real kernel (`memhp kernel-run`'s library) when it is linked in.
    func liveKernelLog(_ sc: Scenario) throws -> String? {
        #if canImport(KernelRunner)
        guard let kernel = KernelInstall.newestCached() else {
            FileHandle.standardError.write(
                Data("memhp: --live: no kernel in \(KernelInstall.defaultCache); run scripts/kernel-setup.sh\n".utf8))
            throw ExitCode(1)
        }
        var opt = KernelRunOptions(kernel: kernel)
        opt.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        return try KernelRunner(scenario: sc, options: opt).run().text
        #else
        FileHandle.standardError.write(
            Data("memhp: --live: this build has no kernel runner (the KernelRunner target is not linked)\n".utf8))
        throw ExitCode(1)
        #endif
    }
}
