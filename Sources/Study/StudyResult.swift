import Foundation

/// Everything a study produced: study.json. A shard's result carries its shard and only its
/// runs; `memhp study merge` joins shards into the result one process would have written.
public struct StudyResult: Sendable, Codable, Equatable {
    public var tool: String = "memhp study hvo v1"
    public var machine: StudyMachine
    public var grid: StudyGrid
    public var offlineTimeout: Int
    public var shard: Shard?
    /// False when the study was interrupted (SIGINT): the runs present are finished and valid.
    public var complete: Bool
    public var runs: [RunRecord]
    public var points: [PointSummary]
    /// Model against the real kernel at the validation points (from committed fixtures).
    public var validation: [ValidationRow]?

    public init(
        machine: StudyMachine, grid: StudyGrid, offlineTimeout: Int, shard: Shard?, complete: Bool,
        runs: [RunRecord], validation: [ValidationRow]? = nil
    ) {
        self.machine = machine; self.grid = grid; self.offlineTimeout = offlineTimeout; self.shard = shard
        self.complete = complete; self.runs = runs; self.validation = validation
        points = StudyAggregate.summarize(runs, points: grid.points, ramBytes: machine.ramBytes)
    }

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        var d = try e.encode(self)
        d.append(0x0a)
        return d
    }

    public static func load(_ path: String) throws -> StudyResult {
        guard let data = FileManager.default.contents(atPath: path) else { throw StudyError("\(path): cannot read it") }
        do { return try JSONDecoder().decode(StudyResult.self, from: data) } catch {
            throw StudyError("\(path): not a memhp study result (\(error))")
        }
    }

    /// Joins shard results: same machine, grid and timeout, shards 1...N of one N, each once,
    /// every run present exactly once.
    public static func merge(_ parts: [(String, StudyResult)]) throws -> StudyResult {
        guard let (firstPath, first) = parts.first else { throw StudyError("merge: no shard results given") }
        var seenShards: Set<Int> = []
        var runs: [Int: RunRecord] = [:]
        for (path, p) in parts {
            guard p.machine == first.machine, p.grid == first.grid, p.offlineTimeout == first.offlineTimeout else {
                throw StudyError("merge: \(path) is a different study (machine, grid or timeout) from \(firstPath)")
            }
            guard p.complete else { throw StudyError("merge: \(path) is an interrupted shard; run it again") }
            guard let s = p.shard, s.n == first.shard?.n else {
                throw StudyError("merge: \(path) is not a shard of the same --shard K/\(first.shard?.n ?? 0) split")
            }
            guard s.n >= 1, (1...s.n).contains(s.k) else {
                throw StudyError("merge: \(path): shard \(s) is not K/N with 1 <= K <= N")
            }
            guard seenShards.insert(s.k).inserted else {
                throw StudyError("merge: shard \(s) is given twice (\(path))")
            }
            for r in p.runs {
                guard runs.updateValue(r, forKey: r.index) == nil else {
                    throw StudyError("merge: run \(r.index) appears twice (\(path))")
                }
            }
        }
        let n = first.shard!.n
        let missing = (1...n).filter { !seenShards.contains($0) }
        guard missing.isEmpty else {
            throw StudyError("merge: shard(s) \(missing.map { "\($0)/\(n)" }.joined(separator: ", ")) missing")
        }
        guard runs.count == first.grid.runCount else {
            throw StudyError("merge: \(runs.count) runs, the grid has \(first.grid.runCount)")
        }
        return StudyResult(
            machine: first.machine, grid: first.grid, offlineTimeout: first.offlineTimeout, shard: nil, complete: true,
            runs: runs.keys.sorted().map { runs[$0]! }, validation: first.validation)
    }

    // MARK: CSV

    static func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

    public var runsCSV: String {
        var out =
            "index,point,rep,seed,pool_percent,page_size,hvo,pressure,online,nodes,pool_requested,pool_pages,pool_after,dissolved,saved_kb,migrated,blocks_tried,blocks_offline,all_offline,completed,block_outcomes\n"
        for r in runs {
            let outcomes = r.blocks.map { "\($0.block):\($0.outcome.rawValue)" }.joined(separator: " ")
            out +=
                "\(r.index),\(r.point),\(r.rep),\(r.seed),\(r.poolPercent),\(r.pageSize),\(r.hvo ? 1 : 0),\(r.pressure),\(r.online),\(r.nodes),\(r.poolRequested),\(r.poolPages),\(r.poolAfter),\(r.dissolved),\(r.savedKB),\(r.migrated),\(r.blocks.count),\(r.blocksOffline),\(r.allOffline ? 1 : 0),\(r.completed ? 1 : 0),\(outcomes)\n"
        }
        return out
    }

    public var pointsCSV: String {
        var out =
            "point,pool_percent,page_size,hvo,pressure,online,nodes,runs,pool_pages,saved_mib,saved_pct_ram,block_offline_p,block_offline_lo,block_offline_hi,all_offline_p,all_offline_lo,all_offline_hi,attempts_offline,attempts_EBUSY,attempts_ENOMEM,attempts_EINTR,attempts_other,migrated_mean,dissolved_mean,pool_after_mean\n"
        for p in points {
            let o = BlockOutcome.allCases.map { String(p.outcomes[$0.rawValue] ?? 0) }.joined(separator: ",")
            out +=
                "\(p.point),\(p.poolPercent),\(p.pageSize),\(p.hvo ? 1 : 0),\(p.pressure),\(p.online),\(p.nodes),\(p.runs),\(Self.f(p.poolPages, 2)),\(Self.f(p.savedMiB, 3)),\(Self.f(p.savedPercentOfRAM, 3)),\(Self.f(p.blockOffline.estimate)),\(Self.f(p.blockOffline.low)),\(Self.f(p.blockOffline.high)),\(Self.f(p.allOffline.estimate)),\(Self.f(p.allOffline.low)),\(Self.f(p.allOffline.high)),\(o),\(Self.f(p.migratedMean, 1)),\(Self.f(p.dissolvedMean, 2)),\(Self.f(p.poolAfterMean, 2))\n"
        }
        return out
    }

    /// The terminal summary: one line per point.
    public var summary: String {
        var lines: [String] = []
        lines.append(
            "memhp study hvo: \(StudySize.format(machine.memBytes)) boot + \(StudySize.format(machine.dimmBytes)) DIMM, \(runs.count) runs over \(points.count) points\(complete ? "" : " (INTERRUPTED: finished runs only)")"
        )
        lines.append(String(repeating: "-", count: 110))
        lines.append(
            pad("point", 44) + pad("saved MiB", 10, right: true) + pad("% RAM", 7, right: true)
                + pad("P(block offline) [95% CI]", 28, right: true) + pad("P(all offline) [95% CI]", 26, right: true))
        for p in points {
            lines.append(
                pad(p.point, 44) + pad(Self.f(p.savedMiB, 1), 10, right: true)
                    + pad(Self.f(p.savedPercentOfRAM, 2), 7, right: true)
                    + pad(ci(p.blockOffline), 28, right: true) + pad(ci(p.allOffline), 26, right: true))
        }
        lines.append(String(repeating: "-", count: 110))
        lines.append(contentsOf: StudyFindings.headline(self))
        return lines.joined(separator: "\n") + "\n"
    }

    func ci(_ p: Proportion) -> String { "\(Self.f(p.estimate, 2)) [\(Self.f(p.low, 2))-\(Self.f(p.high, 2))]" }
    func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(1, n - s.count))
        return right ? fill + s : s + fill
    }

    /// Writes study.json, runs.csv, points.csv and report.html into `dir` (created if missing).
    public func write(to dir: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: dir, isDirectory: &isDir) {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw StudyError("--output \(dir): cannot create the directory (\(error.localizedDescription))")
            }
        } else if !isDir.boolValue {
            throw StudyError("--output \(dir): exists and is not a directory")
        }
        guard fm.isWritableFile(atPath: dir) else { throw StudyError("--output \(dir): the directory is not writable") }
        let files: [(String, Data)] = [
            ("study.json", try json()), ("runs.csv", Data(runsCSV.utf8)), ("points.csv", Data(pointsCSV.utf8)),
            ("report.html", Data(StudyReport.html(self).utf8))
        ]
        for (name, data) in files {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
            do { try data.write(to: url, options: .atomic) } catch {
                throw StudyError("--output \(dir): cannot write \(name) (\(error.localizedDescription))")
            }
        }
    }

    /// Checks an output directory is usable before any run starts (so bad input fails fast):
    /// creates it when missing and writes a probe file (root passes access(2) checks on
    /// directories it still cannot write, like /proc).
    public static func checkOutputDirectory(_ dir: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw StudyError("--output \(dir): exists and is not a directory") }
        } else {
            do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw StudyError("--output \(dir): cannot create the directory (\(error.localizedDescription))")
            }
        }
        let probe = URL(fileURLWithPath: dir).appendingPathComponent(".memhp-study-probe")
        do { try Data().write(to: probe); try fm.removeItem(at: probe) } catch {
            throw StudyError("--output \(dir): the directory is not writable")
        }
    }
}
