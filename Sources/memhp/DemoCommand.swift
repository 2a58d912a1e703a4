import ArgumentParser
import KernelFS
import MemoryModel

/// `memhp demo` (the default): boot the captured 1 GiB guest with two DIMMs and show its
/// memory as the kernel shows it.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Boot a default machine and show what memhp models.")
    func run() throws {
        var options = try MachineOptions.parse([])
        options.dimms = ["512M", "512M"]
        let fs = KernelFS(machine: try options.boot())
        print("memhp demo: 1 GiB guest, maxmem 4G, 4 slots, two 512 MiB DIMMs (QEMU pc, Linux 6.1)\n")
        fs.withLock { m in for line in m.kmsg { print(line) } }
        for p in ["/proc/iomem", "/proc/buddyinfo"] { printFile(fs, p) }
        printBlocks(fs)
    }
}
