import MemoryModel

// /proc's memory views (meminfo, zoneinfo, buddyinfo, pagetypeinfo, vmstat, iomem) in the
// exact text of Linux 6.1 with Debian 12's configuration. Each view is rendered from the
// machine's counters in O(zones × orders) (pagetypeinfo's block counts: O(pageblocks)).

/// `/proc`: the files this package serves directly under it. `/proc/sys/vm` is
/// `ProcSysVMArea`; the tree merges the two.
extension ProcViews {
    static var kpageflags: KernelFile {
        var f = KernelFile(mode: 0o400)
        f.readBytes = { m, offset, count in try m.kpageflagsRead(offset: offset, count: count) }
        return f
    }
}

public enum ProcArea: KernelFileArea {
    public static let mountPoint = ["proc"]

    static let files: [String: KernelFile] = [
        "meminfo": .readOnly(ProcViews.meminfo),
        "zoneinfo": .readOnly(ProcViews.zoneinfo),
        "buddyinfo": .readOnly(ProcViews.buddyinfo),
        // proc_create_seq("pagetypeinfo", 0400, ...): root only, but root can read it.
        "pagetypeinfo": KernelFile(mode: 0o400, show: ProcViews.pagetypeinfo),
        "vmstat": .readOnly(ProcViews.vmstat),
        "iomem": .readOnly(ProcViews.iomem),
        // proc_create("kpageflags", S_IRUSR, ...): binary, one u64 per pfn (fs/proc/page.c).
        "kpageflags": ProcViews.kpageflags
    ]

    public static func lookup(_ relative: ArraySlice<String>, machine: Machine) -> KernelNode? {
        if relative.isEmpty { return .directory(.fixed(Array(files.keys))) }
        guard relative.count == 1, let f = files[relative.first!] else { return nil }
        return .file(f)
    }
}

// MARK: - Text helpers (no Foundation)

/// `%*s` / `%*lu`: right-justify in `width` columns (never truncates).
@inline(__always) func rjust(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : String(repeating: " ", count: width - n) + s
}
@inline(__always) func rjust(_ v: Int, _ width: Int) -> String { rjust(String(v), width) }

/// `%-*s`: left-justify in `width` columns.
@inline(__always) func ljust(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : s + String(repeating: " ", count: width - n)
}

/// `%0*llx` without prefix.
@inline(__always) func hex0(_ v: Int, _ width: Int) -> String { hex(v, width: width, prefix: false) }

/// The renderers. Public so the scenario runner and tests can call them without the tree.
public enum ProcViews {
    /// `/proc/buddyinfo` (`frag_show_print`): populated zones of every node, free blocks by order.
    public static func buddyinfo(_ m: Machine) -> String {
        var out = ""
        for z in m.zones.indices where m.zones[z].isPopulated {
            let zone = m.zones[z]
            out += "Node \(zone.node), zone \(rjust(zone.type.name, 8)) "
            for order in 0..<Geometry.maxOrder { out += rjust(zone.freeBlocks(order: order), 6) + " " }
            out += "\n"
        }
        return out
    }

    /// `/proc/pagetypeinfo` (0400): free blocks per migratetype and order (each count capped
    /// at 100000, printed `>100000`), then pageblocks per migratetype, per node with memory.
    /// Debian has no CMA, so the types are Unmovable, Movable, Reclaimable, HighAtomic, Isolate.
    public static func pagetypeinfo(_ m: Machine) -> String {
        var out = ""
        let types = MigrateType.allCases
        for node in m.nodes.indices {
            let populated = m.populatedZones(node: node)
            guard !populated.isEmpty else { continue }  // !node_state(N_MEMORY)
            out += "Page block order: \(Geometry.pageblockOrder)\n"
            out += "Pages per block:  \(Geometry.pageblockPages)\n"
            out += "\n"
            out += ljust("Free pages count per migrate type at order", 43) + " "
            for order in 0..<Geometry.maxOrder { out += rjust(order, 6) + " " }
            out += "\n"
            for z in populated {
                let zone = m.zones[z]
                for mt in types {
                    out += "Node \(rjust(node, 4)), zone \(rjust(zone.type.name, 8)), type \(rjust(mt.name, 12)) "
                    for order in 0..<Geometry.maxOrder {
                        let n = zone.freeBlocks(order: order, migrateType: mt)
                        out += n >= 100000 ? ">" + rjust(100000, 6) + " " : rjust(n, 6) + " "
                    }
                    out += "\n"
                }
            }
            out += "\n" + ljust("Number of blocks type ", 23)
            for mt in types { out += rjust(mt.name, 12) + " " }
            out += "\n"
            for z in populated {
                let zone = m.zones[z]
                out += "Node \(node), zone \(rjust(zone.type.name, 8)) "
                for c in m.pageblockCounts(zone: z) { out += rjust(c, 12) + " " }
                out += "\n"
            }
        }
        return out
    }
}
