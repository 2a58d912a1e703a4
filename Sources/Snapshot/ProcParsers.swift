/// Parsers for the procfs text the snapshot reads (formats of mm/vmstat.c, fs/proc/meminfo.c,
/// kernel/resource.c). Unknown lines are skipped: later kernels add fields.
enum ProcParsers {
    /// /proc/zoneinfo: one ZoneSpan per "Node N, zone NAME" section.
    static func zoneinfo(_ text: String) -> [HostSnapshot.ZoneSpan] {
        var out: [HostSnapshot.ZoneSpan] = []
        var cur: HostSnapshot.ZoneSpan?
        var inPerNode = false
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingSpaces
            if line.hasPrefix("Node ") && line.contains(", zone") {
                if let c = cur { out.append(c) }
                let f = line.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
                cur = HostSnapshot.ZoneSpan(
                    node: Int(f[1]) ?? 0, name: f.last ?? "?", startPFN: 0, spanned: 0, present: 0,
                    managed: 0, free: 0, min: 0, low: 0, high: 0, protection: [])
                inPerNode = false
                continue
            }
            guard cur != nil else { continue }
            if line.hasPrefix("per-node stats") { inPerNode = true; continue }
            if line.hasPrefix("pages free") { inPerNode = false }
            if inPerNode { continue }
            if line.hasPrefix("protection:") {
                let inner = line.drop(while: { $0 != "(" }).dropFirst().prefix(while: { $0 != ")" })
                cur!.protection = inner.split(separator: ",").compactMap { Int($0.trimmingSpaces) }
                continue
            }
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 2 else { continue }
            if f[0] == "count:" { cur!.pcp = (cur!.pcp ?? 0) + (Int(f[1]) ?? 0); continue }
            let v = Int(f.last!) ?? 0
            switch f.count == 3 && f[0] == "pages" && f[1] == "free" ? "free" : String(f[0]) {
            case "free": cur!.free = v
            case "min": cur!.min = v
            case "low": cur!.low = v
            case "high": cur!.high = v
            case "spanned": cur!.spanned = v
            case "present": cur!.present = v
            case "managed": cur!.managed = v
            case "start_pfn:": cur!.startPFN = v
            default: break
            }
        }
        if let c = cur { out.append(c) }
        return out
    }

    /// /proc/pagetypeinfo: the "Page block order" line and the free counts per migratetype.
    static func pagetypeinfo(_ text: String) -> (order: Int?, rows: [HostSnapshot.PagetypeRow]) {
        var order: Int?
        var rows: [HostSnapshot.PagetypeRow] = []
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("Page block order:") { order = Int(line.split(separator: ":").last!.trimmingSpaces) }
            // "Node    0, zone      DMA, type    Unmovable      0      1 ..."
            guard line.hasPrefix("Node"), line.contains(", type") else { continue }
            let f = line.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            guard f.count > 6, let node = Int(f[1]), let ti = f.firstIndex(of: "type") else { continue }
            rows.append(.init(node: node, zone: f[3], type: f[ti + 1], counts: f[(ti + 2)...].compactMap { Int($0) }))
        }
        return (order, rows)
    }

    /// /proc/meminfo: "Name: value [kB]".
    static func meminfo(_ text: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for raw in text.split(separator: "\n") {
            guard let colon = raw.firstIndex(of: ":") else { continue }
            let v = raw[raw.index(after: colon)...].split(separator: " ").first.flatMap { Int($0) }
            if let v { out[String(raw[..<colon])] = v }
        }
        return out
    }

    /// /proc/iomem: "  start-end : name", two spaces of indent per nesting level.
    static func iomem(_ text: String) -> [HostSnapshot.IomemRange] {
        var out: [HostSnapshot.IomemRange] = []
        for raw in text.split(separator: "\n") {
            let indent = raw.prefix(while: { $0 == " " }).count
            let body = raw.dropFirst(indent)
            guard let sep = body.range(of: " : ") else { continue }
            let r = body[..<sep.lowerBound].split(separator: "-")
            guard r.count == 2, let s = UInt64(r[0], radix: 16), let e = UInt64(r[1], radix: 16) else { continue }
            out.append(.init(start: s, end: e, name: String(body[sep.upperBound...]), depth: indent / 2))
        }
        return out
    }

    /// A sysfs node list ("0-1,3") as the node numbers.
    static func nodeList(_ text: String) -> [Int] {
        var out: [Int] = []
        for part in text.trimmingSpaces.split(separator: ",") {
            let ab = part.split(separator: "-").compactMap { Int($0) }
            if ab.count == 2, ab[0] <= ab[1] { out += Array(ab[0]...ab[1]) } else if ab.count == 1 { out.append(ab[0]) }
        }
        return out
    }
}
