import MemoryModel
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A node of the kernel's file tree, produced on demand from the machine's state.
public enum KernelNode {
    /// A directory; its entries are produced only when it is listed (`DirectoryEntries`).
    case directory(DirectoryEntries)
    case file(KernelFile)
    case symlink(String)
}

/// The entries of a directory, produced when the directory is listed (readdir), not when it is
/// looked up: every path walk through /sys/devices/system/memory looks the directory up (and
/// over FUSE asks for its attributes), and listing its blocks each time made lsmem quadratic
/// in the blocks. Areas that share a directory contribute a source each.
public struct DirectoryEntries: Sendable {
    private var sources: [@Sendable (Machine) -> [String]]

    /// A directory whose names are known at lookup (a handful of attributes).
    public static func fixed(_ names: [String]) -> DirectoryEntries { DirectoryEntries(sources: [{ _ in names }]) }
    /// A directory whose names come from the machine's state when it is listed (one entry per
    /// memory block, node or hstate).
    public static func listed(_ names: @escaping @Sendable (Machine) -> [String]) -> DirectoryEntries {
        DirectoryEntries(sources: [names])
    }
    /// The entries of both (a directory two areas serve, or one above their mount points).
    func merging(_ other: DirectoryEntries) -> DirectoryEntries { DirectoryEntries(sources: sources + other.sources) }

    /// The names, sorted, each once. Machine lock held.
    public func names(_ m: Machine) -> [String] {
        if sources.count == 1 { return sources[0](m).sorted() }
        return Set(sources.flatMap { $0(m) }).sorted()
    }
}

/// One sysfs/procfs attribute: its mode and the kernel's show/store behaviour.
public struct KernelFile: Sendable {
    public var mode: UInt16
    /// The text a read returns (`show`); nil when the attribute cannot be read.
    public var show: (@Sendable (Machine) -> String)?
    /// Applies a write of these bytes (`store`), returning how many bytes were consumed,
    /// or throwing the kernel's errno. nil when the attribute cannot be written.
    public var store: (@Sendable (Machine, [UInt8], WriteContext) throws -> Int)?
    /// The store runs under device_hotplug_lock (`lock_device_hotplug_sysfs`): memory block
    /// `state`/`online` and `probe`. Such writes are serialized with each other, and readers
    /// can see their intermediate states (`going-offline`).
    public var takesHotplugLock: Bool
    /// Reading runs code with effects (6.1's `lowmem_reserve_ratio` handler recomputes the
    /// reserves on reads too): such reads are journaled for `--state`.
    public var readChangesState = false
    /// A binary file's read (/proc/kpageflags): the bytes `pread(2)` of (offset, count)
    /// returns, or its errno. nil for text attributes, whose reads slice `show`'s text.
    public var readBytes: (@Sendable (Machine, _ offset: Int, _ count: Int) throws -> [UInt8])? = nil

    public init(
        mode: UInt16, show: (@Sendable (Machine) -> String)? = nil,
        store: (@Sendable (Machine, [UInt8], WriteContext) throws -> Int)? = nil, takesHotplugLock: Bool = false
    ) {
        self.mode = mode; self.show = show; self.store = store; self.takesHotplugLock = takesHotplugLock
    }
    public static func readOnly(_ show: @escaping @Sendable (Machine) -> String) -> KernelFile {
        KernelFile(mode: 0o444, show: show)
    }
    /// Readable by root only (debugfs files, /proc/pagetypeinfo).
    public static func readOnlyRoot(_ show: @escaping @Sendable (Machine) -> String) -> KernelFile {
        KernelFile(mode: 0o400, show: show)
    }
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
    /// A writer that can wait in real time for device_hotplug_lock (a FUSE writer): whether a
    /// fatal signal is pending now (`fatal_signal_pending`: SIGKILL, or a signal whose default
    /// action kills). A `state`/`online`/`probe` store that finds the lock held by a pending
    /// eject restarts, as `lock_device_hotplug_sysfs` makes it, until the lock is free or this
    /// says yes (no other signal ends it: -ERESTARTNOINTR). nil: the writer cannot wait (a
    /// single-threaded driver) and the write throws `DeviceHotplugLockBusy`.
    public var fatalSignalPending: (@Sendable () -> Bool)?
    /// The file position of the write (`pwrite(2)`'s offset, or how far earlier writes on
    /// the same open file got): sysctls ignore a write at a non-zero position
    /// (sysctl_writes_strict=1); sysfs stores never look at it.
    public var position: Int64
    public init(
        deadline: UInt64? = nil, signalPending: (@Sendable () -> Bool)? = nil,
        fatalSignalPending: (@Sendable () -> Bool)? = nil, position: Int64 = 0
    ) {
        self.deadline = deadline; self.signalPending = signalPending
        self.fatalSignalPending = fatalSignalPending; self.position = position
    }

    /// `lock_device_hotplug_sysfs`'s msleep(5) before each restart.
    static let hotplugLockRestartMicroseconds: UInt32 = 5_000
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
public protocol KernelFileArea: Sendable {
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
    private let mutex = KernelLock()
    private let hotplugMutex = KernelLock()

    /// Whether to keep the journal (`memhp --state`): off by default, so a long session
    /// without a state file does not grow one.
    public var journaling = false
    /// Every operation that reached the model, in the order its effect happened
    /// (`JournalEntry`): booting the same machine and replaying it rebuilds the same state.
    public private(set) var journal: [JournalEntry] = []
    /// The saved session this machine was loaded from (its options and setup), if any.
    public var savedSession: SavedSession?
    /// Modes and owners root set with chmod/chown, by path (`AttributeOverride`; guarded by
    /// the machine lock).
    var attributeOverrides: [String: AttributeOverride] = [:]
    /// How many of the machine's uevents `forgetAttributesOfRemovedBlocks` has looked at.
    var attributeUeventsSeen = 0
    /// The hotplug operation holding device_hotplug_lock and the machine lock's yields it
    /// has made so far (guarded by the machine lock).
    private var activeHotplug: (serial: Int, yields: Int)?
    private var nextHotplugSerial = 0

    /// seq_read_iter's first buffer (`seq_buf_alloc(PAGE_SIZE)`): a show that fills it
    /// overflows, and the read retries with a buffer twice the size.
    static let seqFirstBufferBytes = Geometry.pageSize

    /// Every area of the tree. Add new ones here.
    public static let areas: [any KernelFileArea.Type] = [
        ProcArea.self, ProcSysVMArea.self,
        MemorySysfsArea.self, NodeSysfsArea.self, ModuleParamsArea.self,
        HugetlbSysfsArea.self, HugetlbNodeSysfsArea.self, HugetlbSysctlArea.self,
        DebugfsArea.self
    ]

    /// Called at every preemption point of a hotplug-locked operation while the machine lock
    /// is released (a tracepoint: tests use it to look at the tree mid-operation).
    public var preemptionTrace: ((KernelFS) -> Void)?

    public init(machine: Machine) {
        self.machine = machine
    }

    /// Run `body` with the machine locked: the only way to touch it while others may. It is
    /// one system call of the caller (`Machine.syscall`): the kernel's threads run as it
    /// returns, before the lock is let go.
    public func withLock<T>(_ body: (Machine) throws -> T) rethrows -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try machine.syscall { try body(machine) }
    }

    /// Run `body` under device_hotplug_lock, then the machine lock, as ACPI and virtio-mem
    /// hotplug events and the hotplug-locked stores do. At the machine's preemption points
    /// the machine lock is given up for a moment; device_hotplug_lock is kept throughout.
    public func withHotplugLock<T>(signalPending: (@Sendable () -> Bool)? = nil, _ body: (Machine) throws -> T) rethrows
        -> T
    {
        try hotplugLocked(waitMode: signalPending.map { .realTime($0) }, atYield: nil) { m, _ in try body(m) }
    }

    /// How an offline's retry loop waits: for a real-time writer's signal, or as a journal
    /// says the recorded writer waited (`waits` passes, the last one seeing its signal or not).
    enum WaitMode {
        case realTime(@Sendable () -> Bool)
        case replay(waits: Int, interrupted: Bool)
    }

    /// What a hotplug operation's waits were, for its journal entry (a reference: the retry
    /// hook updates it while the store runs).
    final class WaitLog {
        var waits = 0
        var interrupted = false
        let serial: Int
        init(serial: Int) { self.serial = serial }
    }

    private func hotplugLocked<T>(
        waitMode: WaitMode?, atYield: ((Int) throws -> Void)?,
        _ body: (Machine, WaitLog) throws -> T
    ) rethrows -> T {
        hotplugMutex.lock()
        defer { hotplugMutex.unlock() }
        return try withLock { m in
            let log = WaitLog(serial: nextHotplugSerial)
            nextHotplugSerial += 1
            activeHotplug = (log.serial, 0)
            var yieldError: Error?
            // Gives the machine lock up for one yield; `between` runs without it.
            func yieldLock(_ between: () -> Void) {
                activeHotplug!.yields += 1
                let y = activeHotplug!.yields
                mutex.unlock()
                do { try atYield?(y) } catch { if yieldError == nil { yieldError = error } }
                between()
                mutex.lock()
            }
            // Only the holder of device_hotplug_lock sleeps with it: one hook at a time.
            m.preemptionPoint = { [unowned self] in
                yieldLock {
                    if let trace = self.preemptionTrace { trace(self) } else if atYield == nil { sched_yield() }
                }
            }
            switch waitMode {
            case .realTime(let signalPending)?:
                // The kernel spins with cond_resched(); 10 ms naps keep a core free.
                m.offlineRetryWait = {
                    yieldLock { if !signalPending() { usleep(10_000) } }
                    let r = signalPending()
                    log.waits += 1; log.interrupted = r
                    return r
                }
            case .replay(let waits, let interrupted)?:
                m.offlineRetryWait = {
                    yieldLock {}
                    log.waits += 1
                    let r = log.waits < waits ? false : (log.waits == waits ? interrupted : true)
                    log.interrupted = r
                    return r
                }
            case nil: break
            }
            defer { m.preemptionPoint = nil; m.offlineRetryWait = nil; activeHotplug = nil }
            let result = try body(m, log)
            if let yieldError { throw yieldError }
            return result
        }
    }

    /// The names of `path` between its slashes (empty ones dropped), split on the UTF-8 bytes:
    /// every request over FUSE splits its path.
    /// Over the contiguous bytes: indexing the String by UTF-8 positions checks scalar
    /// alignment at every slice, a fifth of a replayed write's cost. A `/` byte never occurs
    /// inside a multi-byte character, so every piece is whole UTF-8.
    static func components(_ path: String) -> [String] {
        var path = path
        return path.withUTF8 { bytes in
            var out: [String] = []
            out.reserveCapacity(8)  // /sys/devices/system/node/node0/memory33/online: 7
            func piece(_ r: Range<Int>) {
                out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self))
            }
            var start = 0
            for i in bytes.indices where bytes[i] == UInt8(ascii: "/") {
                if start != i { piece(start..<i) }
                start = i + 1
            }
            if start < bytes.count { piece(start..<bytes.count) }
            return out
        }
    }

    /// Whether `path` is a sysctl (/proc/sys): `proc_sys_call_handler`'s rules apply to it
    /// (one handler call per write(2), nothing read past offset 0, 4 MiB limit), not kernfs'.
    public static func isSysctl(_ path: String) -> Bool { path.hasPrefix("/proc/sys/") }

    /// The node at `path`, following no symlinks; ENOENT when there is none.
    public func lookup(_ path: String) throws -> KernelNode {
        try withLock { m in
            let (found, walked) = lookupWalked(path, m)
            if walked { record(JournalEntry(kind: .read, path: path)) }
            return try found.get()
        }
    }

    /// The node at `path` (or the lookup's error) and whether the guest's walk of it changed the
    /// machine (`walk`, not journaled): the path is split and looked up once for both, where
    /// `walk` and a lookup after it would do each twice (every FUSE request). Machine lock held.
    private func lookupWalked(_ path: String, _ m: Machine) -> (found: Result<KernelNode, Error>, walked: Bool) {
        let comps = KernelFS.components(path)
        let found = Result { try KernelFS.lookup(comps, machine: m) }
        let exists = (try? found.get()) != nil
        return (found, KernelFS.noteWalk(comps, found: exists, machine: m, path: path))
    }

    static func lookup(_ comps: [String], machine: Machine) throws -> KernelNode {
        try lookup(comps, in: areas, machine: machine)
    }

    /// `lookup` asking only `candidates` (the areas that can serve a path under some
    /// directory, `areas(under:)`).
    private static func lookup(_ comps: [String], in candidates: [any KernelFileArea.Type], machine: Machine) throws
        -> KernelNode
    {
        // Several areas may share a mount point (/proc/sys/vm has the allocator's and
        // hugetlb's files): their directories merge. Directories above the mount points are
        // synthesized from them. No directory is listed here (`DirectoryEntries`).
        var entries: DirectoryEntries?
        func merge(_ e: DirectoryEntries) { entries = entries.map { $0.merging(e) } ?? e }
        for area in candidates {
            let mp = area.mountPoint
            if comps.count >= mp.count, comps.starts(with: mp) {
                switch area.lookup(comps[mp.count...], machine: machine) {
                case .directory(let e)?: merge(e)
                case let node?: return node
                case nil: break
                }
            } else if comps.count < mp.count, mp.starts(with: comps) {
                merge(.fixed([mp[comps.count]]))
            }
        }
        guard let entries else { throw KernelError(.noSuchFileOrDirectory) }
        return .directory(entries)
    }

    /// The areas that can serve a path below `dir` (its children's lookups ask only them, in
    /// `areas`' order): those mounted at or above it, and those mounted below it.
    static func areas(under dir: [String]) -> [any KernelFileArea.Type] {
        areas.filter { area in
            let mp = area.mountPoint
            return mp.count <= dir.count ? dir.starts(with: mp) : mp.starts(with: dir)
        }
    }

    /// The guest's path walk of `comps`: tells the machine how many leading names exist, so
    /// that the names not in its dcache yet take their dentries, inodes and LSM blobs
    /// (`Machine.pathWalk`). Returns whether that changed the machine.
    /// `found`: whether the whole path exists, when the caller has looked it up already.
    static func noteWalk(_ comps: [String], found: Bool? = nil, machine m: Machine, path: String? = nil) -> Bool {
        var existing = comps.count
        if !(found ?? ((try? lookup(comps, machine: m)) != nil)) {
            existing = 0
            while existing < comps.count, (try? lookup(Array(comps.prefix(existing + 1)), machine: m)) != nil {
                existing += 1
            }
        }
        return m.pathWalk(comps, existing: existing, path: path)
    }

    /// `noteWalk` of `path`. `journal`: record it as a read when it changed the machine (a
    /// replayed read walks the same names); reads record themselves. Machine lock held.
    @discardableResult
    func walk(_ path: String, _ m: Machine, journal: Bool = true) -> Bool {
        let changed = KernelFS.noteWalk(KernelFS.components(path), machine: m, path: path)
        if changed && journal { record(JournalEntry(kind: .read, path: path)) }
        return changed
    }

    /// Resolve symlinks inside the tree (relative targets), as path lookup would.
    public func resolve(_ path: String) throws -> String {
        try withLock { try KernelFS.resolve(path, machine: $0) }
    }

    static func resolve(_ path: String, machine m: Machine) throws -> String {
        "/" + (try resolvedComponents(path, machine: m)).joined(separator: "/")
    }

    /// `resolve`'s answer as its components, which a lookup takes without splitting it again.
    static func resolvedComponents(_ path: String, machine m: Machine) throws -> [String] {
        var comps = KernelFS.components(path)
        // The model has symlinks only under /sys (memory blocks' node links): a /proc path
        // resolves to itself without a lookup per component (a journal replay is mostly sysctls).
        if comps.first == "proc" && !comps.contains("..") && !comps.contains(".") {
            return comps
        }
        var hops = 0
        var i = 1
        while i <= comps.count {
            let prefix = Array(comps.prefix(i))
            if case .symlink(let target) = try KernelFS.lookup(prefix, machine: m) {
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
        return comps
    }

    private static func file(_ real: String, machine m: Machine) throws -> KernelFile {
        try file(KernelFS.components(real), machine: m)
    }

    private static func file(_ comps: [String], machine m: Machine) throws -> KernelFile {
        try file(of: KernelFS.lookup(comps, machine: m))
    }

    /// The file a looked-up node is: EISDIR for a directory, ENOENT for a link (FUSE names
    /// real paths only).
    private static func file(of node: KernelNode) throws -> KernelFile {
        switch node {
        case .directory: throw KernelError(.isDirectory)
        case .symlink: throw KernelError(.noSuchFileOrDirectory)
        case .file(let f): return f
        }
    }

    /// The attribute's text, journaling the read when it changes state. Machine lock held.
    /// `walkedPath`: the path the reader walked (a link's path, not its target's), which a
    /// replay must walk again to take the same dentries.
    private func show(_ f: KernelFile, _ real: String, _ m: Machine, walked: Bool = false, walkedPath: String? = nil)
        throws -> String
    {
        // sysfs and procfs refuse to open for reading what has no read mode, even for root.
        guard f.mode & 0o444 != 0, let show = f.show else { throw KernelError(.permissionDenied) }
        // seq_read_iter starts with a one-page buffer (kmalloc-4k: the object the previous
        // read freed, no new slab); text longer than that makes it kvfree the buffer and
        // kvmalloc one twice the size, whose 8 KiB step comes from kmalloc-8k's order-3 slab:
        // the kernel's next slab page (see `kernelActivityRuns`), then the show runs again.
        // A 6.1.0-57 trace (held-out seed 246) saw memoryN/state reads after an online take
        // nothing from the new zone, and a /proc read right after take its head pageblock
        // (seq_read_iter -> kvmalloc_node -> allocate_slab). Binary files such as kpageflags
        // copy straight to the user and take nothing. New dentries and inodes: `walk`.
        var text = show(m)
        let activity = text.utf8.count >= KernelFS.seqFirstBufferBytes && m.kernelActivityRuns()
        if activity { text = show(m) }
        if f.readChangesState || walked || activity { record(JournalEntry(kind: .read, path: walkedPath ?? real)) }
        return text
    }

    /// Keeps what chmod/chown set on `path` (machine lock held).
    func applyAttributes(_ path: String, _ change: AttributeOverride) {
        forgetAttributesOfRemovedBlocks()
        attributeOverrides[path] = (attributeOverrides[path] ?? AttributeOverride()).merged(with: change)
    }

    /// Appends to the journal (machine lock held), noting the hotplug operation it ran inside.
    func record(_ entry: JournalEntry) {
        guard journaling else { return }
        var e = entry
        if e.hotplugSerial == nil, let a = activeHotplug { e.during = (a.serial, a.yields) }
        journal.append(e)
    }

    /// `read(2)` of a whole file: the attribute's text, or the errno open/read would give.
    public func read(_ path: String) throws -> String {
        try withLock { m in
            let walked = walk(path, m, journal: false)
            do {
                let real = try KernelFS.resolve(path, machine: m)
                return try show(KernelFS.file(real, machine: m), real, m, walked: walked, walkedPath: path)
            } catch {
                if walked { record(JournalEntry(kind: .read, path: path)) }
                throw error
            }
        }
    }

    /// `read` of a path with no symlink in it, which FUSE names only (the kernel follows links
    /// itself, with READLINK): one lookup of the whole path instead of one per component, so
    /// the same text and the same errno (ENOENT once the file's block is gone).
    public func read(realPath path: String) throws -> String {
        try withLock { m in
            let (found, walked) = lookupWalked(path, m)
            do { return try show(KernelFS.file(of: found.get()), path, m, walked: walked) } catch {
                if walked { record(JournalEntry(kind: .read, path: path)) }
                throw error
            }
        }
    }

    /// `pread(2)` of `count` bytes at `offset`: a binary file's own answer; for a sysctl
    /// what `proc_sys_call_handler` gives (the first `count` bytes at offset 0, nothing at
    /// any other offset: the `*ppos && !write` test of the proc_do*vec handlers; ENOMEM for
    /// 4 MiB or more); otherwise that slice of the attribute's text, as seq_file serves it.
    public func readBytes(_ path: String, offset: Int, count: Int) throws -> [UInt8] {
        try withLock { m in
            walk(path, m)
            return try readBytes(real: KernelFS.resolve(path, machine: m), offset: offset, count: count, m)
        }
    }

    /// `readBytes` of a path with no symlink in it (see `read(realPath:)`).
    public func readBytes(realPath path: String, offset: Int, count: Int) throws -> [UInt8] {
        try withLock { m in
            let (found, walked) = lookupWalked(path, m)
            if walked { record(JournalEntry(kind: .read, path: path)) }
            let f = try KernelFS.file(of: found.get())
            return try readBytes(real: path, offset: offset, count: count, m, file: f)
        }
    }

    /// `file`: the file at `real` when the caller has looked it up already.
    private func readBytes(real: String, offset: Int, count: Int, _ m: Machine, file: KernelFile? = nil) throws
        -> [UInt8]
    {
        let f = try file ?? KernelFS.file(real, machine: m)
        guard f.mode & 0o444 != 0 else { throw KernelError(.permissionDenied) }
        if let rb = f.readBytes { return try rb(m, offset, count) }
        guard offset >= 0, count >= 0 else { throw KernelError(.invalidArgument) }
        if KernelFS.isSysctl(real) {
            if count >= sysctlMaxWriteBytes { throw KernelError(.noMemory, "sysctl: read too large") }
            if offset != 0 || count == 0 { return [] }
            return Array(try show(f, real, m).utf8.prefix(count))
        }
        let text = Array(try show(f, real, m).utf8)
        guard offset < text.count else { return [] }
        return Array(text[offset..<(offset + Swift.min(count, text.count - offset))])
    }

    /// A node and what chmod/chown set on it, under one lock (a FUSE LOOKUP or GETATTR answers
    /// with both).
    /// A lookup is where the guest kernel's path walk allocates the name's dentry and inode
    /// (`walk`), as `lookup` does: a FUSE LOOKUP of a name no reader opened yet takes them then,
    /// not at the first read.
    public func lookupWithAttributes(_ path: String) throws -> (node: KernelNode, override: AttributeOverride?) {
        try withLock { m in
            let (found, walked) = lookupWalked(path, m)
            if walked { record(JournalEntry(kind: .read, path: path)) }
            let node = try found.get()
            forgetAttributesOfRemovedBlocks()
            return (node, attributeOverrides.isEmpty ? nil : attributeOverrides[path])
        }
    }

    /// `lookupWithAttributes` of several names in one directory, under one lock (a FUSE
    /// READDIRPLUS reply's entries); nil for a name that is gone.
    public func lookupChildren(of dir: String, _ names: [String]) -> [(node: KernelNode, override: AttributeOverride?)?]
    {
        withLock { m in
            forgetAttributesOfRemovedBlocks()
            let base = KernelFS.components(dir)
            let prefix = dir == "/" ? "/" : dir + "/"
            let candidates = KernelFS.areas(under: base)
            var comps = base + [""]
            return names.map { name in
                comps[base.count] = name
                guard let node = try? KernelFS.lookup(comps, in: candidates, machine: m) else { return nil }
                return (node, attributeOverrides.isEmpty ? nil : attributeOverrides[prefix + name])
            }
        }
    }

    /// `write(2)` of `bytes` at file position `context.position`: the byte count the kernel
    /// returns, or its errno. A sysctl sees the whole buffer in one handler call and refuses
    /// 4 MiB or more with ENOMEM before its handler (`proc_sys_call_handler`); a sysfs store
    /// sees at most a page (the store's own rules, `sysfsStoreBuffer`).
    @discardableResult
    public func write(_ path: String, _ bytes: [UInt8], context: WriteContext = WriteContext()) throws -> Int {
        var record = WriteRecord(path: path, bytes: bytes, result: .failure(KernelError(.noSuchFileOrDirectory)))
        // A write that would restart (`DeviceHotplugLockBusy`) has no answer to observe.
        var answered = true
        defer { if answered, let writeObserver { writeObserver(record) } }
        do {
            let n = try apply(path, bytes, context: context, replay: nil, record: &record)
            record.result = .success(n)
            return n
        } catch let e as KernelError {
            record.result = .failure(e)
            throw e
        } catch {
            answered = false
            throw error
        }
    }

    /// One write, recorded or replayed. `replay` carries the journal entry being replayed
    /// and what runs at its yields (the writes that ran inside it when it was recorded).
    private func apply(
        _ path: String, _ bytes: [UInt8], context: WriteContext,
        replay: (entry: JournalEntry, atYield: (Int) throws -> Void)?,
        record: inout WriteRecord
    ) throws -> Int {
        // The path walk is part of the write and a replayed write walks again; only a write
        // that never reaches a store (no journal entry of its own) journals its walk as a read.
        var journaled = 0
        var walked = false
        defer {
            if replay == nil, walked {
                withLock { _ in if journal.count == journaled { self.record(JournalEntry(kind: .read, path: path)) } }
            }
        }
        let (real, comps, hotplug) = try withLock { m in
            journaled = journal.count
            // Journaled here, under the lock that took the dentries: the store runs under a
            // later hold of it, and what another thread walks or allocates in between must
            // replay after this walk, as it ran (the soak's concurrent bursts).
            walked = walk(path, m, journal: replay == nil)
            let comps = try KernelFS.resolvedComponents(path, machine: m)
            return ("/" + comps.joined(separator: "/"), comps, try KernelFS.file(comps, machine: m).takesHotplugLock)
        }
        func store(_ m: Machine, _ log: WaitLog?) throws -> Int {
            let (explained, logged) = (m.explain.entries.count, m.kmsg.count)
            defer {
                record.explanations = Array(m.explain.entries.dropFirst(explained))
                record.kmsg = Array(m.kmsg.dropFirst(logged))
            }
            // Looked up again under the lock: the block may have gone while we waited. The
            // writer's open file then has a deactivated kernfs node: kernfs_fop_write_iter's
            // kernfs_get_active fails, ENODEV.
            let f: KernelFile
            do { f = try KernelFS.file(comps, machine: m) } catch let e as KernelError
                where e.errno == .noSuchFileOrDirectory
            {
                throw KernelError(.operationNotSupportedByDevice, "\(real) was removed while the write waited")
            }
            guard f.mode & 0o222 != 0, let store = f.store else { throw KernelError(.permissionDenied) }
            if KernelFS.isSysctl(real) && bytes.count >= sysctlMaxWriteBytes {
                throw KernelError(.noMemory, "sysctl: write too large")
            }
            // Under the path the writer walked (a node's memoryN link, not its target): the
            // replay walks it again and takes the same dentries and inodes (`walk`).
            var entry = JournalEntry(kind: .write, path: path, bytes: bytes, position: context.position)
            entry.realTimeWaiter = replay.map(\.entry.realTimeWaiter) ?? (context.signalPending != nil)
            do {
                let n = try store(m, bytes, context)
                entry.result = n
                finish(&entry, log)
                return n
            } catch let e as KernelError {
                entry.result = -Int(e.linuxErrno.rawValue)
                finish(&entry, log)
                throw e
            }
        }
        func finish(_ entry: inout JournalEntry, _ log: WaitLog?) {
            if let log {
                entry.hotplugSerial = log.serial
                entry.waits = log.waits
                entry.interrupted = log.interrupted
            }
            self.record(entry)
        }
        if !hotplug { return try withLock { m in try store(m, nil) } }
        let mode: WaitMode?
        if let r = replay?.entry {
            // A recorded writer without a real-time wait had its offline skip virtual time to
            // the deadline: replay it the same way, not as a waiter.
            let waited = r.realTimeWaiter || r.waits > 0 || r.interrupted
            mode = waited ? .replay(waits: r.waits, interrupted: r.interrupted) : nil
        } else {
            mode = context.signalPending.map { .realTime($0) }
        }
        while true {
            do {
                return try hotplugLocked(waitMode: mode, atYield: replay?.atYield) { m, log in try store(m, log) }
            } catch let busy as DeviceHotplugLockBusy {
                // lock_device_hotplug_sysfs: msleep(5), restart_syscall(). The store changed
                // nothing and is not journaled; a writer that cannot wait gets `busy`.
                guard replay == nil, let fatal = context.fatalSignalPending else { throw busy }
                usleep(WriteContext.hotplugLockRestartMicroseconds)
                if fatal() { throw KernelError(.interrupted, "killed while its write restarted: \(busy)") }
            }
        }
    }

    /// Runs `body` on the machine as one journaled event: a driver's own operation
    /// (allocations, hot-plug events of a soak test) that `replay` repeats through its
    /// `events` handler. `text` must describe the event completely.
    public func perform<T>(event text: String, _ body: (Machine) throws -> T) rethrows -> T {
        try withLock { m in
            defer { record(JournalEntry(kind: .event, path: text)) }
            return try body(m)
        }
    }

    /// Replays `entries` (a journal of a machine booted as this one was), checking that every
    /// write gives the result it gave then. `events` performs an event entry. The journal
    /// then holds `entries` (if journaling) and goes on from there.
    public func replay(_ entries: [JournalEntry], events: ((String, Machine) throws -> Void)? = nil) throws {
        let saved = journaling
        journaling = false
        defer {
            journaling = saved
            if saved { withLock { _ in journal.append(contentsOf: entries) } }
        }
        // Entries that ran inside a hotplug operation come before it in the journal (they
        // finished first); they are replayed at the same yield of that operation.
        var inside: [Int: [(index: Int, entry: JournalEntry)]] = [:]
        func one(_ i: Int, _ e: JournalEntry) throws {
            func mismatch(_ got: String) -> ReplayError {
                ReplayError(
                    index: i,
                    message:
                        "replaying the \(e.kind.rawValue) of \(e.path) gave \(got), the saved session had \(e.resultText)"
                )
            }
            switch e.kind {
            case .event:
                guard let events else {
                    throw ReplayError(index: i, message: "an event entry (\(e.path)) but no event handler")
                }
                do { try withLock { m in try events(e.path, m) } } catch let err as ReplayError { throw err } catch {
                    throw ReplayError(index: i, message: "replaying the event \(e.path) failed: \(error)")
                }
            case .read:
                _ = try? read(e.path)
            case .attr:
                withLock { _ in applyAttributes(e.path, e.attributes) }
            case .write:
                var rec = WriteRecord(path: e.path, bytes: e.bytes, result: .success(0))
                var n = 0
                let mine = e.hotplugSerial.flatMap { inside.removeValue(forKey: $0) } ?? []
                let atYield: (Int) throws -> Void = { y in
                    for (j, d) in mine where d.duringYield == y { try one(j, d) }
                }
                do {
                    n = try apply(
                        e.path, e.bytes, context: WriteContext(position: e.position),
                        replay: (e, atYield), record: &rec)
                } catch let err as KernelError {
                    let got = -Int(err.linuxErrno.rawValue)
                    if got != e.result { throw mismatch(err.linuxErrno.symbol) }
                    return
                }
                if n != e.result { throw mismatch("\(n)") }
            }
        }
        for (i, e) in entries.enumerated() {
            if let s = e.duringSerial, e.hotplugSerial == nil { inside[s, default: []].append((i, e)); continue }
            try one(i, e)
        }
        if let (s, list) = inside.first {
            throw ReplayError(
                index: list[0].index,
                message: "an entry ran inside hotplug operation \(s), which the journal does not have")
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
        withLock { m in _ = walk(path, m) }
        let real = try resolve(path)
        return try withLock { m in
            guard case .directory(let entries) = try KernelFS.lookup(KernelFS.components(real), machine: m) else {
                throw KernelError(.notDirectory)
            }
            return entries.names(m)
        }
    }

    /// `list` of a path with no symlink in it, which FUSE names only (see `read(realPath:)`):
    /// one lookup under one lock instead of one per component to resolve it first.
    public func list(realPath path: String) throws -> [String] {
        try withLock { m in
            guard case .directory(let entries) = try KernelFS.lookup(KernelFS.components(path), machine: m) else {
                throw KernelError(.notDirectory)
            }
            return entries.names(m)
        }
    }

    /// Every file path under `path` (depth first, symlinks reported not followed), for export.
    public func walk(_ path: String = "/") throws -> [(path: String, node: KernelNode)] {
        var out: [(String, KernelNode)] = []
        func visit(_ comps: [String]) throws {
            let (node, names) = try withLock { m in
                let node = try KernelFS.lookup(comps, machine: m)
                if case .directory(let entries) = node { return (node, entries.names(m)) }
                return (node, [])
            }
            out.append(("/" + comps.joined(separator: "/"), node))
            for n in names { try visit(comps + [n]) }
        }
        try visit(KernelFS.components(path))
        return out
    }
}
