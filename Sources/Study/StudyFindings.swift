/// The study's answer in words: what HVO saves and where it costs offline-ability.
public enum StudyFindings {
    /// Failure of one block's offline, pooled over every attempt at every point with this
    /// pressure and HVO setting, and this online policy when one is given (Wilson over
    /// attempts; attempts within a run are not independent, so the interval is narrower than it
    /// should be — the per-run "all offline" figures in points.csv are the conservative ones).
    public static func pooledFailure(_ r: StudyResult, pressure: String, hvo: Bool, online: String? = nil)
        -> Proportion?
    {
        let attempts = r.runs.filter {
            $0.pressure == pressure && $0.hvo == hvo && (online == nil || $0.online == online)
        }
        .flatMap(\.blocks)
        guard !attempts.isEmpty else { return nil }
        return Proportion(attempts.filter { $0.outcome != .offline }.count, of: attempts.count)
    }

    /// The pressures in grid order, as written in the runs.
    public static func pressures(_ r: StudyResult) -> [String] { r.grid.pressures.map(\.description) }

    /// The first pressure (in grid order) where HVO on fails more often than HVO off, beyond
    /// both intervals (on's lower bound above off's upper bound), with both figures.
    public static func riskOnset(_ r: StudyResult) -> (pressure: String, off: Proportion, on: Proportion)? {
        for p in pressures(r) {
            guard let off = pooledFailure(r, pressure: p, hvo: false), let on = pooledFailure(r, pressure: p, hvo: true)
            else { continue }
            if on.low > off.high { return (p, off, on) }
        }
        return nil
    }

    /// Without pressure, per online policy: blocks onlined to a kernel zone take the kernel's
    /// own allocations (slab; with HVO also the vmemmap restored for huge pages dissolved in
    /// other blocks), so they can fail where ZONE_MOVABLE blocks never do. Pooling the policies
    /// would hide that the failures belong to one of them.
    static func noPressureByPolicy(_ r: StudyResult) -> String? {
        guard r.grid.pressures.contains(where: { $0.kind == .none }) else { return nil }
        let f = StudyResult.f
        var parts: [String] = []
        for on in r.grid.online.map(\.description) {
            let figs = [false, true].filter { r.grid.hvo.contains($0) }.compactMap { h -> String? in
                pooledFailure(r, pressure: "none", hvo: h, online: on).map {
                    "\(f($0.estimate, 2)) [\(f($0.low, 2))-\(f($0.high, 2))] HVO \(h ? "on" : "off")"
                }
            }
            if !figs.isEmpty { parts.append("online \(on): " + figs.joined(separator: ", ")) }
        }
        guard !parts.isEmpty else { return nil }
        return "Without kernel-memory pressure, P(a block fails to offline): " + parts.joined(separator: "; ") + "."
    }

    public static func headline(_ r: StudyResult) -> [String] {
        var out: [String] = []
        let f = StudyResult.f
        if let best = r.points.filter({ $0.hvo }).max(by: { $0.savedMiB < $1.savedMiB }) {
            out.append(
                "HVO saves up to \(f(best.savedMiB, 1)) MiB (\(f(best.savedPercentOfRAM, 2))% of RAM) at \(best.point)."
            )
        }
        if let line = noPressureByPolicy(r) { out.append(line) }
        if let onset = riskOnset(r) {
            out.append(
                "Risk begins at kernel-memory pressure \(onset.pressure): P(a hot-pluggable block fails to offline) is \(f(onset.on.estimate, 2)) [\(f(onset.on.low, 2))-\(f(onset.on.high, 2))] with HVO against \(f(onset.off.estimate, 2)) [\(f(onset.off.low, 2))-\(f(onset.off.high, 2))] without."
            )
        } else if r.grid.hvo.count == 2 {
            out.append(
                "No pressure level in this grid makes HVO fail offline more often than without it (beyond the 95% intervals)."
            )
        }
        let short = r.runs.filter { $0.poolPages < $0.poolRequested }
        if !short.isEmpty {
            let sizes = Set(short.map(\.pageSize)).sorted().joined(separator: ", ")
            out.append(
                "\(short.count) runs got fewer huge pages than asked for (\(sizes)): at run time 6.1 takes gigantic pages only from the kernel zones (hugepage_movable_supported() is false for them), which rarely hold a free aligned 1 GiB range."
            )
        }
        let enomem = r.runs.filter { $0.blocks.contains { $0.outcome == .enomem } }
        if !enomem.isEmpty {
            let hvoShare = Double(enomem.filter(\.hvo).count) / Double(enomem.count) * 100
            out.append(
                "\(enomem.count) runs saw ENOMEM on offline (vmemmap restore or no migration target); \(f(hvoShare, 0))% of them with HVO on."
            )
        }
        return out
    }
}
