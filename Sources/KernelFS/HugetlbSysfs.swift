import MemoryModel

/// `/sys/kernel/mm/hugepages/hugepages-<N>kB/` (mm/hugetlb.c `hstate_attrs`, plus
/// `demote`/`demote_size` for an hstate with a smaller size to demote to). Counters are
/// `"%lu\n"`; `nr_hugepages` here is `nr_huge_pages` (surplus included), unlike the sysctl.
/// Stores parse with `kstrtoul(buf, 10)`: `-1`, `foo`, `" 5"`, `"5 "` are EINVAL, 2^64 is
/// ERANGE, a trailing newline is fine; a zero-length write never reaches the store.
public enum HugetlbSysfsArea: KernelFileArea {
    public static let mountPoint = ["sys", "kernel", "mm", "hugepages"]

    public static func lookup(_ relative: ArraySlice<String>, machine m: Machine) -> KernelNode? {
        guard m.hugetlb.initialized else { return nil }
        guard let first = relative.first else { return .directory(.fixed(m.hugetlb.hstates.map(\.name))) }
        guard let hi = m.hugetlb.hstates.firstIndex(where: { $0.name == first }) else { return nil }
        let files = globalFiles(m, hi)
        if relative.count == 1 { return .directory(.fixed(Array(files.keys))) }
        guard relative.count == 2, let f = files[relative[relative.startIndex + 1]] else { return nil }
        return .file(f)
    }

    static func globalFiles(_ m: Machine, _ hi: Int) -> [String: KernelFile] {
        var files: [String: KernelFile] = [
            "nr_hugepages": nrHugepagesFile(hi, node: nil),
            "nr_hugepages_mempolicy": nrHugepagesFile(hi, node: nil),
            "nr_overcommit_hugepages": KernelFile(
                mode: 0o644, show: { "\($0.hugetlb.hstates[hi].nrOvercommitHugePages)\n" },
                store: { m, bytes, _ in
                    guard let buf = sysfsStoreBuffer(bytes) else { return 0 }
                    // nr_overcommit_hugepages_store: gigantic sizes are refused before parsing.
                    guard !m.hugetlb.hstates[hi].isGigantic else {
                        throw KernelError(.invalidArgument, "gigantic hstate")
                    }
                    try m.setOvercommitHugePages(hstate: hi, try kstrtoul(buf, base: 10))
                    return buf.count
                }),
            "free_hugepages": .readOnly { "\($0.hugetlb.hstates[hi].freeHugePages)\n" },
            "resv_hugepages": .readOnly { "\($0.hugetlb.hstates[hi].resvHugePages)\n" },
            "surplus_hugepages": .readOnly { "\($0.hugetlb.hstates[hi].surplusHugePages)\n" }
        ]
        if m.hugetlb.hstates[hi].demoteOrder > 0 { files.merge(demoteFiles(hi, node: nil)) { a, _ in a } }
        return files
    }

    /// `nr_hugepages` (and `_mempolicy`: the model has no task mempolicy, so they match),
    /// global or for one node.
    static func nrHugepagesFile(_ hi: Int, node: Int?) -> KernelFile {
        KernelFile(
            mode: 0o644,
            show: { m in
                let h = m.hugetlb.hstates[hi]
                return "\(node.map { h.nrHugePagesNode[$0] } ?? h.nrHugePages)\n"
            },
            store: { m, bytes, ctx in
                guard let buf = sysfsStoreBuffer(bytes) else { return 0 }
                let count = try kstrtoul(buf, base: 10)
                m.setMaxHugePages(hstate: hi, count: count, node: node, deadline: ctx.deadline)
                return buf.count
            })
    }

    /// `demote` (write-only) and `demote_size` (`"%lukB\n"`, memparse on store).
    static func demoteFiles(_ hi: Int, node: Int?) -> [String: KernelFile] {
        [
            "demote": KernelFile(
                mode: 0o200, show: nil,
                store: { m, bytes, _ in
                    guard let buf = sysfsStoreBuffer(bytes) else { return 0 }
                    let n = try kstrtoul(buf, base: 10)
                    try m.demoteHugePages(hstate: hi, count: n, node: node)
                    return buf.count
                }),
            "demote_size": KernelFile(
                mode: 0o644,
                show: { m in
                    "\((Int(kernelPageSize) << m.hugetlb.hstates[hi].demoteOrder) >> 10)kB\n"
                },
                store: { m, bytes, _ in
                    guard let buf = sysfsStoreBuffer(bytes) else { return 0 }
                    try m.setDemoteSize(hstate: hi, bytes: memparse(buf).value)
                    return buf.count
                })
        ]
    }
}

/// `/sys/devices/system/node/nodeN/hugepages/hugepages-<N>kB/{nr_hugepages, free_hugepages,
/// surplus_hugepages}` (`per_node_hstate_attrs`, plus demote files as the global directory
/// has them), for every online node. Merges with the node area's directories.
public enum HugetlbNodeSysfsArea: KernelFileArea {
    public static let mountPoint = ["sys", "devices", "system", "node"]

    public static func lookup(_ relative: ArraySlice<String>, machine m: Machine) -> KernelNode? {
        guard m.hugetlb.initialized else { return nil }
        guard let first = relative.first else { return .directory(.fixed([])) }
        guard first.hasPrefix("node"), let nid = Int(first.dropFirst(4)), String(nid) == first.dropFirst(4),
            m.nodes.indices.contains(nid), m.nodes[nid].exists
        else { return nil }
        let rest = relative.dropFirst()
        guard let second = rest.first else { return .directory(.fixed(["hugepages"])) }
        guard second == "hugepages" else { return nil }
        let rest2 = rest.dropFirst()
        guard let third = rest2.first else { return .directory(.fixed(m.hugetlb.hstates.map(\.name))) }
        guard let hi = m.hugetlb.hstates.firstIndex(where: { $0.name == third }) else { return nil }
        var files: [String: KernelFile] = [
            "nr_hugepages": HugetlbSysfsArea.nrHugepagesFile(hi, node: nid),
            "free_hugepages": .readOnly { "\($0.hugetlb.hstates[hi].freeHugePagesNode[nid])\n" },
            "surplus_hugepages": .readOnly { "\($0.hugetlb.hstates[hi].surplusHugePagesNode[nid])\n" }
        ]
        if m.hugetlb.hstates[hi].demoteOrder > 0 {
            files.merge(HugetlbSysfsArea.demoteFiles(hi, node: nid)) { a, _ in a }
        }
        let rest3 = rest2.dropFirst()
        guard let name = rest3.first else { return .directory(.fixed(Array(files.keys))) }
        guard rest3.count == 1, let f = files[name] else { return nil }
        return .file(f)
    }
}
