/// Prometheus text exposition (format 0.0.4) of a host's predictions, pools and HVO saving,
/// for node_exporter's textfile collector or a scrape of `memhp host metrics --listen`.
/// Written by hand: a few families of gauges need no client library, and the output is
/// checked by `promtool check metrics`.
public enum HostMetrics {
    public static func render(snapshot s: HostSnapshot, predictions ps: [BlockPrediction], assumptions a: Assumptions)
        -> String
    {
        var out = ""
        func family(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for smp in samples {
                let l = smp.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",")
                out += l.isEmpty ? "\(name) \(smp.value)\n" : "\(name){\(l)} \(smp.value)\n"
            }
        }
        func blockLabels(_ p: BlockPrediction) -> [(String, String)] {
            [("block", "\(p.block)"), ("node", p.node.map { "\($0)" } ?? ""), ("zone", p.zone)]
        }
        family("memhp_memory_block_size_bytes", "Memory block size (block_size_bytes).", [([], "\(s.blockSizeBytes)")])
        family(
            "memhp_memory_block_online", "1 if the memory block is online.",
            ps.map { (blockLabels($0), $0.state == "online" ? "1" : "0") })
        family(
            "memhp_memory_block_offlinable", "1 if writing offline to the block's state is predicted to succeed.",
            ps.map { (blockLabels($0), $0.outcome == .success ? "1" : "0") })
        family(
            "memhp_memory_block_offline_prediction",
            "Predicted result of offlining the block (always 1): errno and offline_pages' reason in the kernel's words.",
            ps.map { p in
                (
                    blockLabels(p) + [
                        ("result", p.outcome == .success ? "ok" : p.outcome.rawValue), ("reason", p.reason),
                        ("kind", p.kind ?? "")
                    ], "1"
                )
            })
        family(
            "memhp_memory_block_migrate_pages", "Base pages an offline of the block would migrate.",
            ps.filter { $0.state == "online" }.map { (blockLabels($0), "\($0.migrate)") })
        var byOutcome: [String: Int] = [:]
        for p in ps { byOutcome[p.outcome == .success ? "ok" : p.outcome.rawValue, default: 0] += 1 }
        family(
            "memhp_memory_blocks_predicted", "Memory blocks by predicted offline result.",
            ["ok", "EBUSY", "EINVAL", "EINTR", "ENOMEM", "unknown"].map { ([("result", $0)], "\(byOutcome[$0] ?? 0)") })

        var total: [(labels: [(String, String)], value: String)] = [], free = total, resv = total, surplus = total
        for h in s.hugepages {
            let size = ("size_bytes", "\(h.sizeKB * 1024)")
            total.append(([size, ("node", "all")], "\(h.nr)")); free.append(([size, ("node", "all")], "\(h.free)"))
            resv.append(([size], "\(h.resv)")); surplus.append(([size, ("node", "all")], "\(h.surplus)"))
            for n in h.perNode {
                total.append(([size, ("node", "\(n.node)")], "\(n.nr)"));
                free.append(([size, ("node", "\(n.node)")], "\(n.free)"))
                surplus.append(([size, ("node", "\(n.node)")], "\(n.surplus)"))
            }
        }
        family("memhp_hugepages_pool_pages", "HugeTLB pool size in pages (nr_hugepages), per size and node.", total)
        family("memhp_hugepages_free_pages", "Free HugeTLB pages, per size and node.", free)
        family("memhp_hugepages_reserved_pages", "Reserved HugeTLB pages (resv_hugepages).", resv)
        family("memhp_hugepages_surplus_pages", "Surplus HugeTLB pages, per size and node.", surplus)

        // HVO: each huge page of N base pages has N*64/4096 vmemmap pages; 6.1 frees all but one.
        let on = a.hvo ?? s.hvoEnabled
        var saved = 0, potential = 0
        for h in s.hugepages {
            let perPage = (h.sizeKB / 4) * 64 / 4096 - 1
            potential += h.nr * perPage * 4096
        }
        if on { saved = potential }
        family("memhp_hvo_enabled", "1 if vm.hugetlb_optimize_vmemmap is on.", [([], on ? "1" : "0")])
        family(
            "memhp_hvo_vmemmap_saved_bytes", "vmemmap memory HVO frees for the current pools (0 when off).",
            [([], "\(saved)")])
        family(
            "memhp_hvo_vmemmap_saving_potential_bytes", "vmemmap memory HVO would free for the current pools.",
            [([], "\(potential)")])
        family(
            "memhp_hvo_restore_needed_pages", "vmemmap pages HVO's restore must allocate to offline the block.",
            ps.filter { $0.vmemmapNeeded > 0 }.map { (blockLabels($0), "\($0.vmemmapNeeded)") })
        family(
            "memhp_snapshot_timestamp_seconds", "When the host state was read (seconds since the epoch).",
            [([], "\(s.capturedAt)")])
        family(
            "memhp_snapshot_missing_files", "Kernel files the snapshot could not read.", [([], "\(s.missing.count)")])
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ v: String) -> String {
        var r = ""
        for c in v {
            switch c {
            case "\\": r += "\\\\"
            case "\"": r += "\\\""
            case "\n": r += "\\n"
            default: r.append(c)
            }
        }
        return r
    }
}
