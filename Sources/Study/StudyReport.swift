/// The self-contained HTML report: inline SVG, inline CSS, no script, no network.
public enum StudyReport {
    static let colours: [BlockOutcome: String] = [
        .offline: "#4caf50", .ebusy: "#ff9800", .enomem: "#e53935", .spin: "#8e24aa", .other: "#757575"
    ]
    static let hvoColour = "#d84315", noHVOColour = "#1565c0"

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    static func f(_ x: Double, _ d: Int = 2) -> String { StudyResult.f(x, d) }

    public static func html(_ r: StudyResult) -> String {
        var b = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>memhp study hvo</title>
            <style>
            body{font-family:sans-serif;margin:24px;max-width:1100px;color:#222}
            h1{font-size:22px} h2{font-size:18px;margin-top:28px}
            table{border-collapse:collapse;font-size:12px} td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
            td:first-child,th:first-child{text-align:left} .note{color:#555;font-size:13px}
            .headline{background:#fff8e1;border-left:4px solid #ffa000;padding:8px 12px}
            svg text{font-family:sans-serif}
            </style></head><body>
            <h1>Is HVO's saving worth the risk of not being able to offline memory?</h1>
            <p class="note">memhp study hvo — model of Linux 6.1 — \(esc(StudySize.format(r.machine.memBytes))) boot memory + \(esc(StudySize.format(r.machine.dimmBytes))) DIMM (hot-pluggable), \(r.runs.count) runs over \(r.points.count) points, \(r.grid.repetitions) seeded repetitions each (seed \(r.grid.seed)), offline deadline \(r.offlineTimeout) s\(r.complete ? "" : " — <b>interrupted: finished runs only</b>").</p>
            <div class="headline">\(StudyFindings.headline(r).map(esc).joined(separator: "<br>"))</div>

            """
        b += "<h2>Saving against offline failure, with and without HVO</h2>\n"
        b +=
            "<p class=\"note\">One marker per point: x = memory HVO saves there (% of RAM, mean over runs; an HVO-off point stands at its HVO-on twin's saving, so each pair is one above the other), y = probability that offlining a hot-pluggable block fails (over all attempts; 95% Wilson interval). Hover a marker for its point and the per-run figure (all blocks offline).</p>\n"
        b += savingChart(r)
        b += "<h2>Where the risk begins as kernel-memory pressure grows</h2>\n"
        b +=
            "<p class=\"note\">Probability that offlining a hot-pluggable block fails, per pressure level in grid order, one panel per online policy, pooled over the other factors (95% Wilson intervals). slab and pagetable hold unreclaimable slab and user page tables, pinned long-term pins, fill:MARGIN fills node 0's kernel zones until MARGIN is left above their watermarks.</p>\n"
        b += pressureChart(r)
        b += "<h2>One machine, block by block</h2>\n"
        b += blockMap(r)
        if let v = r.validation, !v.isEmpty { b += validationSection(v) }
        b += pointsTable(r)
        b += "</body></html>\n"
        return b
    }

    // MARK: charts

    static func axes(
        _ w: Int, _ h: Int, _ l: Int, _ t: Int, _ pw: Int, _ ph: Int, xLabel: String, yLabel: String,
        xTicks: [(Double, String)], yTicks: [(Double, String)]
    ) -> String {
        var s = "<rect x=\"\(l)\" y=\"\(t)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"#fafafa\" stroke=\"#999\"/>\n"
        for (x, label) in xTicks {
            let px = Double(l) + x * Double(pw)
            s += "<line x1=\"\(f(px, 1))\" y1=\"\(t + ph)\" x2=\"\(f(px, 1))\" y2=\"\(t + ph + 5)\" stroke=\"#666\"/>"
            s +=
                "<text x=\"\(f(px, 1))\" y=\"\(t + ph + 18)\" font-size=\"11\" text-anchor=\"middle\">\(esc(label))</text>\n"
        }
        for (y, label) in yTicks {
            let py = Double(t + ph) - y * Double(ph)
            s += "<line x1=\"\(l)\" y1=\"\(f(py, 1))\" x2=\"\(l + pw)\" y2=\"\(f(py, 1))\" stroke=\"#e0e0e0\"/>"
            s +=
                "<text x=\"\(l - 6)\" y=\"\(f(py + 4, 1))\" font-size=\"11\" text-anchor=\"end\">\(esc(label))</text>\n"
        }
        s += "<text x=\"\(l + pw / 2)\" y=\"\(h - 6)\" font-size=\"12\" text-anchor=\"middle\">\(esc(xLabel))</text>\n"
        s +=
            "<text x=\"14\" y=\"\(t + ph / 2)\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(t + ph / 2))\">\(esc(yLabel))</text>\n"
        _ = w
        return s
    }

    static func legend(_ x: Int, _ y: Int, _ items: [(String, String)]) -> String {
        var s = ""
        for (i, (colour, label)) in items.enumerated() {
            let yy = y + i * 16
            s +=
                "<rect x=\"\(x)\" y=\"\(yy)\" width=\"10\" height=\"10\" fill=\"\(colour)\"/><text x=\"\(x + 14)\" y=\"\(yy + 9)\" font-size=\"11\">\(esc(label))</text>\n"
        }
        return s
    }

    static func savingChart(_ r: StudyResult) -> String {
        let w = 760, h = 360, l = 60, t = 20, pw = 540, ph = 290
        let maxSaved = max(0.5, (r.points.map(\.savedPercentOfRAM).max() ?? 0) * 1.1)
        let savingX = savingAxis(r)
        let xTicks = (0...5).map { i -> (Double, String) in
            let v = maxSaved * Double(i) / 5; return (Double(i) / 5, f(v, 2) + "%")
        }
        let yTicks = (0...5).map { i -> (Double, String) in (Double(i) / 5, f(Double(i) / 5, 1)) }
        var s =
            "<svg id=\"chart-saving\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"saving against offline failure\">\n"
        s += axes(
            w, h, l, t, pw, ph, xLabel: "memory HVO saves at the point (% of RAM)",
            yLabel: "P(a block fails to offline)",
            xTicks: xTicks, yTicks: yTicks)
        for p in r.points {
            let fail = Proportion(p.blockOffline.trials - p.blockOffline.successes, of: p.blockOffline.trials)
            let x = Double(l) + max(0, savingX[p.point] ?? 0) / maxSaved * Double(pw)
            let y = Double(t + ph) - fail.estimate * Double(ph)
            let y1 = Double(t + ph) - fail.low * Double(ph), y2 = Double(t + ph) - fail.high * Double(ph)
            let c = p.hvo ? hvoColour : noHVOColour
            s +=
                "<g><title>\(esc(p.point)): saved \(f(p.savedMiB, 1)) MiB, P(block fails) \(f(fail.estimate)) [\(f(fail.low))-\(f(fail.high))], P(all offline) \(f(p.allOffline.estimate)), n=\(p.runs) runs</title>"
            s +=
                "<line x1=\"\(f(x, 1))\" y1=\"\(f(y1, 1))\" x2=\"\(f(x, 1))\" y2=\"\(f(y2, 1))\" stroke=\"\(c)\" stroke-opacity=\"0.5\"/>"
            s += marker(p.pageSize, x, y, c) + "</g>\n"
        }
        s += legend(l + pw + 20, t + 10, [(hvoColour, "HVO on"), (noHVOColour, "HVO off")])
        let sizes = HugePageSize.allCases.filter { r.grid.pageSizes.contains($0) }
        for (i, size) in sizes.enumerated() {
            let y = Double(t + 52 + i * 16)
            s += marker(size.rawValue, Double(l + pw + 25), y, "#666")
            s +=
                "<text x=\"\(l + pw + 34)\" y=\"\(f(y + 4, 1))\" font-size=\"11\">\(esc(size.rawValue)) pages</text>\n"
        }
        if r.runs.contains(where: { $0.pageSize == HugePageSize.g1.rawValue && $0.poolPages < $0.poolRequested }) {
            s +=
                "<text x=\"\(l + pw + 20)\" y=\"\(t + 60 + sizes.count * 16)\" font-size=\"10\" fill=\"#555\"><tspan x=\"\(l + pw + 20)\">Squares near 0%: 6.1 got</tspan><tspan x=\"\(l + pw + 20)\" dy=\"12\">few or no 1G pages at run</tspan><tspan x=\"\(l + pw + 20)\" dy=\"12\">time (see the headline)</tspan></text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// A point's marker: a circle for 2 MiB pages, a square for 1 GiB pages.
    static func marker(_ pageSize: String, _ x: Double, _ y: Double, _ c: String) -> String {
        pageSize == HugePageSize.g1.rawValue
            ? "<rect x=\"\(f(x - 4, 1))\" y=\"\(f(y - 4, 1))\" width=\"8\" height=\"8\" fill=\"\(c)\" fill-opacity=\"0.75\"/>"
            : "<circle cx=\"\(f(x, 1))\" cy=\"\(f(y, 1))\" r=\"4\" fill=\"\(c)\" fill-opacity=\"0.75\"/>"
    }

    /// One panel per online policy, stacked, sharing the x axis: the policies differ most
    /// without pressure (a kernel-zone block takes slab and restored vmemmap), so pooling them
    /// would put the `none` points at a failure rate that belongs to neither.
    /// Where the points sit on the saving axis: a point's own saving with HVO on; with HVO off
    /// (which saves nothing) the saving its HVO-on twin has, so each pair of markers stands one
    /// above the other and the vertical gap is HVO's cost at that saving.
    static func savingAxis(_ r: StudyResult) -> [String: Double] {
        func key(_ p: PointSummary) -> String { "\(p.poolPercent)|\(p.pageSize)|\(p.pressure)|\(p.online)|\(p.nodes)" }
        var on: [String: Double] = [:]
        for p in r.points where p.hvo { on[key(p)] = p.savedPercentOfRAM }
        var x: [String: Double] = [:]
        for p in r.points { x[p.point] = p.hvo ? p.savedPercentOfRAM : on[key(p)] ?? p.savedPercentOfRAM }
        return x
    }

    static func pressureChart(_ r: StudyResult) -> String {
        let pressures = StudyFindings.pressures(r)
        let onlines = r.grid.online.map(\.description)
        let w = 800, l = 60, pw = 600, ph = 200, panelH = 268, top = 8
        let h = top + panelH * max(1, onlines.count)
        let n = max(1, pressures.count)
        func xOf(_ i: Int) -> Double { Double(l) + (Double(i) + 0.5) / Double(n) * Double(pw) }
        let xTicks = pressures.enumerated().map { (i, p) in ((Double(i) + 0.5) / Double(n), p) }
        let yTicks = (0...5).map { i -> (Double, String) in (Double(i) / 5, f(Double(i) / 5, 1)) }
        var s =
            "<svg id=\"chart-pressure\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"risk against kernel-memory pressure, per online policy\">\n"
        for (k, on) in onlines.enumerated() {
            let t = 26
            s += "<g transform=\"translate(0 \(top + k * panelH))\">\n"
            s +=
                "<text x=\"\(l)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">DIMM onlined \(esc(on))</text>\n"
            s += axes(
                w, t + ph + 40, l, t, pw, ph, xLabel: "kernel-memory pressure (grid order)",
                yLabel: "P(block fails)", xTicks: xTicks, yTicks: yTicks)
            for (hvo, c, dx) in [(false, noHVOColour, -4.0), (true, hvoColour, 4.0)] where r.grid.hvo.contains(hvo) {
                var pts: [String] = []
                for (i, p) in pressures.enumerated() {
                    guard let q = StudyFindings.pooledFailure(r, pressure: p, hvo: hvo, online: on) else { continue }
                    let x = xOf(i) + dx
                    let y = Double(t + ph) - q.estimate * Double(ph)
                    pts.append("\(f(x, 1)),\(f(y, 1))")
                    s +=
                        "<g><title>\(esc(p)), online \(esc(on)), HVO \(hvo ? "on" : "off"): \(f(q.estimate)) [\(f(q.low))-\(f(q.high))], n=\(q.trials)</title>"
                    s +=
                        "<line x1=\"\(f(x, 1))\" y1=\"\(f(Double(t + ph) - q.low * Double(ph), 1))\" x2=\"\(f(x, 1))\" y2=\"\(f(Double(t + ph) - q.high * Double(ph), 1))\" stroke=\"\(c)\" stroke-width=\"2\" stroke-opacity=\"0.6\"/>"
                    s += "<circle cx=\"\(f(x, 1))\" cy=\"\(f(y, 1))\" r=\"4\" fill=\"\(c)\"/></g>\n"
                }
                if pts.count > 1 {
                    s +=
                        "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.5\"/>\n"
                }
            }
            s += legend(l + pw + 14, t + 10, [(hvoColour, "HVO on"), (noHVOColour, "HVO off")])
            if let onset = StudyFindings.riskOnset(r), let i = pressures.firstIndex(of: onset.pressure) {
                let x = xOf(i)
                s +=
                    "<line x1=\"\(f(x, 1))\" y1=\"\(t)\" x2=\"\(f(x, 1))\" y2=\"\(t + ph)\" stroke=\"#ffa000\" stroke-dasharray=\"4 3\"/>"
                s +=
                    "<text x=\"\(f(x + 4, 1))\" y=\"\(t + 14)\" font-size=\"11\" fill=\"#e65100\">risk begins (all policies)</text>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// The run shown block by block: the first HVO run that hit ENOMEM, else the first with any
    /// failure, else the first run.
    public static func mapRun(_ r: StudyResult) -> RunRecord? {
        r.runs.first { $0.hvo && $0.blocks.contains { $0.outcome == .enomem } }
            ?? r.runs.first { $0.blocks.contains { $0.outcome != .offline } } ?? r.runs.first
    }

    static func blockMap(_ r: StudyResult) -> String {
        guard let run = mapRun(r) else { return "<p>No runs.</p>\n" }
        let blocks = run.blocks.sorted { $0.block < $1.block }
        let cell = 56, perRow = 12, l = 10, t = 10
        let rows = max(1, (blocks.count + perRow - 1) / perRow)
        let w = max(760, l * 2 + perRow * cell), h = t + rows * cell + 60
        var s =
            "<p class=\"note\">Run \(run.index) (\(esc(run.point)), repetition \(run.rep + 1), seed \(run.seed)): each hot-pluggable memory block after <code>echo offline &gt; memoryN/state</code>, in the order they were tried: \(run.blocks.map { String($0.block) }.joined(separator: ", ")). Pool \(run.poolPages) → \(run.poolAfter) huge pages, \(run.migrated) pages migrated.</p>\n"
        s +=
            "<svg id=\"chart-blocks\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"per-block outcome map\">\n"
        for (i, bl) in blocks.enumerated() {
            let x = l + (i % perRow) * cell, y = t + (i / perRow) * cell
            s +=
                "<g><title>memory\(bl.block): \(esc(bl.outcome.label))</title><rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 4)\" height=\"\(cell - 4)\" rx=\"4\" fill=\"\(colours[bl.outcome]!)\"/>"
            s +=
                "<text x=\"\(x + (cell - 4) / 2)\" y=\"\(y + cell / 2)\" font-size=\"12\" fill=\"#fff\" text-anchor=\"middle\">\(bl.block)</text></g>\n"
        }
        let present = BlockOutcome.allCases.filter { o in blocks.contains { $0.outcome == o } }
        s += legend(l, t + rows * cell + 8, [])  // keeps the layout even with no entries
        for (i, o) in present.enumerated() {
            let x = l + i * 190, y = t + rows * cell + 14
            s +=
                "<rect x=\"\(x)\" y=\"\(y)\" width=\"12\" height=\"12\" fill=\"\(colours[o]!)\"/><text x=\"\(x + 16)\" y=\"\(y + 10)\" font-size=\"11\">\(esc(o.label))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    static func outcomeText(_ c: [String: Int]) -> String {
        BlockOutcome.allCases.compactMap { o in
            (c[o.rawValue] ?? 0) > 0 ? "\(o.rawValue == "offline" ? "offline" : o.rawValue) \(c[o.rawValue]!)" : nil
        }
        .joined(separator: ", ")
    }

    static func validationSection(_ v: [ValidationRow]) -> String {
        var s =
            "<h2>Model against the real kernel</h2>\n<p class=\"note\">Each point's scenario files ran on \(esc(v.first?.kernel ?? "Linux 6.1")) under QEMU TCG (<code>memhp kernel-run</code>; fixtures in tests/study/validation/). Block outcomes: counts of offline attempts.</p>\n"
        s +=
            "<table id=\"validation\"><tr><th>point</th><th>kernel runs</th><th>kernel: block outcomes</th><th>kernel P(all offline)</th><th>model, same scenarios</th><th>model, \(v.first?.modelRuns ?? 0) seeds: block outcomes</th><th>model P(all offline) [95% CI]</th></tr>\n"
        for row in v {
            s +=
                "<tr><td>\(esc(row.point))</td><td>\(row.kernelRuns)</td><td>\(esc(outcomeText(row.kernelOutcomes)))</td><td>\(row.kernelAllOffline)/\(row.kernelRuns)</td>"
            s +=
                "<td>\(esc(outcomeText(row.modelSameOutcomes))); all offline \(row.modelSameAllOffline)/\(row.modelSameRuns)</td>"
            s +=
                "<td>\(esc(outcomeText(row.modelOutcomes)))</td><td>\(f(row.modelAllOfflineCI.estimate)) [\(f(row.modelAllOfflineCI.low))-\(f(row.modelAllOfflineCI.high))]</td></tr>\n"
        }
        s += "</table>\n"
        return s
    }

    static func pointsTable(_ r: StudyResult) -> String {
        var s =
            "<h2>Every point</h2>\n<table id=\"points\"><tr><th>point</th><th>runs</th><th>pool</th><th>saved MiB</th><th>% RAM</th><th>P(block offline)</th><th>P(all offline) [95% CI]</th><th>offline / EBUSY / ENOMEM / EINTR</th><th>migrated</th><th>dissolved</th></tr>\n"
        for p in r.points {
            let o = ["offline", "EBUSY", "ENOMEM", "EINTR"].map { String(p.outcomes[$0] ?? 0) }.joined(separator: " / ")
            s +=
                "<tr><td>\(esc(p.point))</td><td>\(p.runs)</td><td>\(f(p.poolPages, 1))</td><td>\(f(p.savedMiB, 1))</td><td>\(f(p.savedPercentOfRAM))</td><td>\(f(p.blockOffline.estimate, 3))</td><td>\(f(p.allOffline.estimate)) [\(f(p.allOffline.low))-\(f(p.allOffline.high))]</td><td>\(o)</td><td>\(f(p.migratedMean, 0))</td><td>\(f(p.dissolvedMean, 1))</td></tr>\n"
        }
        return s + "</table>\n"
    }
}
