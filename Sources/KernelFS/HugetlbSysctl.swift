import MemoryModel

/// HugeTLB's files in `/proc/sys/vm` (kernel/sysctl.c `vm_table` and mm/hugetlb_vmemmap.c):
///
/// - `nr_hugepages`, `nr_hugepages_mempolicy`: read `max_huge_pages` of the default hstate
///   (the persistent target, surplus excluded — sysfs `nr_hugepages` and HugePages_Total show
///   the total); write through `proc_doulongvec_minmax` (base 0, no sign: `-1` EINVAL,
///   overflow EINVAL, `"1 2"` a partial write of 2 bytes) and `set_max_huge_pages`. A write
///   with no number (zero bytes) resizes to the current target.
/// - `nr_overcommit_hugepages`: EINVAL for a gigantic default size, before parsing.
/// - `hugetlb_optimize_vmemmap`: `proc_dobool` (`2` reads back `1`), registered only when an
///   hstate is optimizable (6.1 profile).
public enum HugetlbSysctlArea: KernelFileArea {
    public static let mountPoint = ["proc", "sys", "vm"]

    static let names = ["nr_hugepages", "nr_hugepages_mempolicy", "nr_overcommit_hugepages", "hugetlb_optimize_vmemmap"]

    /// The files this machine has (`file(named:)` decides which of `names` exist).
    static func files(_ m: Machine) -> [String: KernelFile] {
        var f: [String: KernelFile] = [:]
        for n in names { f[n] = file(named: n, m) }
        return f
    }

    /// One of `files(m)` by name, without building the table (every write looks its file up).
    static func file(named name: String, _ m: Machine) -> KernelFile? {
        switch name {
        case "nr_hugepages", "nr_hugepages_mempolicy": nrHugepages
        case "nr_overcommit_hugepages": nrOvercommitHugepages
        case "hugetlb_optimize_vmemmap" where m.hugetlb.anyOptimizable: hugetlbOptimizeVmemmap
        default: nil
        }
    }

    static let nrOvercommitHugepages = KernelFile(
        mode: 0o644,
        show: { m in
            "\(m.hugetlb.defaultHState?.nrOvercommitHugePages ?? 0)\n"
        },
        store: { m, bytes, ctx in
            guard let d = m.hugetlb.defaultHState else { throw KernelError(.notSupported) }
            guard !d.isGigantic else { throw KernelError(.invalidArgument, "default hstate is gigantic") }
            let w = try procDoulongvecMinmax(bytes, position: ctx.position)
            if let v = w.values.first { try m.setOvercommitHugePages(hstate: m.hugetlb.defaultIndex, v) }
            return w.consumed
        })

    static let hugetlbOptimizeVmemmap = KernelFile(
        mode: 0o644,
        show: { m in
            m.hugetlb.optimizeVmemmap ? "1\n" : "0\n"
        },
        store: { m, bytes, ctx in
            let w = try procDobool(bytes, position: ctx.position)
            if let v = w.values.first { try m.setHugetlbOptimizeVmemmap(v) }
            return w.consumed
        })

    static let nrHugepages = KernelFile(
        mode: 0o644,
        show: { m in
            "\(m.hugetlb.defaultHState?.maxHugePagesULong ?? 0)\n"
        },
        store: { m, bytes, ctx in
            guard let d = m.hugetlb.defaultHState else { throw KernelError(.notSupported) }
            let w = try procDoulongvecMinmax(bytes, position: ctx.position)
            let count = w.values.first ?? d.maxHugePagesULong
            m.setMaxHugePages(hstate: m.hugetlb.defaultIndex, count: count, deadline: ctx.deadline)
            return w.consumed
        })

    public static func lookup(_ relative: ArraySlice<String>, machine m: Machine) -> KernelNode? {
        if relative.isEmpty { return .directory(.fixed(Array(files(m).keys))) }
        guard relative.count == 1, let file = file(named: relative.first!, m) else { return nil }
        return .file(file)
    }
}
