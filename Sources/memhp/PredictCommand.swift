import ArgumentParser
import Foundation
import Snapshot

/// `memhp predict`: for every memory block, what `echo offline > state` would do, never
/// touching the host.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict, per memory block, whether offlining succeeds and why (read-only).",
        discussion: "Columns (-o): " + PredictionTable.columns.map { "\($0.name) (\($0.help))" }.joined(separator: ", ")
    )

    @OptionGroup var source: HostSourceOptions

    @Option(
        name: .shortAndLong,
        help: "Comma-separated columns (default: BLOCK,RANGE,SIZE,STATE,ZONE,NODE,OFFLINE,REASON,DETAIL).")
    var output: String?

    @Flag(help: "JSON instead of a table.")
    var json = false

    @Flag(help: "Only the online blocks.")
    var online = false

    @Option(
        name: .customLong("assume"),
        help: ArgumentHelp(
            "Change an assumption (repeatable): pinned=START-END (pfns), ramfs=stuck|migrates, hvo=on|off|sysctl, flagless=kernel|free, offline-pages=released|held, dirty=migrates|stuck.",
            valueName: "key=value"))
    var assume: [String] = []

    @Option(help: "What if vm.hugetlb_optimize_vmemmap were on|off (every huge page optimized or not).")
    var hvo: String?

    @Option(help: "What if N more 2 MiB huge pages were in the pool.")
    var pool: Int?

    @Option(name: .customLong("online-movable"), help: "What if this offline block were onlined movable (repeatable).")
    var onlineMovable: [Int] = []

    func run() throws {
        var (s, census, _) = try source.load()
        var a = Assumptions()
        for t in assume {
            do { try a.apply(t) } catch let e as AssumptionError { throw ValidationError("--assume \(t): \(e)") }
        }
        var whatIfs: [WhatIf] = []
        if let hvo {
            guard hvo == "on" || hvo == "off" else { throw ValidationError("--hvo: expected on or off, got '\(hvo)'") }
            whatIfs.append(.hvo(hvo == "on"))
        }
        if let pool {
            guard pool >= 0 else { throw ValidationError("--pool: expected a count >= 0") }
            whatIfs.append(.pool(pool))
        }
        whatIfs += onlineMovable.map { .onlineMovable($0) }
        for w in whatIfs {
            do {
                if let note = try w.apply(&s, &census, &a) { printError("memhp: " + note) }
            } catch let e as WhatIf.Refused { throw ValidationError(e.description) }
        }
        let cols = (output ?? PredictionTable.defaultColumns.joined(separator: ",")).split(separator: ",").map {
            $0.uppercased()
        }
        let known = Set(PredictionTable.columns.map(\.name))
        if let bad = cols.first(where: { !known.contains($0) }) {
            throw ValidationError(
                "-o: unknown column '\(bad)' (known: \(PredictionTable.columns.map(\.name).joined(separator: ",")))")
        }
        var ps = OfflinePredictor(snapshot: s, census: census, assumptions: a).predictAll()
        if online { ps = ps.filter { $0.state == "online" } }
        if json {
            print(try PredictionTable.json(ps, assumptions: a, kernel: s.kernelRelease), terminator: "")
            return
        }
        print(PredictionTable.render(ps, columns: cols), terminator: "")
        printError("memhp: kernel \(s.kernelRelease ?? "?"), \(ps.count) blocks: \(PredictionTable.summary(ps))")
        for l in a.lines { printError("memhp: assumed: \(l)") }
        for m in s.missing { printError("memhp: missing \(m.path): \(m.why) — \(m.effect)") }
    }
}
