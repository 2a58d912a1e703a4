def sub(p, old, new, count=1):
    s=open(p).read()
    assert old in s, (p, old[:70])
    s=s.replace(old,new,count)
    open(p,'w').write(s)
p='Sources/Study/StudyFindings.swift'
sub(p,'''    public static func pooledFailure(_ r: StudyResult, pressure: String, hvo: Bool) -> Proportion? {
        let attempts = r.runs.filter { $0.pressure == pressure && $0.hvo == hvo }.flatMap(\\.blocks)''','''    public static func pooledFailure(_ r: StudyResult, pressure: String, hvo: Bool, online: String? = nil)
        -> Proportion?
    {
        let attempts = r.runs.filter { $0.pressure == pressure && $0.hvo == hvo && (online == nil || $0.online == online) }
            .flatMap(\\.blocks)''')
sub(p,'''        if let onset = riskOnset(r) {''','''        // Without pressure, per online policy: blocks onlined to a kernel zone take the
        // kernel's own allocations (slab, and with HVO the vmemmap restored for dissolved huge
        // pages), so they can fail where ZONE_MOVABLE blocks never do.
        if r.grid.pressures.contains(where: { $0.kind == .none }) {
            var parts: [String] = []
            for on in r.grid.online.map(\\.description) {
                let figs = r.grid.hvo.sorted { !$0 && $1 }.compactMap { h -> String? in
                    pooledFailure(r, pressure: "none", hvo: h, online: on).map {
                        "\\(f($0.estimate, 2)) [\\(f($0.low, 2))-\\(f($0.high, 2))] HVO \\(h ? "on" : "off")"
                    }
                }
                if !figs.isEmpty { parts.append("online \\(on): " + figs.joined(separator: ", ")) }
            }
            if !parts.isEmpty {
                out.append(
                    "Without kernel-memory pressure, P(a block fails to offline): " + parts.joined(separator: "; ")
                        + " (failures there are EBUSY: unmovable kernel pages in blocks onlined to ZONE_NORMAL)."
                )
            }
        }
        if let onset = riskOnset(r) {''')
p='Sources/Study/StudyReport.swift'
sub(p,'''            "<p class=\\"note\\">Probability that offlining a hot-pluggable block fails, pooled over the other factors, per pressure level in grid order (95% Wilson intervals).</p>\\n"''','''            "<p class=\\"note\\">Probability that offlining a hot-pluggable block fails, per pressure level in grid order and per online policy (solid: the first, dashed: the others), pooled over the other factors (95% Wilson intervals). The risk-onset line compares HVO on and off pooled over the online policies too.</p>\\n"''')
sub(p,'''        for (hvo, c, dx) in [(false, noHVOColour, -4.0), (true, hvoColour, 4.0)] where r.grid.hvo.contains(hvo) {
            var pts: [String] = []
            for (i, p) in pressures.enumerated() {
                guard let q = StudyFindings.pooledFailure(r, pressure: p, hvo: hvo) else { continue }
                let x = xOf(i) + dx
                let y = Double(t + ph) - q.estimate * Double(ph)
                pts.append("\\(f(x, 1)),\\(f(y, 1))")
                s +=
                    "<g><title>\\(esc(p)) HVO \\(hvo ? "on" : "off"): \\(f(q.estimate)) [\\(f(q.low))-\\(f(q.high))], n=\\(q.trials)</title>"
                s +=
                    "<line x1=\\"\\(f(x, 1))\\" y1=\\"\\(f(Double(t + ph) - q.low * Double(ph), 1))\\" x2=\\"\\(f(x, 1))\\" y2=\\"\\(f(Double(t + ph) - q.high * Double(ph), 1))\\" stroke=\\"\\(c)\\" stroke-width=\\"2\\" stroke-opacity=\\"0.6\\"/>"
                s += "<circle cx=\\"\\(f(x, 1))\\" cy=\\"\\(f(y, 1))\\" r=\\"4\\" fill=\\"\\(c)\\"/></g>\\n"
            }
            if pts.count > 1 {
                s +=
                    "<polyline points=\\"\\(pts.joined(separator: " "))\\" fill=\\"none\\" stroke=\\"\\(c)\\" stroke-width=\\"1.5\\"/>\\n"
            }
        }
        s += legend(l + pw + 20, t + 10, [(hvoColour, "HVO on"), (noHVOColour, "HVO off")])''','''        let onlines = r.grid.online.map(\\.description)
        var items: [(String, String, String)] = []  // colour, dash, label
        for (oi, on) in onlines.enumerated() {
            let dash = oi == 0 ? "" : "6 4"
            for (hvo, c, dx) in [(false, noHVOColour, -4.0), (true, hvoColour, 4.0)] where r.grid.hvo.contains(hvo) {
                var pts: [String] = []
                let shift = dx + Double(oi) * 9 - Double(onlines.count - 1) * 4.5
                for (i, p) in pressures.enumerated() {
                    guard let q = StudyFindings.pooledFailure(r, pressure: p, hvo: hvo, online: on) else { continue }
                    let x = xOf(i) + shift
                    let y = Double(t + ph) - q.estimate * Double(ph)
                    pts.append("\\(f(x, 1)),\\(f(y, 1))")
                    s +=
                        "<g><title>\\(esc(p)), online \\(esc(on)), HVO \\(hvo ? "on" : "off"): \\(f(q.estimate)) [\\(f(q.low))-\\(f(q.high))], n=\\(q.trials)</title>"
                    s +=
                        "<line x1=\\"\\(f(x, 1))\\" y1=\\"\\(f(Double(t + ph) - q.low * Double(ph), 1))\\" x2=\\"\\(f(x, 1))\\" y2=\\"\\(f(Double(t + ph) - q.high * Double(ph), 1))\\" stroke=\\"\\(c)\\" stroke-width=\\"2\\" stroke-opacity=\\"0.6\\"/>"
                    s +=
                        "<circle cx=\\"\\(f(x, 1))\\" cy=\\"\\(f(y, 1))\\" r=\\"4\\" fill=\\"\\(oi == 0 ? c : "#fff")\\" stroke=\\"\\(c)\\" stroke-width=\\"1.5\\"/></g>\\n"
                }
                if pts.count > 1 {
                    s +=
                        "<polyline points=\\"\\(pts.joined(separator: " "))\\" fill=\\"none\\" stroke=\\"\\(c)\\" stroke-width=\\"1.5\\"\\(dash.isEmpty ? "" : " stroke-dasharray=\\"\\(dash)\\"")/>\\n"
                }
                items.append((c, dash, "HVO \\(hvo ? "on" : "off"), \\(on)"))
            }
        }
        for (i, (c, dash, label)) in items.enumerated() {
            let x = l + pw + 16, y = t + 10 + i * 18
            s +=
                "<line x1=\\"\\(x)\\" y1=\\"\\(y + 5)\\" x2=\\"\\(x + 26)\\" y2=\\"\\(y + 5)\\" stroke=\\"\\(c)\\" stroke-width=\\"2\\"\\(dash.isEmpty ? "" : " stroke-dasharray=\\"\\(dash)\\"")/><text x=\\"\\(x + 32)\\" y=\\"\\(y + 9)\\" font-size=\\"11\\">\\(esc(label))</text>\\n"
        }''')
