import Foundation
import MemoryModel
import Scenario

/// `--shard K/N`: this process runs every N-th run, starting with the K-th (1-based).
public struct Shard: Sendable, Hashable, Codable, CustomStringConvertible {
    public var k: Int
    public var n: Int
    public static func parse(_ s: String) throws -> Shard {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw StudyError("--shard: '\(s)' is not K/N (e.g. 1/4)")
        }
        guard n >= 1, k >= 1, k <= n else {
            throw StudyError("--shard \(s): K must be between 1 and N (\(n >= 1 ? "1-\(n)" : "N >= 1"))")
        }
        return Shard(k: k, n: n)
    }
    public func owns(_ index: Int) -> Bool { index % n == k - 1 }
    public var description: String { "\(k)/\(n)" }
}

/// Runs a study: every run boots its own Machine (nothing is shared between runs), so runs go
/// in parallel on every core; results land in their grid position, so the output does not
/// depend on which worker finished first.
public final class StudyExecutor: @unchecked Sendable {
    public let machine: StudyMachine
    public let grid: StudyGrid
    public let offlineTimeout: Int
    /// The DIMM's blocks per node count (the layout does not depend on the other factors).
    public let dimmBlocks: [Int: [Int]]
    /// How each run's machine boots: the scenario header's QEMU machine, or (`--snapshot`) a
    /// host's, the header then ignored.
    public let boot: @Sendable (MachineConfig) throws -> Machine

    public init(
        machine: StudyMachine, grid: StudyGrid, offlineTimeout: Int = 10,
        boot: @escaping @Sendable (MachineConfig) throws -> Machine = { try Machine.boot($0) }
    ) throws {
        try grid.validate(machine: machine)
        guard offlineTimeout >= 1 else {
            throw StudyError("--offline-timeout: \(offlineTimeout) s; at least 1 is needed")
        }
        self.machine = machine
        self.grid = grid
        self.offlineTimeout = offlineTimeout
        self.boot = boot
        var blocks: [Int: [Int]] = [:]
        for n in grid.nodes { blocks[n] = try Self.probeDIMMBlocks(machine: machine, nodes: n, boot: boot) }
        dimmBlocks = blocks
    }

    /// Boots the machine once through the scenario runner and reads which blocks are offline
    /// after boot: the cold-plugged DIMM's (the kernel onlines boot memory, not DIMMs, unless
    /// memhp_default_state says so).
    static func probeDIMMBlocks(
        machine: StudyMachine, nodes: Int, boot: @escaping (MachineConfig) throws -> Machine
    ) throws -> [Int] {
        var probePoint = StudyPoint(
            poolPercent: 0, pageSize: .m2, hvo: false, pressure: Pressure(kind: .none, bytes: 0),
            online: .autoMovable, nodes: nodes)
        probePoint.nodes = nodes
        var text = StudyScenario.text(
            RunSpec(index: 0, point: probePoint, rep: 0, seed: 1), machine: machine, dimmBlocks: [], offlineTimeout: 1)
        text = String(text[..<text.range(of: "---\n")!.upperBound]) + "dump blocks\n"
        let sc: Scenario
        do { sc = try Scenario.parse(text, file: "study-probe") } catch {
            throw StudyError("the study's machine: \(error)")
        }
        let r = ModelRunner(scenario: sc, boot: boot).run()
        guard r.completed else {
            throw StudyError(
                "the study's machine does not boot: \(r.lines.first { $0.hasPrefix("# boot failed") } ?? "(no reason)")"
            )
        }
        let blocks = r.lines.compactMap { try? Observation.parse($0) }.filter {
            $0.kind == "block" && $0["state"] == "offline"
        }
        .compactMap { Int($0["idx"] ?? "") }.sorted()
        guard !blocks.isEmpty else {
            throw StudyError("the study's machine has no offline DIMM blocks after boot to online and offline")
        }
        return blocks
    }

    /// Every run of the grid, in order.
    public var allSpecs: [RunSpec] {
        var out: [RunSpec] = []
        for pt in grid.points {
            for rep in 0..<grid.repetitions {
                out.append(
                    RunSpec(
                        index: out.count, point: pt, rep: rep,
                        seed: StudyScenario.runSeed(gridSeed: grid.seed, point: pt, rep: rep)))
            }
        }
        return out
    }

    public func scenarioText(_ spec: RunSpec) -> String {
        StudyScenario.text(
            spec, machine: machine, dimmBlocks: dimmBlocks[spec.point.nodes]!, offlineTimeout: offlineTimeout)
    }

    /// One model run through the scenario runner (KernelFS files, as the guest program does).
    public func run(_ spec: RunSpec) -> RunRecord {
        let text = scenarioText(spec)
        let requested = spec.point.poolPages(machine)
        guard let sc = try? Scenario.parse(text, file: "study:\(spec.point.id)#\(spec.rep + 1)") else {
            return RunLogParser.parse([], spec: spec, poolRequested: requested, completed: false)
        }
        let r = ModelRunner(scenario: sc, boot: boot).run()
        return RunLogParser.parse(r.lines, spec: spec, poolRequested: requested, completed: r.completed)
    }

    /// Runs `specs` on `workers` threads. `progress(done, total)` is called after each run
    /// (serialized); when `stop()` turns true no new run starts and the finished ones are
    /// returned, in grid order.
    public func run(
        _ specs: [RunSpec], workers: Int, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
        stop: @escaping @Sendable () -> Bool = { false }
    ) -> [RunRecord] {
        let queue = RunQueue(count: specs.count)
        let group = DispatchGroup()
        for _ in 0..<max(1, min(workers, specs.count)) {
            group.enter()
            let t = Thread {
                while let i = queue.take(stop: stop) {
                    let rec = self.run(specs[i])
                    queue.finish(i, rec) { progress($0, specs.count) }
                }
                group.leave()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        return queue.results.compactMap { $0 }
    }
}

/// The workers' shared state: the next run to take and the finished records, under one lock.
final class RunQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0, done = 0
    private(set) var results: [RunRecord?]
    init(count: Int) { results = Array(repeating: nil, count: count) }

    /// The next run's position, or nil when all are taken or a stop was requested.
    func take(stop: () -> Bool) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard !stop(), next < results.count else { return nil }
        next += 1
        return next - 1
    }

    /// Stores a record and reports the count done (under the lock, so reports are ordered).
    func finish(_ i: Int, _ rec: RunRecord, report: (Int) -> Void) {
        lock.lock(); defer { lock.unlock() }
        results[i] = rec
        done += 1
        report(done)
    }
}
