import Foundation

/// lsmem-like rendering of predictions: columns chosen by name (`-o`), or JSON.
public enum PredictionTable {
    public static let columns: [(name: String, help: String)] = [
        ("BLOCK", "memory block number"), ("RANGE", "physical address range"), ("SIZE", "block size"),
        ("STATE", "online / offline"), ("ZONE", "the block's zone (valid_zones)"), ("NODE", "NUMA node"),
        ("OFFLINE", "predicted result of `echo offline > state`: ok, the errno, or unknown (no census)"),
        ("REASON", "offline_pages' reason, in the kernel's words"), ("DETAIL", "the page or figures behind the reason"),
        ("MIGRATE", "base pages to migrate"), ("HUGE", "huge pages to migrate/dissolve"),
        ("VMEMMAP", "vmemmap pages HVO must restore"), ("PFN", "first page that decided a failure"),
        ("KIND", "its kind")
    ]
    public static let defaultColumns = [
        "BLOCK", "RANGE", "SIZE", "STATE", "ZONE", "NODE", "OFFLINE", "REASON", "DETAIL"
    ]

    public static func value(_ p: BlockPrediction, _ col: String) -> String {
        switch col {
        case "BLOCK": return "\(p.block)"
        case "RANGE":
            let s = UInt64(p.startPFN) << 12, e = (UInt64(p.startPFN + p.pages) << 12) - 1
            return String(format: "0x%016llx-0x%016llx", s, e)
        case "SIZE": return size(p.pages << 12)
        case "STATE": return p.state
        case "ZONE": return p.zone
        case "NODE": return p.node.map { "\($0)" } ?? "-"
        case "OFFLINE": return p.outcome == .success ? "ok" : p.outcome.rawValue
        case "REASON": return p.reason
        case "DETAIL": return p.detail
        case "MIGRATE": return "\(p.migrate)"
        case "HUGE": return "\(p.hugeMigrate)/\(p.hugeDissolve)"
        case "VMEMMAP": return "\(p.vmemmapNeeded)"
        case "PFN": return p.pfn.map { "0x" + String($0, radix: 16) } ?? "-"
        case "KIND": return p.kind ?? "-"
        default: return "?"
        }
    }

    public static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30)G" }
        return "\(bytes >> 20)M"
    }

    /// Columns padded to their widest cell; the last column is not padded.
    public static func render(_ ps: [BlockPrediction], columns: [String]) -> String {
        var rows = [columns]
        for p in ps { rows.append(columns.map { value(p, $0) }) }
        var widths = Array(repeating: 0, count: columns.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = Swift.max(widths[i], c.count) } }
        var out = ""
        for r in rows {
            var line = ""
            for (i, c) in r.enumerated() {
                line += i == r.count - 1 ? c : c.padding(toLength: widths[i] + 1, withPad: " ", startingAt: 0)
            }
            out += line + "\n"
        }
        return out
    }

    /// One line per outcome: "ok 150, EBUSY 40, ...".
    public static func summary(_ ps: [BlockPrediction]) -> String {
        var c: [BlockPrediction.Outcome: Int] = [:]
        for p in ps { c[p.outcome, default: 0] += 1 }
        return BlockPrediction.Outcome.allCases.compactMap { o in
            c[o].map { "\(o == .success ? "ok" : o.rawValue) \($0)" }
        }.joined(separator: ", ")
    }

    public static func json(_ ps: [BlockPrediction], assumptions: Assumptions, kernel: String?) throws -> String {
        struct Doc: Encodable { var kernel: String?; var assumptions: [String]; var blocks: [BlockPrediction] }
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(
            decoding: try e.encode(Doc(kernel: kernel, assumptions: assumptions.lines, blocks: ps)), as: UTF8.self)
            + "\n"
    }
}
