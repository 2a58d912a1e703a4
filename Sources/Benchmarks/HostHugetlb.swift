import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host's kernel files `memhp bench --host` touches, behind one seam: `root` is "/" on the
/// host and a scratch directory in tests, so the save/restore logic is tested without root.
public struct HostFiles: Sendable {
    public var root: String
    public static let nrHugepages = "proc/sys/vm/nr_hugepages"
    public static let optimizeVmemmap = "proc/sys/vm/hugetlb_optimize_vmemmap"

    public init(root: String = "/") { self.root = root.hasSuffix("/") ? root : root + "/" }
    public func path(_ rel: String) -> String { root + rel }
    public func exists(_ rel: String) -> Bool { access(path(rel), F_OK) == 0 }

    public func read(_ rel: String) throws -> String {
        do {
            return try String(contentsOfFile: path(rel), encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
        } catch { throw HostBenchError.cannotRead(path(rel)) }
    }

    /// One write(2) of `value`, as `echo value > file` does: the kernel's errno comes back.
    public func write(_ rel: String, _ value: String) throws {
        let fd = open(path(rel), O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw HostBenchError.cannotWrite(path(rel), errno) }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let n = bytes.withUnsafeBytes { hostWrite(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw HostBenchError.cannotWrite(path(rel), errno) }
    }
}

public enum HostBenchError: Error, CustomStringConvertible, Equatable {
    case notRoot
    case missing(String)
    case cannotRead(String)
    case cannotWrite(String, Int32)
    public var description: String {
        switch self {
        case .notRoot:
            "memhp bench --host changes the host's HugeTLB pool and needs root (run it with sudo); nothing was changed"
        case .missing(let p):
            "memhp bench --host: \(p) does not exist (a kernel without CONFIG_HUGETLB_PAGE or CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP); nothing was changed"
        case .cannotRead(let p): "memhp bench --host: cannot read \(p)"
        case .cannotWrite(let p, let e): "memhp bench --host: write to \(p) failed: \(String(cString: strerror(e)))"
        }
    }
}

/// Saves host settings before they change and puts them back on every way out: normal return,
/// a thrown error (`defer`), and SIGINT/SIGTERM/SIGHUP (the handler restores with raw
/// open/write, which are async-signal-safe, then exits 128+signal).
public final class HostSettingsGuard: @unchecked Sendable {
    /// Path and value as C strings, prepared before any change so the handler allocates nothing.
    private var saved: [(path: [CChar], value: [UInt8])] = []
    private var restored = false

    /// The guard the signal handlers restore; one at a time.
    nonisolated(unsafe) static var active: HostSettingsGuard?

    /// Reads every file's current value. Files restore in the reverse of this order
    /// (the pool size before the HVO switch it was grown under).
    public init(files: HostFiles, save rels: [String]) throws {
        for rel in rels {
            let v = try files.read(rel)
            saved.append((Array(files.path(rel).utf8CString), Array((v + "\n").utf8)))
        }
    }

    /// Install SIGINT/SIGTERM/SIGHUP handlers that restore then exit.
    public func armSignals() {
        HostSettingsGuard.active = self
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { s in
                HostSettingsGuard.active?.restore()
                _exit(128 + s)
            }
        }
    }

    /// Put every saved value back (idempotent). Returns the paths that could not be written.
    @discardableResult
    public func restore() -> [String] {
        if restored { return [] }
        restored = true
        var failed: [String] = []
        for (path, value) in saved.reversed() {
            let fd = path.withUnsafeBufferPointer { open($0.baseAddress!, O_WRONLY | O_TRUNC) }
            var ok = fd >= 0
            if ok {
                let n = value.withUnsafeBytes { hostWrite(fd, $0.baseAddress, $0.count) }
                ok = n == value.count
                close(fd)
            }
            if !ok { failed.append(path.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }) }
        }
        return failed
    }

    /// Handlers back to the default once the host is restored.
    public func disarmSignals() {
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, SIG_DFL) }
        if HostSettingsGuard.active === self { HostSettingsGuard.active = nil }
    }
}

/// `memhp bench --host`: this machine's own kernel growing and shrinking the 2 MiB pool by
/// `pages`, HVO off then on, timed around each write(2) of nr_hugepages (the kernel does the
/// work in the writer's context). The pool returns to where it was, and both settings to
/// what they were, however the run ends.
public enum HostHugetlbBench {
    public struct Timing: Codable, Sendable {
        public var hvo: Bool
        /// Pages the kernel actually added (it may stop short when memory is fragmented).
        public var grown: Int
        public var growSeconds: [Double]
        public var shrinkSeconds: [Double]
    }

    /// `isRoot` and `hook` are seams for tests (`hook` runs after every write the bench makes,
    /// with the file and the value, and may throw to simulate an interrupted run).
    public static func run(
        files: HostFiles = HostFiles(), pages: Int = 2048, runs: Int = 3,
        isRoot: Bool = geteuid() == 0,
        hook: ((String, String) throws -> Void)? = nil
    ) throws -> [Timing] {
        guard isRoot else { throw HostBenchError.notRoot }
        for rel in [HostFiles.optimizeVmemmap, HostFiles.nrHugepages] where !files.exists(rel) {
            throw HostBenchError.missing(files.path(rel))
        }
        let guardian = try HostSettingsGuard(files: files, save: [HostFiles.optimizeVmemmap, HostFiles.nrHugepages])
        guardian.armSignals()
        defer {
            let failed = guardian.restore()
            guardian.disarmSignals()
            for p in failed {
                FileHandle.standardError.write(Data("memhp bench --host: could not restore \(p)\n".utf8))
            }
        }
        guard let base = Int(try files.read(HostFiles.nrHugepages)) else {
            throw HostBenchError.cannotRead(files.path(HostFiles.nrHugepages))
        }
        func set(_ rel: String, _ v: String) throws {
            try files.write(rel, v)
            try hook?(rel, v)
        }
        var out: [Timing] = []
        for hvo in [false, true] {
            try set(HostFiles.optimizeVmemmap, hvo ? "1" : "0")
            var t = Timing(hvo: hvo, grown: 0, growSeconds: [], shrinkSeconds: [])
            for _ in 0..<runs {
                let t0 = BenchTimer.monotonic()
                try set(HostFiles.nrHugepages, "\(base + pages)")
                let t1 = BenchTimer.monotonic()
                t.grown = (Int(try files.read(HostFiles.nrHugepages)) ?? base) - base
                try set(HostFiles.nrHugepages, "\(base)")
                let t2 = BenchTimer.monotonic()
                t.growSeconds.append(t1 - t0)
                t.shrinkSeconds.append(t2 - t1)
            }
            out.append(t)
        }
        return out
    }
}

/// write(2), named apart from the enclosing types' own `write`.
private func hostWrite(_ fd: Int32, _ buf: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buf, count) }
