import ArgumentParser
import Foundation
import KernelFS
import MemoryModel

/// `memhp boot`: boot a machine and print what the kernel shows about its memory.
struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot", abstract: "Boot a machine and print the kernel's memory views.",
        discussion: """
        --show takes the names \(BootView.names.joined(separator: ", ")) (dmesg: the kernel log's \
        memory lines; blocks: one line per memory block) or any /sys or /proc path. A path the \
        model does not have is reported on stderr and the exit status is 1. With --json, one \
        JSON object on stdout; its keys are described in docs/json.md.
        """)
    @OptionGroup var machine: MachineOptions
    @Option(name: .customLong("show"), help: ArgumentHelp(
        "What to print (repeatable): \(BootView.names.joined(separator: ", ")) or a /sys or /proc path; default: all the names.",
        valueName: "name|path"))
    var views: [BootView] = []
    @Flag(help: "Print one JSON object (machine, dmesg, files, memory_blocks) instead of text.")
    var json = false

    func run() throws {
        let m = try machine.boot()
        let fs = KernelFS(machine: m)
        let shown = views.isEmpty ? BootView.all : views
        var failed = false
        if json {
            var report = BootReport(machine: MachineSummary(m))
            for v in shown {
                switch v {
                case .dmesg: report.dmesg = fs.withLock { $0.kmsg }
                case .blocks: report.memoryBlocks = readMemoryBlocks(fs)
                case .file(let path):
                    do { report.files[path] = try fs.read(path) } catch let e as KernelError {
                        printError("memhp boot: \(path): \(e.errno.message)")
                        report.errors[path] = e.errno.symbol
                        failed = true
                    }
                }
            }
            print(try encodeJSON(report))
        } else {
            for v in shown {
                switch v {
                case .dmesg:
                    print("# dmesg (memory)")
                    fs.withLock { m in for line in m.kmsg { print(line) } }
                case .blocks: printBlocks(fs)
                case .file(let path): if !printFile(fs, path) { failed = true }
                }
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// One thing `boot --show` prints: the kernel log, the memory blocks, or a file.
enum BootView: ExpressibleByArgument, Equatable {
    case dmesg, blocks, file(String)

    static let files = ["iomem": "/proc/iomem", "meminfo": "/proc/meminfo", "zoneinfo": "/proc/zoneinfo", "buddyinfo": "/proc/buddyinfo"]
    static let names = ["dmesg", "iomem", "meminfo", "zoneinfo", "buddyinfo", "blocks"]
    static let all: [BootView] = names.compactMap { BootView(argument: $0) }

    init?(argument: String) {
        switch argument {
        case "dmesg": self = .dmesg
        case "blocks": self = .blocks
        default:
            if let p = Self.files[argument] { self = .file(p) }
            else if argument.hasPrefix("/sys/") || argument.hasPrefix("/proc/") { self = .file(argument) }
            else { return nil }
        }
    }
    static var allValueStrings: [String] { names }
}

/// Prints `# PATH` and the file's text; a file the model does not have goes to stderr.
@discardableResult
func printFile(_ fs: KernelFS, _ path: String) -> Bool {
    do {
        let text = try fs.read(path)
        print("# \(path)")
        print(text, terminator: "")
        return true
    } catch let e as KernelError {
        printError("memhp: \(path): \(e.errno.message)")
    } catch {
        printError("memhp: \(path): \(error)")
    }
    return false
}

/// One memory block as `lsmem -a -o RANGE,BLOCK,STATE,ZONES,NODE` would show it.
struct MemoryBlockSummary: Encodable {
    var block: Int
    var state: String
    var validZones: String
    enum CodingKeys: String, CodingKey { case block, state, validZones = "valid_zones" }
}

func readMemoryBlocks(_ fs: KernelFS) -> [MemoryBlockSummary] {
    let ids = ((try? fs.list("/sys/devices/system/memory")) ?? []).filter { $0.hasPrefix("memory") }
        .compactMap { Int($0.dropFirst(6)) }.sorted()
    return ids.map { b in
        let dir = "/sys/devices/system/memory/memory\(b)"
        let state = (try? fs.read("\(dir)/state")) ?? "?\n"
        let zones = (try? fs.read("\(dir)/valid_zones")) ?? "?\n"
        return MemoryBlockSummary(block: b, state: String(state.dropLast()), validZones: String(zones.dropLast()))
    }
}

/// One line per memory block.
func printBlocks(_ fs: KernelFS) {
    print("# /sys/devices/system/memory")
    for b in readMemoryBlocks(fs) { print("memory\(b.block) state=\(b.state) valid_zones=\"\(b.validZones)\"") }
}

/// `memhp read PATH...`: boot a machine and read kernel files.
struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read", abstract: "Boot a machine and read kernel files.",
        discussion: """
        Prints each file's text, as cat(1) would. /proc/kpageflags is binary (one 64-bit word of \
        KPF_* flags per pfn; root-only, mode 0400, on Linux): it is written only with --raw, e.g. \
        `memhp read --raw /proc/kpageflags | od -A d -t x8`. Exit status 1 when a file could not \
        be read.
        """)
    @OptionGroup var machine: MachineOptions
    @Flag(help: "Write binary files (/proc/kpageflags) as raw bytes.")
    var raw = false
    @Argument(help: "Paths under /sys or /proc.") var paths: [String]

    func validate() throws {
        if paths.contains("") { throw ValidationError("an empty path names no file") }
    }

    func run() throws {
        let fs = KernelFS(machine: try machine.boot())
        var failed = false
        for p in paths {
            do {
                if Self.isBinary(fs, p) {
                    guard raw else {
                        printError("memhp read: \(p): a binary file (8 bytes per pfn); add --raw to write its bytes, e.g. memhp read --raw \(p) | od -A d -t x8")
                        failed = true
                        continue
                    }
                    fflush(nil)     // text printed before goes first
                    var offset = 0
                    while true {
                        let bytes = try fs.readBytes(p, offset: offset, count: 1 << 16)
                        if bytes.isEmpty { break }
                        FileHandle.standardOutput.write(Data(bytes))
                        offset += bytes.count
                    }
                } else {
                    print(try fs.read(p), terminator: "")
                }
            } catch let e as KernelError {
                printError("memhp read: \(p): \(e.errno.message)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    /// A file that has bytes and no text (`KernelFile.readBytes`): /proc/kpageflags.
    static func isBinary(_ fs: KernelFS, _ path: String) -> Bool {
        guard let node = try? fs.lookup(path), case .file(let f) = node else { return false }
        return f.readBytes != nil
    }
}
