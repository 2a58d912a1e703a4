import MemoryModel

/// The files of one `/sys/devices/system/node/nodeN` directory besides the memory block links
/// and `hugepages/` (drivers/base/node.c `node_dev_group`, mm/compaction.c's `compact`), and
/// the node-state masks at the top (`node_state_attrs`). Debian's 6.1 is x86_64: no
/// CONFIG_HIGHMEM (no `has_high_memory`, no High/Low lines), no SHADOW_CALL_STACK, THP on.
extension NodeSysfsArea {
    /// `node_state_attrs` without `possible`/`online`/`has_memory`/`has_normal_memory` (in
    /// NodeSysfs.swift): QEMU's `-smp 1` CPU sits on node 0 (its default socket-to-node
    /// mapping), and the guest has no generic initiators (no SRAT type 5).
    static let moreRootFiles: [String: KernelFile] = [
        "has_cpu": .readOnly { _ in nodeList([0]) },
        "has_generic_initiator": .readOnly { _ in nodeList([]) }
    ]

    /// `node_dev_group` and `compact`, by name.
    static func nodeFiles(_ nid: Int) -> [String: KernelFile] {
        [
            "meminfo": .readOnly { nodeMeminfo($0, nid) },
            "numastat": .readOnly { numastat($0, nid) },
            "vmstat": .readOnly { nodeVmstat($0, nid) },
            "distance": .readOnly { distance($0, nid) },
            "cpumap": .readOnly { _ in nid == 0 ? "1\n" : "0\n" },
            "cpulist": .readOnly { _ in nid == 0 ? "0\n" : "\n" },
            // compact_store: lru_add_drain_all + compact_node; the buffer is never parsed. The
            // model has no compaction yet: accepted, no effect (as /proc/sys/vm/compact_memory).
            "compact": KernelFile(mode: 0o200, show: nil, store: { _, bytes, _ in bytes.count })
        ]
    }

    /// `node_read_distance`: the distance to every online node, space separated.
    static func distance(_ m: Machine, _ nid: Int) -> String {
        possible(m).map { String(m.distance(nid, $0)) }.joined(separator: " ") + "\n"
    }

    /// `node_read_numastat`: the NUMA allocation events of the node's zones, under the
    /// names the file has kept since before /proc/vmstat's numa_* lines.
    static func numastat(_ m: Machine, _ nid: Int) -> String {
        zip(
            ["numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node"],
            m.numaEvents(node: nid).values
        ).map { "\($0) \($1)\n" }.joined()
    }

    /// `node_read_vmstat`: zone items summed over the node's zones, the NUMA events, the
    /// node items.
    static func nodeVmstat(_ m: Machine, _ nid: Int) -> String {
        var zoneItems: [(String, Int)] = []
        for z in m.zones.indices where m.zones[z].node == nid {
            let items = ProcViews.zoneStatItems(m, zone: z)
            if zoneItems.isEmpty {
                zoneItems = items
            } else {
                for i in items.indices { zoneItems[i].1 += items[i].1 }
            }
        }
        var s = ""
        for (k, v) in zoneItems { s += "\(k) \(v)\n" }
        for (k, v) in zip(ProcViews.numaStatNames, m.numaEvents(node: nid).values) { s += "\(k) \(v)\n" }
        for (k, v) in ProcViews.nodeStatItems(m, node: nid) { s += "\(k) \(v)\n" }
        return s
    }

    /// `node_read_meminfo`: `si_meminfo_node` (managed and free pages of the node's zones),
    /// the node's LRU, file, slab and kernel counters, then `hugetlb_report_node_meminfo`.
    static func nodeMeminfo(_ m: Machine, _ nid: Int) -> String {
        let k = Geometry.pageSize >> 10
        var total = 0, free = 0
        for z in m.zones.indices where m.zones[z].node == nid {
            total += m.zones[z].managedPages
            free += m.zones[z].freePages
        }
        let c = m.nodePageCounters(node: nid)
        let mapped = nid == 0 ? Swift.min(MeminfoCalibration.mappedPages, c.filePages) : 0
        let prefix = "Node \(nid) "
        func line(_ label: String, _ kb: Int) -> String { ProcViews.kb(label, kb, prefix: prefix) }
        var s = ""
        s += line("MemTotal:       ", total * k)
        s += line("MemFree:        ", free * k)
        s += line("MemUsed:        ", (total - free) * k)
        s += line("SwapCached:     ", 0)
        s += line("Active:         ", (c.lru.activeAnon + c.lru.activeFile) * k)
        s += line("Inactive:       ", (c.lru.inactiveAnon + c.lru.inactiveFile) * k)
        s += line("Active(anon):   ", c.lru.activeAnon * k)
        s += line("Inactive(anon): ", c.lru.inactiveAnon * k)
        s += line("Active(file):   ", c.lru.activeFile * k)
        s += line("Inactive(file): ", c.lru.inactiveFile * k)
        s += line("Unevictable:    ", c.lru.unevictable * k)
        s += line("Mlocked:        ", 0)
        s += line("Dirty:          ", 0)
        s += line("Writeback:      ", 0)
        s += line("FilePages:      ", c.filePages * k)
        s += line("Mapped:         ", mapped * k)
        s += line("AnonPages:      ", c.anonPages * k)
        s += line("Shmem:          ", c.shmem * k)
        s += line("KernelStack:    ", c.kernelStackKB)
        s += line("PageTables:     ", c.pageTables * k)
        s += line("SecPageTables:  ", 0)
        s += line("NFS_Unstable:   ", 0)
        s += line("Bounce:         ", 0)
        s += line("WritebackTmp:   ", 0)
        s += line("KReclaimable:   ", c.slabReclaimable * k)
        s += line("Slab:           ", (c.slabReclaimable + c.slabUnreclaimable) * k)
        s += line("SReclaimable:   ", c.slabReclaimable * k)
        s += line("SUnreclaim:     ", c.slabUnreclaimable * k)
        s += line("AnonHugePages:  ", 0)
        s += line("ShmemHugePages: ", 0)
        s += line("ShmemPmdMapped: ", 0)
        s += line("FileHugePages: ", 0)
        s += line("FilePmdMapped: ", 0)
        for l in m.hugetlbNodeMeminfoLines(node: nid) { s += l + "\n" }
        return s
    }
}
