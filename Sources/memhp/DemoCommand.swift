import ArgumentParser
import KernelFS
import MemoryModel

/// `memhp demo` (the default): the seed's question with numbers. A 1 GiB guest with a
/// 512 MiB DIMM onlined movable: what HVO saves on 100 huge pages, and what it costs when
/// the kernel zones are full and a movable block must go offline (seed case 3).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Show what memhp models: HVO's saving and its offline risk.")
    @Option(help: "Seed for every random choice the model makes.") var seed: UInt64 = 1

    func run() throws {
        print("memhp demo: QEMU pc, -m 1G,slots=4,maxmem=4G, one 512 MiB DIMM, Linux 6.1 (Debian 12)\n")
        let fs = try machine()
        print("## Boot (dmesg, memory lines)")
        fs.withLock { m in for line in m.kmsg where line.hasPrefix("  ") || line.hasPrefix("Memory:") || line.hasPrefix("HugeTLB") { print(line) } }
        for b in 32...35 { try fs.write("/sys/devices/system/memory/memory\(b)/state", "online_movable\n") }
        print("\n## Memory blocks after `echo online_movable > memory32..35/state`")
        printBlocks(fs)

        print("\n## HVO's saving: pages it costs to create 100 x 2 MiB huge pages")
        for hvo in ["0", "1"] {
            try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", hvo + "\n")
            let before = fs.withLock { $0.totalFreePages + $0.totalPCPPages }
            try fs.write("/proc/sys/vm/nr_hugepages", "100\n")
            let cost = before - fs.withLock { $0.totalFreePages + $0.totalPCPPages }
            try fs.write("/proc/sys/vm/nr_hugepages", "0\n")
            print("hugetlb_optimize_vmemmap=\(hvo): \(cost) pages (\(100 * 512 - cost) saved, \(Double(100 * 512 - cost) / 100) per huge page)")
        }

        print("\n## The risk (seed case 3): offline a movable block holding free huge pages while the kernel zones are full")
        for hvo in ["1", "0"] {
            let fs = try machine()
            for b in 32...35 { try fs.write("/sys/devices/system/memory/memory\(b)/state", "online_movable\n") }
            try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", hvo + "\n")
            try fs.write("/proc/sys/vm/nr_hugepages", "128\n")
            let filled = try fs.withLock { m -> Int in
                let filler = try m.createOwner(name: "ramfs-filler", kind: .ramfs, node: 0, bound: true)
                var n = 0
                while m.allocate(owner: filler, blocks: 1) == 1 { n += 1 }
                return n
            }
            let result: String
            do { try fs.write("/sys/devices/system/memory/memory33/state", "offline\n"); result = "ok" } catch let e as KernelError {
                result = "write error: \(e.errno.message) (\(e.errno.symbol))"
            }
            let pool = try fs.read("/proc/sys/vm/nr_hugepages").dropLast()
            let state = try fs.read("/sys/devices/system/memory/memory33/state").dropLast()
            print("HVO \(hvo == "1" ? "on " : "off"): filled the kernel zones with \(filled) ramfs pages; echo offline > memory33/state: \(result); memory33 \(state); nr_hugepages 128 -> \(pool)")
            if hvo == "1" {
                fs.withLock { m in
                    var seen: Set<String> = []
                    for e in m.explain.entries.suffix(4) where seen.insert(e.message).inserted { print("  why: \(e.message)") }
                }
            }
        }
        print("\nSee `memhp --help` for boot, run, conformance, kernel-run, export, mount and sandbox.")
    }

    func machine() throws -> KernelFS {
        var options = try MachineOptions.parse(["--seed", "\(seed)"])
        options.dimms = ["512M"]
        return KernelFS(machine: try options.boot())
    }
}
