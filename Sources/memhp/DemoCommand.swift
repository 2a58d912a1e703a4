import ArgumentParser
import KernelFS
import MemoryModel

/// `memhp demo` (what `memhp` alone runs): the seed's question with numbers. A 1 GiB guest
/// with a 512 MiB DIMM onlined movable: what HVO saves on 100 huge pages, and what it costs
/// when the kernel zones are full and a movable block must go offline (seed case 3).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Show what memhp models: HVO's saving and its offline risk.",
        discussion: "With --json, one JSON object on stdout; its keys are described in docs/json.md.")
    @Option(parsing: .unconditional, help: "Seed for every random choice the model makes.") var seed: UInt64 = 1
    @Flag(
        help:
            "Print the results as one JSON object (machine, boot, memory_blocks, hvo_saving, offline_risk) instead of text."
    )
    var json = false

    /// The movable blocks of the DIMM, and the one the risk case offlines.
    static let dimmBlocks = 32...35, offlined = 33, hugePages = 100, poolForRisk = 128

    func run() throws {
        let r = try DemoResult.measure(seed: seed)
        if json { print(try encodeJSON(r)); return }
        print("memhp demo: QEMU pc, -m 1G,slots=4,maxmem=4G, one 512 MiB DIMM, Linux 6.1 (Debian 12)\n")
        print("## Boot (dmesg, memory lines)")
        for line in r.boot { print(line) }
        print("\n## Memory blocks after `echo online_movable > memory32..35/state`")
        print("# /sys/devices/system/memory")
        for b in r.memoryBlocks { print("memory\(b.block) state=\(b.state) valid_zones=\"\(b.validZones)\"") }

        print("\n## HVO's saving: pages it costs to create \(Self.hugePages) x 2 MiB huge pages")
        for s in r.hvoSaving {
            print(
                "hugetlb_optimize_vmemmap=\(s.hugetlbOptimizeVmemmap): \(s.pagesUsed) pages (\(s.pagesSaved) saved, \(s.savedPerHugePage) per huge page)"
            )
        }
        print(
            "\n## The risk (seed case 3): offline a movable block holding free huge pages while the kernel zones are full"
        )
        for o in r.offlineRisk {
            let result = o.offlineErrno.map { "write error: \(o.offlineError ?? "") (\($0))" } ?? "ok"
            print(
                "HVO \(o.hugetlbOptimizeVmemmap == 1 ? "on " : "off"): filled the kernel zones with \(o.ramfsPages) ramfs pages; echo offline > memory\(o.block)/state: \(result); memory\(o.block) \(o.stateAfter); nr_hugepages \(o.nrHugepagesBefore) -> \(o.nrHugepagesAfter)"
            )
            for w in o.why { print("  why: \(w)") }
        }
        print("\nSee `memhp --help` for boot, run, conformance, kernel-run, export, mount and sandbox.")
    }
}

/// What the demo measures; `--json` prints it as is (docs/json.md).
struct DemoResult: Encodable {
    struct Saving: Encodable {
        var hugetlbOptimizeVmemmap: Int
        var hugePages: Int
        /// Free pages the pool took (huge pages plus their vmemmap, less what HVO freed).
        var pagesUsed: Int
        var pagesSaved: Int
        var savedPerHugePage: Double
        enum CodingKeys: String, CodingKey {
            case hugetlbOptimizeVmemmap = "hugetlb_optimize_vmemmap", hugePages = "huge_pages", pagesUsed = "pages_used"
            case pagesSaved = "pages_saved", savedPerHugePage = "saved_per_huge_page"
        }
    }
    struct Offline: Encodable {
        var hugetlbOptimizeVmemmap: Int
        var ramfsPages: Int
        var block: Int
        /// nil when the offline succeeded; else the errno's symbol and text.
        var offlineErrno: String?
        var offlineError: String?
        var stateAfter: String
        var nrHugepagesBefore: Int
        var nrHugepagesAfter: Int
        /// The model's reasons, what dynamic debug would show on Linux.
        var why: [String]
        enum CodingKeys: String, CodingKey {
            case hugetlbOptimizeVmemmap = "hugetlb_optimize_vmemmap", ramfsPages = "ramfs_pages", block
            case offlineErrno = "offline_errno", offlineError = "offline_error", stateAfter = "state_after"
            case nrHugepagesBefore = "nr_hugepages_before", nrHugepagesAfter = "nr_hugepages_after", why
        }
    }
    var format = jsonFormat
    var machine: MachineSummary
    /// dmesg's memory lines.
    var boot: [String]
    var memoryBlocks: [MemoryBlockSummary]
    var hvoSaving: [Saving]
    var offlineRisk: [Offline]
    enum CodingKeys: String, CodingKey {
        case format, machine, boot, memoryBlocks = "memory_blocks", hvoSaving = "hvo_saving", offlineRisk =
            "offline_risk"
    }

    static func machine(seed: UInt64) throws -> KernelFS {
        var options = try MachineOptions.parse(["--seed", "\(seed)"])
        options.dimms = ["512M"]
        return KernelFS(machine: try options.boot())
    }

    static func measure(seed: UInt64) throws -> DemoResult {
        let fs = try machine(seed: seed)
        let boot = fs.withLock { m in
            m.kmsg.filter { $0.hasPrefix("  ") || $0.hasPrefix("Memory:") || $0.hasPrefix("HugeTLB") }
        }
        for b in DemoCommand.dimmBlocks {
            try fs.write("/sys/devices/system/memory/memory\(b)/state", "online_movable\n")
        }
        var result = DemoResult(
            machine: fs.withLock { MachineSummary($0) }, boot: boot, memoryBlocks: readMemoryBlocks(fs),
            hvoSaving: [], offlineRisk: [])

        let n = DemoCommand.hugePages
        // The saving is HVO's, so both measurements start from the same warmed state: the
        // first lookup of the pool's file allocates its dentry, inode and LSM blob (slab pages
        // now and then), which is no part of either pool's cost. Read it once first, as one
        // measuring a real kernel would.
        _ = try fs.read("/proc/sys/vm/nr_hugepages")
        for hvo in [0, 1] {
            try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", "\(hvo)\n")
            let before = fs.withLock { $0.totalFreePages + $0.totalPCPPages }
            try fs.write("/proc/sys/vm/nr_hugepages", "\(n)\n")
            let cost = before - fs.withLock { $0.totalFreePages + $0.totalPCPPages }
            try fs.write("/proc/sys/vm/nr_hugepages", "0\n")
            result.hvoSaving.append(
                Saving(
                    hugetlbOptimizeVmemmap: hvo, hugePages: n, pagesUsed: cost,
                    pagesSaved: n * 512 - cost, savedPerHugePage: Double(n * 512 - cost) / Double(n)))
        }

        for hvo in [1, 0] {
            let fs = try machine(seed: seed)
            for b in DemoCommand.dimmBlocks {
                try fs.write("/sys/devices/system/memory/memory\(b)/state", "online_movable\n")
            }
            try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", "\(hvo)\n")
            try fs.write("/proc/sys/vm/nr_hugepages", "\(DemoCommand.poolForRisk)\n")
            let filled = try fs.withLock { m -> Int in
                let filler = try m.createOwner(name: "ramfs-filler", kind: .ramfs, node: 0, bound: true)
                var n = 0
                while m.allocate(owner: filler, blocks: 1) == 1 { n += 1 }
                return n
            }
            let block = DemoCommand.offlined
            var errnoSymbol: String?, errnoText: String?
            do { try fs.write("/sys/devices/system/memory/memory\(block)/state", "offline\n") } catch let e
                as KernelError
            {
                errnoSymbol = e.errno.symbol; errnoText = e.errno.message
            }
            let pool = Int(try fs.read("/proc/sys/vm/nr_hugepages").dropLast()) ?? -1
            let state = String(try fs.read("/sys/devices/system/memory/memory\(block)/state").dropLast())
            var why: [String] = []
            if hvo == 1 {
                fs.withLock { m in
                    var seen: Set<String> = []
                    for e in m.explain.entries.suffix(4) where seen.insert(e.message).inserted { why.append(e.message) }
                }
            }
            result.offlineRisk.append(
                Offline(
                    hugetlbOptimizeVmemmap: hvo, ramfsPages: filled, block: block, offlineErrno: errnoSymbol,
                    offlineError: errnoText, stateAfter: state, nrHugepagesBefore: DemoCommand.poolForRisk,
                    nrHugepagesAfter: pool, why: why))
        }
        return result
    }
}
