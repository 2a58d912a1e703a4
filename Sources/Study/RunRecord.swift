import Scenario

/// How one `echo offline > memoryN/state` ended, with the kernel's reason.
public enum BlockOutcome: String, Sendable, Codable, CaseIterable {
    /// offline_pages() succeeded: the block is offline.
    case offline
    /// EBUSY: start_isolate_page_range() found an unmovable page (slab, ramfs, a pinned page
    /// outside ZONE_MOVABLE, a gigantic page it cannot migrate), or the block spans zones.
    case ebusy = "EBUSY"
    /// ENOMEM: a free HVO huge page could not get its vmemmap back (hugetlb_vmemmap_restore
    /// from dissolve_free_huge_page), or migration found no target.
    case enomem = "ENOMEM"
    /// EINTR: do_migrate_range() kept retrying (ramfs, long-term pins) until the writer's
    /// signal (the scenario's deadline) arrived.
    case spin = "EINTR"
    /// Any other errno (kept in the raw log).
    case other

    public var label: String {
        switch self {
        case .offline: "offlined"
        case .ebusy: "EBUSY (unmovable page)"
        case .enomem: "ENOMEM (vmemmap restore)"
        case .spin: "EINTR (spun until signal)"
        case .other: "other error"
        }
    }
}

/// One block's offline attempt.
public struct BlockResult: Sendable, Codable, Equatable {
    public var block: Int
    public var outcome: BlockOutcome
}

/// The result of one run: one row of runs.csv.
public struct RunRecord: Sendable, Codable, Equatable {
    public var index: Int
    public var point: String
    public var rep: Int
    public var seed: UInt64
    public var poolPercent: Int
    public var pageSize: String
    public var hvo: Bool
    public var pressure: String
    public var online: String
    public var nodes: Int
    /// Huge pages asked for and obtained (hstate nr after the write).
    public var poolRequested: Int
    public var poolPages: Int
    /// The pool after the offline attempts, and how many huge pages went (dissolved or freed
    /// with their block).
    public var poolAfter: Int
    public var dissolved: Int
    /// What HVO saved: the pool's size in base pages minus what creating it took from the free
    /// lists (zoneinfo free + pcp over all zones), in KiB. About 0 with HVO off.
    public var savedKB: Int
    /// pgmigrate_success over the offline attempts.
    public var migrated: Int
    public var blocks: [BlockResult]
    /// Every step ran (false: the model could not boot or perform a step).
    public var completed: Bool

    public var blocksOffline: Int { blocks.filter { $0.outcome == .offline }.count }
    public var allOffline: Bool { completed && !blocks.isEmpty && blocks.allSatisfy { $0.outcome == .offline } }
}

/// Reads a run's observation log (the model's or the kernel's: the same format) into a record.
public enum RunLogParser {
    public static func parse(_ lines: [String], spec: RunSpec, poolRequested: Int, completed: Bool) -> RunRecord {
        let pt = spec.point
        let sizeKB = String(pt.pageSize.bytes >> 10)
        var phase = ""
        var freeBefore: Int?, freeAfter = 0, zonesSeen = 0
        var zoneSum = 0
        var poolPages = 0, poolAfter = 0
        var migBefore = 0, migAfter = 0
        var blocks: [BlockResult] = []
        var finished = false
        var lastKind = ""
        func flushZones() {
            guard lastKind == "zone" else { return }
            if freeBefore == nil { freeBefore = zoneSum } else if zonesSeen == 1 { freeAfter = zoneSum }
            zonesSeen += 1
            zoneSum = 0
        }
        for line in lines {
            // Most of a log is kmsg; parse only the kinds read here.
            guard
                line.hasPrefix("zone ") || line.hasPrefix("step ") || line.hasPrefix("hstate ")
                    || line.hasPrefix("vmstat ")
                    || line.hasPrefix("write ") || line.hasPrefix("end ") || line.hasPrefix("scenario_exit "),
                let o = try? Observation.parse(line)
            else { continue }
            if o.kind != "zone" { flushZones() }
            lastKind = o.kind
            switch o.kind {
            case "step": phase = o["label"] ?? ""
            case "zone": zoneSum += (Int(o["free"] ?? "") ?? 0) + (Int(o["pcp"] ?? "") ?? 0)
            case "hstate" where o["size_kB"] == sizeKB:
                let nr = Int(o["nr"] ?? "") ?? 0
                if phase == "pool" { poolPages = nr } else if phase == "after" { poolAfter = nr }
            case "vmstat":
                let v = Int(o["pgmigrate_success"] ?? "") ?? 0
                if phase == "offline" { migBefore = v } else if phase == "after" { migAfter = v }
            case "write" where phase == "offline" && o["value"] == "offline":
                guard let path = o["path"], let r = path.range(of: "/memory/memory"),
                    let b = Int(path[r.upperBound...].prefix(while: \.isNumber))
                else { continue }
                let outcome: BlockOutcome
                if o["rc"] == "0" {
                    outcome = .offline
                } else {
                    outcome = BlockOutcome(rawValue: o["errno"] ?? "") ?? .other
                }
                blocks.append(
                    BlockResult(block: b, outcome: outcome == .offline || o["timed_out"] != "1" ? outcome : .spin))
            case "end", "scenario_exit": finished = true
            default: break
            }
        }
        flushZones()
        _ = finished
        let cost = (freeBefore ?? 0) - freeAfter
        let saved = poolPages * pt.pageSize.basePages - cost
        return RunRecord(
            index: spec.index, point: pt.id, rep: spec.rep, seed: spec.seed, poolPercent: pt.poolPercent,
            pageSize: pt.pageSize.rawValue, hvo: pt.hvo, pressure: pt.pressure.description,
            online: pt.online.description, nodes: pt.nodes, poolRequested: poolRequested,
            poolPages: poolPages, poolAfter: poolAfter, dissolved: max(0, poolPages - poolAfter),
            savedKB: zonesSeen >= 2 ? saved * 4 : 0, migrated: max(0, migAfter - migBefore),
            blocks: blocks, completed: completed)
    }
}
