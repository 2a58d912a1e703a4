import FUSEServer
import Foundation
import KernelFS
import MemoryModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unmodified `lsmem` (util-linux) over the model served by FUSE, the server `memhp sandbox`
/// runs: every block's `removable`, `state` and `valid_zones` read and its directory listed,
/// each a round of FUSE requests. The machine's boot is set-up (not timed); the timed part is
/// lsmem's run, its CPU time being this process's (the serving thread) plus lsmem's own.
/// lsmem reads the tree through `--sysroot` at the FUSE mount, which opens the memory
/// directory once and then goes through it as it does under the sandbox's bind.
enum LsmemOverFUSE {
    static func run(_ config: MachineConfig, arguments: [String]) throws -> BenchSample {
        #if os(Linux)
        guard getuid() == 0, access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw BenchSkipped("needs root and /dev/fuse (as memhp sandbox does)")
        }
        guard let lsmem = executableInPath("lsmem") else { throw BenchSkipped("lsmem (util-linux) is not installed") }
        let fs = KernelFS(machine: try Machine.boot(config))
        let blocks = fs.withLock { $0.blocks.count }
        // A private mount namespace: the FUSE mount never shows on the host and goes with us.
        guard unshareMountNamespace(), mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw BenchSkipped("cannot make a private mount namespace: \(String(cString: strerror(errno)))")
        }
        var template = Array("/tmp/memhp-bench-lsmem.XXXXXX".utf8CString)
        guard let dirPtr = mkdtemp(&template) else {
            throw BenchSkipped("mkdtemp: \(String(cString: strerror(errno)))")
        }
        let root = String(cString: dirPtr)
        defer { _ = rmdir(root) }
        let server = FUSEServer(fs: fs, mountPoint: root)
        try server.mount()
        let serving = server.serveInBackground()
        defer { serving.finish() }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: lsmem)
        p.arguments = ["--sysroot", root] + arguments
        let out = Pipe()
        p.standardOutput = out
        var before = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &before)
        let t = BenchTimer()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var s = t.sample()
        var after = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &after)
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw BenchFailure("lsmem \(arguments.joined(separator: " ")) exited with status \(p.terminationStatus)")
        }
        let lsmemCPU =
            seconds(after.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_utime) - seconds(before.ru_stime)
        s.cpu += lsmemCPU
        // lsmem's summary line says it saw every block online.
        let total = text.split(separator: "\n").first { $0.hasPrefix("Total online memory:") }
        s.figures = [
            "blocks": Double(blocks), "lsmem_cpu_s": lsmemCPU, "output_lines": Double(text.split(separator: "\n").count)
        ]
        s.note = total.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") } ?? ""
        return s
        #else
        throw BenchSkipped("FUSE serving is Linux only")
        #endif
    }

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

    /// The first `name` in $PATH that is executable.
    static func executableInPath(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}

/// A benchmark whose workload went wrong (not a skip: the figure would be meaningless).
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
