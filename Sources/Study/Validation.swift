import Foundation

/// One validation point: the model's outcome frequencies beside the real kernel's.
public struct ValidationRow: Sendable, Codable, Equatable {
    public var point: String
    /// `uname -r` and the package of the kernel that produced the fixtures.
    public var kernel: String
    public var kernelRuns: Int
    public var kernelOutcomes: [String: Int]
    public var kernelAllOffline: Int
    /// The model on the very scenarios the kernel ran.
    public var modelSameRuns: Int
    public var modelSameOutcomes: [String: Int]
    public var modelSameAllOffline: Int
    /// The model over more seeds (randomized workloads) of the same point.
    public var modelRuns: Int
    public var modelOutcomes: [String: Int]
    public var modelAllOffline: Int
    public var modelAllOfflineCI: Proportion
    public var kernelAllOfflineCI: Proportion
}

/// The points checked against Linux 6.1 under QEMU (`memhp kernel-run`), on a machine small
/// enough for TCG: 1 GiB boot memory and a 1 GiB DIMM (blocks 32-39). Their scenario files and
/// the kernel's logs live in tests/study/validation/ (NAME-repK.scn, NAME-repK.kernel.txt).
public enum StudyValidation {
    public static let machine = StudyMachine(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimmBytes: 1 << 30)
    public static let offlineTimeout = 5
    public static let kernelRepetitions = 3
    public static let modelRepetitions = 10
    public static let seed: UInt64 = 1

    static func pt(_ pool: Int, _ hvo: Bool, _ pressure: String, _ online: String, _ nodes: Int) -> StudyPoint {
        StudyPoint(
            poolPercent: pool, pageSize: .m2, hvo: hvo, pressure: try! Pressure.parse(pressure),
            online: try! OnlinePolicy.parse(online), nodes: nodes)
    }

    /// Five points that cover every outcome: clean offline with HVO, seed case 3 (ENOMEM from
    /// the vmemmap restore, kernel zones full) with and without HVO, ramfs in kernel blocks
    /// (spin until signal, EBUSY), long-term pins with half the DIMM movable.
    public static let points: [StudyPoint] = [
        pt(25, true, "none", "movable", 1),
        pt(25, true, "fill:2M", "movable", 2),
        pt(25, false, "fill:2M", "movable", 2),
        pt(0, false, "ramfs:64M", "kernel", 1),
        pt(25, true, "pinned:64M", "movable:50", 1)
    ]

    public static func fileName(_ p: StudyPoint, rep: Int) -> String {
        p.id.replacingOccurrences(of: ":", with: "_") + "-rep\(rep + 1)"
    }

    static func executor(_ p: StudyPoint, reps: Int) throws -> StudyExecutor {
        let grid = StudyGrid(
            poolPercents: [p.poolPercent], pageSizes: [p.pageSize], hvo: [p.hvo], pressures: [p.pressure],
            online: [p.online], nodes: [p.nodes], repetitions: reps, seed: seed)
        return try StudyExecutor(machine: machine, grid: grid, offlineTimeout: offlineTimeout)
    }

    /// Writes the validation scenarios (what scripts/study-validate.sh runs on the kernel).
    public static func writeScenarios(to dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var out: [String] = []
        for p in points {
            let ex = try executor(p, reps: kernelRepetitions)
            for spec in ex.allSpecs {
                let path = dir + "/" + fileName(p, rep: spec.rep) + ".scn"
                try ex.scenarioText(spec).write(toFile: path, atomically: true, encoding: .utf8)
                out.append(path)
            }
        }
        return out
    }

    static func count(_ rs: [RunRecord]) -> [String: Int] {
        var c: [String: Int] = [:]
        for o in BlockOutcome.allCases { c[o.rawValue] = rs.flatMap(\.blocks).filter { $0.outcome == o }.count }
        return c
    }

    /// Reads the kernel's logs in `dir` and runs the model beside them. Points without a kernel
    /// log are left out (never faked).
    public static func rows(fixtures dir: String, workers: Int) throws -> [ValidationRow] {
        var rows: [ValidationRow] = []
        for p in points {
            let ex = try executor(p, reps: max(kernelRepetitions, modelRepetitions))
            let specs = ex.allSpecs
            var kernelRuns: [RunRecord] = [], kernelName = "", kernelReps: [Int] = []
            for spec in specs.prefix(kernelRepetitions) {
                let path = dir + "/" + fileName(p, rep: spec.rep) + ".kernel.txt"
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if let k = lines.first(where: { $0.hasPrefix("# kernel: ") }) { kernelName = String(k.dropFirst(10)) }
                let completed = lines.contains { $0.hasPrefix("end completed=1") }
                kernelRuns.append(
                    RunLogParser.parse(lines, spec: spec, poolRequested: p.poolPages(machine), completed: completed))
                kernelReps.append(spec.rep)
            }
            guard !kernelRuns.isEmpty else { continue }
            let model = ex.run(specs, workers: workers)
            let same = model.filter { kernelReps.contains($0.rep) }
            rows.append(
                ValidationRow(
                    point: p.id, kernel: kernelName, kernelRuns: kernelRuns.count, kernelOutcomes: count(kernelRuns),
                    kernelAllOffline: kernelRuns.filter(\.allOffline).count,
                    modelSameRuns: same.count, modelSameOutcomes: count(same),
                    modelSameAllOffline: same.filter(\.allOffline).count,
                    modelRuns: model.count, modelOutcomes: count(model),
                    modelAllOffline: model.filter(\.allOffline).count,
                    modelAllOfflineCI: Proportion(model.filter(\.allOffline).count, of: model.count),
                    kernelAllOfflineCI: Proportion(kernelRuns.filter(\.allOffline).count, of: kernelRuns.count)))
        }
        return rows
    }
}
