import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an export stopped: the host path and the errno the host gave.
public struct ExportError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Errno
    public var operation: String
    public var description: String { "\(operation) \(path): \(errno.message)" }
}

/// What an export wrote.
public struct ExportSummary: Sendable, Equatable {
    public var directories = 0
    public var files = 0
    public var symlinks = 0
}

extension KernelFS {
    /// The directories `memhp export` writes: every area's mount point (the served tree
    /// itself, debugfs included), nested ones left to their parent, /sys first and /proc last.
    public static let exportRoots: [String] = {
        var roots: [String] = []
        for area in areas {
            let mp = "/" + area.mountPoint.joined(separator: "/")
            if !roots.contains(mp) { roots.append(mp) }
        }
        roots = roots.filter { r in !roots.contains { $0 != r && r.hasPrefix($0 + "/") } }
        return roots.filter { !$0.hasPrefix("/proc") } + roots.filter { $0.hasPrefix("/proc") }
    }()

    /// Writes the model's current tree under `directory` as a plain directory tree: every
    /// file with the text a read returns now and the kernel's mode, every symlink as a symlink
    /// (relative, as sysfs makes them), full paths kept (`DIR/sys/devices/system/memory/...`),
    /// so that `lsmem --sysroot DIR` and similar `--sysroot` tools read it as they would read
    /// `/`. It is a snapshot: nothing written to it reaches the model.
    ///
    /// Reading a name for the first time allocates its dentry and inode, on the kernel as in
    /// the model (`Machine.pathWalk`), so a reader's first pass sees the state move under it:
    /// the first files read would show the memory the later lookups then took. Export looks
    /// every name up before it reads any file, as a snapshot of a host whose files were read
    /// once already: every file shows the same state, the one after those lookups.
    ///
    /// Existing entries are replaced. Directories get sysfs' 0755 (procfs' 0555 under /proc),
    /// set after their contents are written so that non-root exports work too.
    @discardableResult
    public func export(to directory: String, roots: [String] = KernelFS.exportRoots) throws -> ExportSummary {
        var summary = ExportSummary()
        var dirModes: [(String, mode_t)] = []
        try Self.makeDirectory(directory, mode: 0o755, summary: &summary)
        // A root the model does not serve (e.g. no hugetlb on this machine) is skipped.
        let trees = try roots.filter { (try? lookup($0)) != nil }.map { (root: $0, nodes: try walk($0)) }
        withLock { m in for t in trees { for (path, _) in t.nodes { walk(path, m) } } }
        for (root, nodes) in trees {
            // Directories above the root (sys, sys/devices, ...) are plain containers.
            var prefix = ""
            for comp in KernelFS.components(root).dropLast() {
                prefix += "/" + comp
                try Self.makeDirectory(directory + prefix, mode: 0o755, summary: &summary)
            }
            for (path, node) in nodes {
                let host = directory + path
                let isProc = path == "/proc" || path.hasPrefix("/proc/")
                switch node {
                case .directory:
                    try Self.makeDirectory(host, mode: 0o755, summary: &summary)
                    dirModes.append((host, isProc ? 0o555 : 0o755))
                case .symlink(let target):
                    try Self.replace(host)
                    guard symlink(target, host) == 0 else {
                        throw ExportError(path: host, errno: .hostCurrent, operation: "symlink")
                    }
                    summary.symlinks += 1
                case .file(let f):
                    // Unreadable attributes (write-only, 0200) are exported empty.
                    let text = f.show == nil || f.mode & 0o444 == 0 ? "" : ((try? read(path)) ?? "")
                    try Self.writeFile(host, Array(text.utf8), mode: mode_t(f.mode & 0o7777))
                    summary.files += 1
                }
            }
        }
        // Deepest first, so that a read-only parent never blocks its children.
        for (host, mode) in dirModes.reversed() where chmod(host, mode) != 0 {
            throw ExportError(path: host, errno: .hostCurrent, operation: "chmod")
        }
        return summary
    }

    static func makeDirectory(_ path: String, mode: mode_t, summary: inout ExportSummary) throws {
        if mkdir(path, mode) == 0 { summary.directories += 1; return }
        let err = Errno.hostCurrent
        var st = stat()
        guard err == .fileExists, lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw ExportError(path: path, errno: err, operation: "mkdir")
        }
        // A directory left read-only by an earlier export must take new entries.
        _ = chmod(path, 0o755)
    }

    /// Removes whatever is at `path` (not a directory), so a new entry can take its place.
    static func replace(_ path: String) throws {
        if unlink(path) != 0, Errno.hostCurrent != .noSuchFileOrDirectory {
            throw ExportError(path: path, errno: .hostCurrent, operation: "unlink")
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        try replace(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ExportError(path: path, errno: .hostCurrent, operation: "open") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { hostWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if Errno.hostCurrent == .interrupted { continue }
                throw ExportError(path: path, errno: .hostCurrent, operation: "write")
            }
            done += n
        }
        guard fchmod(fd, mode) == 0 else { throw ExportError(path: path, errno: .hostCurrent, operation: "chmod") }
    }
}

extension Errno {
    /// The calling thread's `errno` after a failed host call.
    static var hostCurrent: Errno { hostErrno() }
}

/// write(2), named apart from the enclosing types' own `write`.
private func hostWrite(_ fd: Int32, _ buf: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buf, count) }

/// The calling thread's errno after a failed host call.
private func hostErrno() -> Errno { Errno(rawValue: errno) }
