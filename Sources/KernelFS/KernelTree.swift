import MemoryModel
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A node of the kernel's file tree, produced on demand from the machine's state.
public enum KernelNode {
    case directory([String])
    case file(KernelFile)
    case symlink(String)
}

/// One sysfs/procfs attribute: its mode and the kernel's show/store behaviour.
public struct KernelFile {
    public var mode: UInt16
    /// The text a read returns (`show`); nil when the attribute cannot be read.
    public var show: ((Machine) -> String)?
    /// Applies a write of these bytes (`store`), returning how many bytes were consumed,
    /// or throwing the kernel's errno. nil when the attribute cannot be written.
    public var store: ((Machine, [UInt8], WriteContext) throws -> Int)?
    /// The store runs under device_hotplug_lock (`lock_device_hotplug_sysfs`): memory block
    /// `state`/`online` and `probe`. Such writes are serialized with each other, and readers
    /// can see their intermediate states (`going-offline`).
    public var takesHotplugLock: Bool
    /// A binary file's read (/proc/kpageflags): the bytes `pread(2)` of (offset, count)
    /// returns, or its errno. nil for text attributes, whose reads slice `show`'s text.
    public var readBytes: ((Machine, _ offset: Int, _ count: Int) throws -> [UInt8])? = nil

    public init(mode: UInt16, show: ((Machine) -> String)? = nil,
                store: ((Machine, [UInt8], WriteContext) throws -> Int)? = nil, takesHotplugLock: Bool = false) {
        self.mode = mode; self.show = show; self.store = store; self.takesHotplugLock = takesHotplugLock
    }
    public static func readOnly(_ show: @escaping (Machine) -> String) -> KernelFile { KernelFile(mode: 0o444, show: show) }
    /// Readable by root only (debugfs files, /proc/pagetypeinfo).
    public static func readOnlyRoot(_ show: @escaping (Machine) -> String) -> KernelFile { KernelFile(mode: 0o400, show: show) }
}

/// What a writer brings along: when its patience runs out (a signal).
public struct WriteContext: Sendable {
    /// Virtual time (`Machine.clock`, ns) after which a long operation sees a pending signal
    /// and gives up with EINTR, as `offline_pages()` does. nil: the model's default timeout,
    /// or none at all for a writer with `signalPending`.
    public var deadline: UInt64?
    /// A writer waiting in real time (a process in write(2) over FUSE): whether it has a
    /// signal pending now. An offline that cannot progress then blocks, with the machine
    /// lock released, until this says yes, as the kernel's retry loop does.
    public var signalPending: (@Sendable () -> Bool)?
    public init(deadline: UInt64? = nil, signalPending: (@Sendable () -> Bool)? = nil) {
        self.deadline = deadline; self.signalPending = signalPending
    }
}

/// One write through `KernelFS`: what was written, the kernel's answer, and what the model
/// logged meanwhile — its explanations (why, in the kernel's words) and kernel messages. With
/// concurrent writers the logs may include a neighbour's lines.
public struct WriteRecord: Sendable {
    public var path: String
    public var bytes: [UInt8]
    public var result: Result<Int, KernelError>
    public var explanations: [ExplainLog.Entry] = []
    public var kmsg: [String] = []

    /// One line for a log: `PATH <- "VALUE": OK` or `...: EBUSY (Device or resource busy)`,
    /// then the explanations indented (`why:` for a refusal, `note:` otherwise).
    public var summary: String {
        let value = String(decoding: bytes, as: UTF8.self).replacingNewlines()
        var line = "\(path) <- \"\(value)\": "
        switch result {
        case .success(let n): line += n == bytes.count ? "OK" : "wrote \(n) of \(bytes.count) bytes"
        case .failure(let e): line += "\(e.errno.symbol) (\(e.errno.message))"
        }
        let label = (try? result.get()) == nil ? "why" : "note"
        for e in explanations { line += "\n    \(label): \(e.subject): \(e.message)" }
        return line
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        var out = ""
        for c in unicodeScalars { out += c == "\n" ? "\\n" : String(c) }
        return out
    }
}

/// One part of the tree: everything under `mountPoint`.
public protocol KernelFileArea {
    /// Path components below `/` that this area serves, e.g. `["sys", "devices", "system", "memory"]`.
    static var mountPoint: [String] { get }
    /// The node at `relative` (components below the mount point; empty = the mount point itself).
    static func lookup(_ relative: ArraySlice<String>, machine: Machine) -> KernelNode?
}

/// The kernel's user interface over a `Machine`: read, write and list paths exactly as
/// /sys and /proc answer them. Thread-safe, with two locks as the kernel has:
/// - the machine lock, held by every call while it touches the model (the kernel's
///   zone, hugetlb and page-table locks, all in one);
/// - device_hotplug_lock, taken first by the writes that take it in the kernel
///   (`KernelFile.takesHotplugLock`, `withHotplugLock`). While such a write sleeps in the
///   middle of its work (`Machine.preemptionPoint`: between offline retry passes, between
///   the blocks of an add) it gives the machine lock up, so readers see `going-offline`
///   and writers that need no hotplug lock (sysctls, auto_online_blocks) go on.
public final class KernelFS: @unchecked Sendable {
    public let machine: Machine
    private var mutex = pthread_mutex_t()
    private var hotplugMutex = pthread_mutex_t()
    /// Every write the kernel accepted, in order. The model is deterministic, so booting the
    /// same machine and replaying this journal rebuilds the same state (`memhp --state`).
    public private(set) var journal: [(path: String, bytes: [UInt8])] = []

    /// Every area of the tree. Add new ones here.
    public static let areas: [any KernelFileArea.Type] = [
        ProcArea.self, ProcSysVMArea.self,
        MemorySysfsArea.self, NodeSysfsArea.self, ModuleParamsArea.self,
        HugetlbSysfsArea.self, HugetlbNodeSysfsArea.self, HugetlbSysctlArea.self,
        DebugfsArea.self,
    ]

    /// Called at every preemption point of a hotplug-locked operation while the machine lock
    /// is released (a tracepoint: tests use it to look at the tree mid-operation).
    public var preemptionTrace: ((KernelFS) -> Void)?

    public init(machine: Machine) {
        self.machine = machine
        pthread_mutex_init(&mutex, nil)
        pthread_mutex_init(&hotplugMutex, nil)
    }
    deinit {
        pthread_mutex_destroy(&mutex)
        pthread_mutex_destroy(&hotplugMutex)
    }

    /// Run `body` with the machine locked: the only way to touch it while others may.
    public func withLock<T>(_ body: (Machine) throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body(machine)
    }

    /// Run `body` under device_hotplug_lock, then the machine lock, as ACPI and virtio-mem
    /// hotplug events and the hotplug-locked stores do. At the machine's preemption points
    /// the machine lock is given up for a moment; device_hotplug_lock is kept throughout.
    public func withHotplugLock<T>(signalPending: (@Sendable () -> Bool)? = nil, _ body: (Machine) throws -> T) rethrows -> T {
        pthread_mutex_lock(&hotplugMutex)
        defer { pthread_mutex_unlock(&hotplugMutex) }
        return try withLock { m in
            // Only the holder of device_hotplug_lock sleeps with it: one hook at a time.
            m.preemptionPoint = { [unowned self] in
                let trace = self.preemptionTrace
                pthread_mutex_unlock(&self.mutex)
                if let trace { trace(self) } else { sched_yield() }
                pthread_mutex_lock(&self.mutex)
            }
            if let signalPending {
                // The kernel spins with cond_resched(); 10 ms naps keep a core free.
                m.offlineRetryWait = { [unowned self] in
                    pthread_mutex_unlock(&self.mutex)
                    if !signalPending() { usleep(10_000) }
                    pthread_mutex_lock(&self.mutex)
                    return signalPending()
                }
            }
            defer { m.preemptionPoint = nil; m.offlineRetryWait = nil }
            return try body(m)
        }
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    /// The node at `path`, following no symlinks; ENOENT when there is none.
    public func lookup(_ path: String) throws -> KernelNode {
        try withLock { try KernelFS.lookup(KernelFS.components(path), machine: $0) }
    }

    static func lookup(_ comps: [String], machine: Machine) throws -> KernelNode {
        // Several areas may share a mount point (/proc/sys/vm has the allocator's and
        // hugetlb's files): their directories merge. Directories above the mount points are
        // synthesized from them.
        var children: Set<String> = []
        var isDirectory = false
        for area in areas {
            let mp = area.mountPoint
            if comps.count >= mp.count, Array(comps.prefix(mp.count)) == mp {
                switch area.lookup(comps[mp.count...], machine: machine) {
                case .directory(let names)?: isDirectory = true; children.formUnion(names)
                case let node?: return node
                case nil: break
                }
            } else if comps.count < mp.count, Array(mp.prefix(comps.count)) == comps {
                isDirectory = true
                children.insert(mp[comps.count])
            }
        }
        guard isDirectory else { throw KernelError(.noSuchFileOrDirectory) }
        return .directory(children.sorted())
    }

    /// Resolve symlinks inside the tree (relative targets), as path lookup would.
    public func resolve(_ path: String) throws -> String {
        var comps = KernelFS.components(path)
        var hops = 0
        var i = 1
        while i <= comps.count {
            let prefix = Array(comps.prefix(i))
            if case .symlink(let target) = try withLock({ try KernelFS.lookup(prefix, machine: $0) }) {
                hops += 1
                guard hops < 40 else { throw KernelError(.tooManySymbolicLinkLevels) }
                var base = Array(prefix.dropLast())
                for part in target.split(separator: "/") {
                    if part == ".." { _ = base.popLast() } else if part != "." { base.append(String(part)) }
                }
                comps = base + comps.dropFirst(i)
                i = base.count
            }
            i += 1
        }
        return "/" + comps.joined(separator: "/")
    }

    /// Resolve `path` to an attribute and run `body` on it with the machine locked; a
    /// directory is EISDIR, anything else that is not a file ENOENT.
    private func withFile<T>(_ path: String, _ body: (KernelFile, Machine) throws -> T) throws -> T {
        let real = try resolve(path)
        return try withLock { m in try body(KernelFS.file(real, machine: m), m) }
    }

    private static func file(_ real: String, machine m: Machine) throws -> KernelFile {
        switch try KernelFS.lookup(KernelFS.components(real), machine: m) {
        case .directory: throw KernelError(.isDirectory)
        case .symlink: throw KernelError(.noSuchFileOrDirectory)
        case .file(let f): return f
        }
    }

    /// `read(2)` of a whole file: the attribute's text, or the errno open/read would give.
    public func read(_ path: String) throws -> String {
        try withFile(path) { f, m in
            // sysfs and procfs refuse to open for reading what has no read mode, even for root.
            guard f.mode & 0o444 != 0, let show = f.show else { throw KernelError(.permissionDenied) }
            return show(m)
        }
    }

    /// `pread(2)` of `count` bytes at `offset`: a binary file's own answer, or that slice of
    /// a text attribute's text (empty at or past its end).
    public func readBytes(_ path: String, offset: Int, count: Int) throws -> [UInt8] {
        try withFile(path) { f, m in
            guard f.mode & 0o444 != 0 else { throw KernelError(.permissionDenied) }
            if let rb = f.readBytes { return try rb(m, offset, count) }
            guard let show = f.show else { throw KernelError(.permissionDenied) }
            guard offset >= 0, count >= 0 else { throw KernelError(.invalidArgument) }
            let text = Array(show(m).utf8)
            guard offset < text.count else { return [] }
            return Array(text[offset..<(offset + Swift.min(count, text.count - offset))])
        }
    }

    /// `write(2)` of `bytes` at offset 0: the byte count the kernel returns, or its errno.
    @discardableResult
    public func write(_ path: String, _ bytes: [UInt8], context: WriteContext = WriteContext()) throws -> Int {
        var record = WriteRecord(path: path, bytes: bytes, result: .failure(KernelError(.noSuchFileOrDirectory)))
        defer { if let writeObserver { writeObserver(record) } }
        let real = try resolve(path)
        func apply(_ m: Machine) throws -> Int {
            let (explained, logged) = (m.explain.entries.count, m.kmsg.count)
            defer {
                record.explanations = Array(m.explain.entries.dropFirst(explained))
                record.kmsg = Array(m.kmsg.dropFirst(logged))
            }
            // Looked up again under the lock: the block may have gone while we waited.
            let f = try KernelFS.file(real, machine: m)
            guard f.mode & 0o222 != 0, let store = f.store else { throw KernelError(.permissionDenied) }
            let n = try store(m, bytes, context)
            journal.append((path, bytes))
            return n
        }
        do {
            let hotplug = try withLock { m in try KernelFS.file(real, machine: m).takesHotplugLock }
            let n = try hotplug ? withHotplugLock(signalPending: context.signalPending, apply) : withLock(apply)
            record.result = .success(n)
            return n
        } catch let e as KernelError {
            record.result = .failure(e)
            throw e
        }
    }

    /// Called after every write with what it did (outside the machine lock): `memhp mount
    /// --trace` prints these, so a tool's refused write comes with the kernel's reason.
    public var writeObserver: ((WriteRecord) -> Void)?

    @discardableResult
    public func write(_ path: String, _ text: String, context: WriteContext = WriteContext()) throws -> Int {
        try write(path, Array(text.utf8), context: context)
    }

    /// The entries of a directory, sorted.
    public func list(_ path: String) throws -> [String] {
        let real = try resolve(path)
        return try withLock { m in
            guard case .directory(let names) = try KernelFS.lookup(KernelFS.components(real), machine: m) else {
                throw KernelError(.notDirectory)
            }
            return names
        }
    }

    /// Every file path under `path` (depth first, symlinks reported not followed), for export.
    public func walk(_ path: String = "/") throws -> [(path: String, node: KernelNode)] {
        var out: [(String, KernelNode)] = []
        func visit(_ comps: [String]) throws {
            let node = try withLock { try KernelFS.lookup(comps, machine: $0) }
            out.append(("/" + comps.joined(separator: "/"), node))
            if case .directory(let names) = node { for n in names { try visit(comps + [n]) } }
        }
        try visit(KernelFS.components(path))
        return out
    }
}
