import ArgumentParser
import Foundation
import MemoryModel
import Snapshot
import Study

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `memhp study`: sweeps that answer the seed's question with numbers (Sources/Study).
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study", abstract: "Sweep HVO's saving against the risk of offline failure; merge shards.",
        subcommands: [StudyHVOCommand.self, StudyMergeCommand.self, StudyValidationScenariosCommand.self])
}

/// Set by SIGINT: no new run starts, the finished ones are written.
nonisolated(unsafe) var studyInterrupted: Int32 = 0

struct StudyHVOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hvo", abstract: "Run the HVO saving/offline-risk sweep and write CSV, JSON and an HTML report.")

    @Option(help: "Boot memory (-m).") var mem: String = "2G"
    @Option(help: "maxmem=.") var maxmem: String = "8G"
    @Option(help: "slots=.") var slots: Int = 4
    @Option(help: "The hot-pluggable DIMM (cold-plugged on node 0); its blocks are onlined, then offlined.") var dimm:
        String = "2G"
    @Option(help: "Kernel command line (-append).") var cmdline: String = ""

    @Option(help: "Pool sizes, % of RAM (comma separated).") var pool: String = "10,25,50"
    @Option(help: "Huge page sizes: 2M, 1G.") var pageSize: String = "2M,1G"
    @Option(help: "HVO settings: off, on.") var hvo: String = "off,on"
    @Option(
        help:
            "Kernel-memory pressure levels: none, slab:SIZE (unreclaimable slab), pagetable:SIZE (user page tables), ramfs:SIZE, pinned:SIZE, fill:MARGIN."
    ) var pressure: String = "none,slab:256M,pagetable:64M,pinned:128M,fill:64M,fill:16M,fill:2M"
    @Option(help: "How the DIMM is onlined: movable, kernel, movable:PERCENT, auto-movable.") var online: String =
        "movable,movable:50"
    @Option(help: "NUMA node counts (1 or 2; boot memory split evenly).") var nodes: String = "1"
    @Option(help: "Seeded repetitions per point.") var reps: Int = 3
    @Option(help: "Seed of every randomized workload.") var seed: UInt64 = 1
    @Option(help: "Seconds an offline write may spin before its signal (virtual time).") var offlineTimeout: Int = 1
    @Option(name: .shortAndLong, help: "Output directory.") var output: String = "study-out"
    @Option(help: "Worker threads (default: every core).") var jobs: Int?
    @Option(help: "Run only shard K of N (1-based), e.g. 2/4; join with `memhp study merge`.") var shard: String?
    @Option(help: "Kernel validation fixtures (NAME-repK.kernel.txt) shown beside the model; 'none' to skip.")
    var validation: String = "tests/study/validation"
    @Flag(help: "Plain progress lines even on a terminal.") var plain = false
    @Option(
        help:
            "Write every run's scenario file (memhp run / kernel-run take them) into this directory instead of running."
    )
    var emitScenarios: String?
    @OptionGroup var host: SnapshotOptions

    func list(_ s: String) -> [String] {
        s.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }

    func grid() throws -> StudyGrid {
        let pools = try list(pool).map { s -> Int in
            guard let v = Int(s) else { throw StudyError("--pool: '\(s)' is not a whole percentage") }; return v
        }
        let sizes = try list(pageSize).map { s -> HugePageSize in
            guard let v = HugePageSize(rawValue: s) else { throw StudyError("--page-size: '\(s)' is not 2M or 1G") };
            return v
        }
        let hvos = try list(hvo).map { s -> Bool in
            switch s {
            case "on", "1": return true;
            case "off", "0": return false;
            default: throw StudyError("--hvo: '\(s)' is not on or off")
            }
        }
        let ns = try list(nodes).map { s -> Int in
            guard let v = Int(s) else { throw StudyError("--nodes: '\(s)' is not a number") }; return v
        }
        return StudyGrid(
            poolPercents: pools, pageSizes: sizes, hvo: hvos, pressures: try list(pressure).map(Pressure.parse),
            online: try list(online).map(OnlinePolicy.parse), nodes: ns, repetitions: reps, seed: seed)
    }

    /// A host's machine for `--snapshot`: decoded once, booted afresh for every run. Its offline
    /// blocks play the DIMM (onlined as the point says, then offlined); its node count is the
    /// grid's only one; the pool is a share of its RAM.
    func snapshotMachine() throws -> (StudyMachine, nodes: Int, boot: @Sendable (MachineConfig) throws -> Machine)? {
        guard let path = host.snapshot else { return nil }
        let a = try host.assumptions()
        let (s, c) = try SnapshotFile.read(path)
        guard let census = c, census.endPFN > 0 else { throw StudyError("--snapshot \(path):2: no page census") }
        let probe: Machine
        do { probe = try SnapshotMachine.boot(s, census: census, assumptions: a, seed: seed, source: path) } catch let e
            as SnapshotMachine.Unusable
        {
            throw StudyError("--snapshot \(e.description)")
        }
        let offline = probe.blocks.values.filter { $0.state == .offline }
        guard !offline.isEmpty else {
            throw StudyError(
                "--snapshot \(path): the host has no offline memory block for the study to online and offline (its hot-pluggable memory)"
            )
        }
        let nodes = probe.nodes.filter(\.exists).count
        guard (1...2).contains(nodes) else {
            throw StudyError("--snapshot \(path): \(nodes) nodes; the study models 1 or 2")
        }
        let blockBytes = probe.blockPages << 12
        let online = probe.blocks.count - offline.count
        let m = StudyMachine(
            memBytes: online * blockBytes, maxmemBytes: probe.blocks.count * blockBytes, slots: 1,
            dimmBytes: offline.count * blockBytes, cmdline: s.cmdline ?? "")
        return (
            m, nodes,
            { cfg in try SnapshotMachine.boot(s, census: census, assumptions: a, seed: cfg.seed, source: path) }
        )
    }

    /// Where the study's machine is built: QEMU's shape from the options (`--snapshot`: see above).
    func machine() throws -> StudyMachine {
        let m = StudyMachine(
            memBytes: try parseSize(mem, option: "--mem"), maxmemBytes: try parseSize(maxmem, option: "--maxmem"),
            slots: slots, dimmBytes: try parseSize(dimm, option: "--dimm"), cmdline: cmdline)
        guard m.memBytes + m.dimmBytes <= m.maxmemBytes else {
            throw StudyError("--dimm \(dimm): boot memory plus the DIMM exceed maxmem \(maxmem)")
        }
        guard m.dimmBytes % (128 << 20) == 0, m.dimmBytes > 0 else {
            throw StudyError("--dimm \(dimm): must be a positive multiple of 128M (a memory block)")
        }
        guard slots >= 1 else { throw StudyError("--slots: the DIMM needs a slot") }
        return m
    }

    func run() throws {
        do { try runStudy() } catch let e as StudyError { throw ValidationError(e.message) }
    }

    func runStudy() throws {
        let fromSnapshot = try snapshotMachine()
        let m = try fromSnapshot?.0 ?? machine()
        var g = try grid()
        if let n = fromSnapshot?.nodes { g.nodes = [n] }
        let sh = try shard.map(Shard.parse)
        if let j = jobs, j < 1 { throw StudyError("--jobs: \(j); at least 1") }
        try g.validate(machine: m)
        try StudyResult.checkOutputDirectory(output)
        let executor =
            try fromSnapshot.map {
                try StudyExecutor(machine: m, grid: g, offlineTimeout: offlineTimeout, boot: $0.boot)
            }
            ?? StudyExecutor(machine: m, grid: g, offlineTimeout: offlineTimeout)
        let specs = executor.allSpecs.filter { sh?.owns($0.index) ?? true }
        if let dir = emitScenarios {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for spec in specs {
                let name = "\(spec.point.id.replacingOccurrences(of: ":", with: "_"))-rep\(spec.rep + 1).scn"
                try executor.scenarioText(spec).write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            }
            print("wrote \(specs.count) scenario files to \(dir)")
            return
        }
        let workers = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let progress = StudyProgress(total: specs.count, terminal: !plain && isatty(STDERR_FILENO) == 1)
        signal(SIGINT) { _ in studyInterrupted = 1 }
        progress.start(workers: workers)
        let runs = executor.run(
            specs, workers: workers, progress: { done, total in progress.update(done) }, stop: { studyInterrupted != 0 }
        )
        let interrupted = runs.count < specs.count
        progress.finish(interrupted: interrupted)
        signal(SIGINT, SIG_DFL)
        var validationRows: [ValidationRow]?
        if sh == nil, !interrupted, validation != "none", FileManager.default.fileExists(atPath: validation) {
            validationRows = try StudyValidation.rows(fixtures: validation, workers: workers)
        }
        let result = StudyResult(
            machine: m, grid: g, offlineTimeout: offlineTimeout, shard: sh, complete: !interrupted,
            runs: runs, validation: validationRows)
        try result.write(to: output)
        print(result.summary, terminator: "")
        print("wrote \(output)/study.json, runs.csv, points.csv, report.html")
        if interrupted { throw ExitCode(130) }
    }
}

struct StudyMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join `--shard K/N` results (their study.json files or directories) into one study.")
    @Argument(help: "Shard outputs: directories or study.json files.") var shards: [String] = []
    @Option(name: .shortAndLong, help: "Output directory.") var output: String = "study-out"
    @Option(help: "Kernel validation fixtures shown beside the model, as `study hvo` does; 'none' to skip.")
    var validation: String = "tests/study/validation"

    func run() throws {
        do {
            guard !shards.isEmpty else { throw StudyError("merge: no shard results given") }
            try StudyResult.checkOutputDirectory(output)
            let parts = try shards.map { p -> (String, StudyResult) in
                var isDir: ObjCBool = false
                let path =
                    FileManager.default.fileExists(atPath: p, isDirectory: &isDir) && isDir.boolValue
                    ? p + "/study.json" : p
                return (path, try StudyResult.load(path))
            }
            var merged = try StudyResult.merge(parts)
            if validation != "none", FileManager.default.fileExists(atPath: validation) {
                merged.validation = try StudyValidation.rows(
                    fixtures: validation, workers: ProcessInfo.processInfo.activeProcessorCount)
            }
            try merged.write(to: output)
            print(merged.summary, terminator: "")
            print("wrote \(output)/study.json, runs.csv, points.csv, report.html")
        } catch let e as StudyError { throw ValidationError(e.message) }
    }
}

struct StudyValidationScenariosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validation-scenarios",
        abstract: "Write the kernel-validation points as scenario files (for memhp kernel-run).")
    @Argument(help: "Directory.") var dir: String = "tests/study/validation"
    func run() throws {
        for p in try StudyValidation.writeScenarios(to: dir) { print(p) }
    }
}

/// Progress on stderr: a bar with rate and ETA on a terminal, a plain line per 10% otherwise.
final class StudyProgress: @unchecked Sendable {
    let total: Int
    let terminal: Bool
    let start = Date()
    var lastDecile = -1
    var lastDraw = Date.distantPast
    init(total: Int, terminal: Bool) { self.total = total; self.terminal = terminal }

    func start(workers: Int) {
        writeStderr("memhp study: \(total) runs on \(workers) worker\(workers == 1 ? "" : "s")\n")
    }
    func line(_ done: Int) -> String {
        let el = Date().timeIntervalSince(start)
        let rate = el > 0 ? Double(done) / el : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return String(format: "%d/%d runs, %.0f runs/min, ETA %.0f s", done, total, rate * 60, eta)
    }
    func update(_ done: Int) {
        if terminal {
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            let width = 30, filled = total > 0 ? done * width / total : width
            writeStderr(
                "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
                    + line(done) + "   ")
        } else {
            let decile = total > 0 ? done * 10 / total : 10
            guard decile != lastDecile else { return }
            lastDecile = decile
            writeStderr("memhp study: " + line(done) + "\n")
        }
    }
    func finish(interrupted: Bool) {
        if terminal { writeStderr("\n") }
        let el = Date().timeIntervalSince(start)
        if interrupted { writeStderr("memhp study: interrupted; writing the finished runs\n") }
        writeStderr(String(format: "memhp study: done in %.1f s\n", el))
    }
}

/// Text to standard error, unbuffered (the progress bar's carriage returns must show at once).
private func writeStderr(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
