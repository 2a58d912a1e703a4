import ArgumentParser
import Conformance
import Foundation
import KernelRunner
import Scenario

/// `memhp campaign`: the random differential campaign against the real kernel (issue 15).
struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract:
            "Random differential campaign: generate seeded scenarios, record them on the real kernel, check the model.",
        subcommands: [Generate.self, Record.self, Check.self])

    static func seeds(_ s: String) throws -> [Int] {
        guard let v = Campaign.parseSeeds(s) else {
            throw ValidationError(
                "--seeds: expected N, A..B or a comma list of seeds >= 0 (at most \(Campaign.maxSeeds)), got \(s)")
        }
        return v
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write tests/campaign/seed-N.scn for each seed.")
        @Option(help: "Seeds: N, A..B (inclusive) or a comma list.") var seeds = "0..199"
        @Option(help: "Output directory.") var out = "tests/campaign"

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for s in try CampaignCommand.seeds(seeds) {
                let text = CampaignGenerator.scenario(seed: s)
                let path = "\(out)/\(Campaign.stem(s)).scn"
                _ = try Scenario.parse(text, file: path)  // the generator's output must parse
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run seeds on the real kernel until each has --runs runs; keep every distinct output as an accepted variant.",
            discussion:
                "Resumable: RUNS in the directory counts the runs behind each seed's variants; seeds with enough runs are skipped. One QEMU at a time."
        )
        @Option(help: "Seeds: N, A..B (inclusive) or a comma list.") var seeds = "0..199"
        @Option(help: "Campaign directory.") var dir = "tests/campaign"
        @Option(help: "Kernel runs per seed.") var runs = 2
        @Flag(help: "Boot the compressed vmlinuz rather than the PVH ELF (same guest, slower).") var bzimage = false

        func run() throws {
            guard let kernel = KernelInstall.newestCached() else {
                FileHandle.standardError.write(
                    Data("memhp: no kernel in \(KernelInstall.defaultCache); run scripts/kernel-setup.sh\n".utf8))
                throw ExitCode(1)
            }
            let runsPath = "\(dir)/RUNS"
            let guest = try GuestSource.fingerprint()
            for s in try CampaignCommand.seeds(seeds) {
                var table = Campaign.Runs.parse((try? String(contentsOfFile: runsPath, encoding: .utf8)) ?? "")
                var done = table.runs[s]
                if let d = done, d.kernel != kernel.abi {
                    FileHandle.standardError.write(
                        Data(
                            "memhp: \(Campaign.stem(s)) was recorded on \(d.kernel), the cache has \(kernel.abi); skipped\n"
                                .utf8))
                    continue
                }
                if let d = done, d.guest != guest {
                    // Runs of another runner build are not runs of this one: the runner's own
                    // memory is part of what the kernel reports.
                    FileHandle.standardError.write(
                        Data(
                            "memhp: \(Campaign.stem(s)) was recorded with guest runner \(d.guest ?? "(unnamed)"), this build's is \(guest); skipped (remove its RUNS line and kernel files to record it again)\n"
                                .utf8))
                    continue
                }
                var failures = 0
                while (done?.count ?? 0) < runs {
                    let sc = try loadScenario("\(dir)/\(Campaign.stem(s)).scn")
                    var opt = KernelRunOptions(kernel: kernel)
                    opt.pvh = !bzimage
                    opt.log = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
                    let t0 = Date()
                    let result = try KernelRunner(scenario: sc, options: opt).run()
                    guard result.recordable else {
                        // A run that did not finish is no variant: say so, keep its console, leave the seed for later.
                        let console = "\(NSTemporaryDirectory())/\(sc.name).console.txt"
                        try? result.console.write(toFile: console, atomically: true, encoding: .utf8)
                        FileHandle.standardError.write(
                            Data(
                                "memhp: \(sc.name) did not complete: \(result.failure ?? "?"); not recorded (console: \(console))\n"
                                    .utf8))
                        // TCG under load sometimes fails the boot's IO-APIC timer check (a panic
                        // before any step): try again, at most three times per seed.
                        failures += 1
                        if failures < 3 { continue }
                        break
                    }
                    let lines = Campaign.lines(result.text)
                    let existing = Campaign.variantPaths(dir: dir, seed: s)
                    let known = existing.contains {
                        Campaign.lines((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "") == lines
                    }
                    if !known {
                        let path =
                            existing.isEmpty
                            ? "\(dir)/\(sc.name).kernel.txt" : "\(dir)/\(sc.name).kernel.\(existing.count + 1).txt"
                        try result.text.write(toFile: path, atomically: true, encoding: .utf8)
                    }
                    done = Campaign.Runs.Entry(count: (done?.count ?? 0) + 1, kernel: kernel.abi, guest: guest)
                    table = Campaign.Runs.parse((try? String(contentsOfFile: runsPath, encoding: .utf8)) ?? "")
                    table.runs[s] = done
                    try table.text.write(toFile: runsPath, atomically: true, encoding: .utf8)
                    print(
                        "\(sc.name) run \(done!.count): \(known ? "same as a recorded variant" : "new variant") (\(String(format: "%.0f", Date().timeIntervalSince(t0))) s)"
                    )
                }
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run every recorded seed on the model and compare it with the kernel's variants.",
            discussion: """
                Prints each differing seed's line diff (- kernel, + model) and the figures per machine \
                shape. Seeds listed in EXPECTED-DIFFERENCES (SEED cause) may differ; a listed seed that is \
                identical is reported, so the list stays honest. Exit status 1 on an unlisted difference \
                or a listed seed that agrees.
                """)
        @Option(help: "Seeds (default: every seed with a recorded variant).") var seeds: String?
        @Option(help: "Campaign directory.") var dir = "tests/campaign"
        @Option(help: "Diff lines shown per seed.") var limit = 20
        @Flag(help: "Only the figures.") var quiet = false

        func run() throws {
            let fm = FileManager.default
            var list: [Int]
            if let seeds {
                list = try CampaignCommand.seeds(seeds)
            } else {
                list = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).compactMap { f in
                    guard f.hasPrefix("seed-"), f.hasSuffix(".kernel.txt") else { return nil }
                    return Int(f.dropFirst(5).prefix { $0.isNumber })
                }.sorted()
            }
            // A list or a kernel log that cannot be read is an error, never an empty one.
            let listPath = "\(dir)/EXPECTED-DIFFERENCES"
            let expected = ExpectedFailures.parse(fm.fileExists(atPath: listPath) ? try readTextFile(listPath) : "")
            var results: [Campaign.SeedResult] = []
            var bad = 0
            for s in list {
                let variants = try Campaign.variantPaths(dir: dir, seed: s).map { try readTextFile($0) }
                guard !variants.isEmpty else { continue }
                let sc = try loadScenario("\(dir)/\(Campaign.stem(s)).scn")
                let model = ModelRunner(scenario: sc).run()
                let r = Campaign.compare(
                    seed: s, shape: CampaignGenerator.shape(seed: s).name, model: model.text, variants: variants,
                    limit: limit)
                results.append(r)
                let listed = expected.reason(Campaign.stem(s))
                if !r.identical {
                    if listed == nil { bad += 1 }
                    if !quiet {
                        print(
                            "\(Campaign.stem(s)) (\(r.shape)): differs from \(variants.count) variant(s); closest \(r.variant + 1), \(r.matchedLines)/\(r.kernelLines) lines"
                                + (listed.map { " — expected: \($0)" } ?? ""))
                        for l in r.diff { print("  " + l) }
                    }
                } else if listed != nil {
                    bad += 1
                    print("\(Campaign.stem(s)): identical but listed in EXPECTED-DIFFERENCES; take it off the list")
                }
            }
            print(Campaign.table(results), terminator: "")
            if bad > 0 { throw ExitCode(1) }
        }
    }
}
