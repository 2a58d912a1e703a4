import ArgumentParser
import KernelFS
import MemoryModel

/// `memhp boot`: boot a machine and print what the kernel shows about its memory.
struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot", abstract: "Boot a machine and print the kernel's memory views.")
    @OptionGroup var machine: MachineOptions
    @Option(name: .customLong("show"), help: "Kernel files to print (repeatable); default: dmesg, iomem, meminfo, zoneinfo, buddyinfo, blocks.")
    var paths: [String] = []

    func run() throws {
        let fs = KernelFS(machine: try machine.boot())
        if paths.isEmpty {
            print("# dmesg (memory)")
            fs.withLock { m in for line in m.kmsg { print(line) } }
            for p in ["/proc/iomem", "/proc/meminfo", "/proc/zoneinfo", "/proc/buddyinfo"] { printFile(fs, p) }
            printBlocks(fs)
        } else {
            for p in paths { printFile(fs, p) }
        }
    }
}

func printFile(_ fs: KernelFS, _ path: String) {
    print("# \(path)")
    do { print(try fs.read(path), terminator: "") } catch let e as KernelError {
        print("(\(e.errno.symbol): \(e.errno.message))")
    } catch { print("(\(error))") }
}

/// One line per memory block, as `lsmem -a -o RANGE,BLOCK,STATE,ZONES,NODE` would show it.
func printBlocks(_ fs: KernelFS) {
    print("# /sys/devices/system/memory")
    let names = ((try? fs.list("/sys/devices/system/memory")) ?? []).filter { $0.hasPrefix("memory") }
        .sorted { Int($0.dropFirst(6)) ?? 0 < Int($1.dropFirst(6)) ?? 0 }
    for n in names {
        let dir = "/sys/devices/system/memory/\(n)"
        let state = (try? fs.read("\(dir)/state")) ?? "?\n"
        let zones = (try? fs.read("\(dir)/valid_zones")) ?? "?\n"
        print("\(n) state=\(state.dropLast()) valid_zones=\"\(zones.dropLast())\"")
    }
}

/// `memhp read PATH...`: boot a machine and read kernel files.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Boot a machine and read kernel files.")
    @OptionGroup var machine: MachineOptions
    @Argument(help: "Paths under /sys or /proc.") var paths: [String]
    func run() throws {
        let fs = KernelFS(machine: try machine.boot())
        var failed = false
        for p in paths {
            do { print(try fs.read(p), terminator: "") } catch let e as KernelError {
                var err = StandardError()
                print("memhp: \(p): \(e.errno.message)", to: &err)
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
