import Dispatch
import KernelFS
import MemoryModel
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a mount could not be set up or served.
public struct FUSEError: Error, CustomStringConvertible {
    public var operation: String
    public var errno: Errno
    public var description: String { "\(operation): \(errno.message)" }
    init(_ operation: String, _ errno: Errno = hostErrno()) {
        self.operation = operation; self.errno = errno
    }
}

/// The calling thread's errno after a failed host call (named apart from `FUSEError.errno`).
private func hostErrno() -> Errno { Errno(rawValue: errno) }

#if os(Linux)

/// Serves a `KernelFS` as a FUSE file system: reads return the model's current text, writes
/// go through `KernelFS.write` and fail with the kernel's errno, modes are enforced as
/// kernfs does (for root too), so unmodified tools see the model as they would see /sys.
///
/// One thread reads requests and answers them in arrival order, except writes: each runs on a
/// thread of its own, so a write that blocks (an offline spinning on pages that never migrate,
/// as it would in the kernel until the writer gets a signal) leaves readers and other writers
/// served. A signal to the blocked writer reaches us as FUSE_INTERRUPT and ends its offline
/// with EINTR, exactly when the kernel's would end. A `state`/`online`/`probe` write while a
/// pending ACPI eject holds device_hotplug_lock waits until the eject ends, as 6.1's
/// restart_syscall loop does; only a fatal signal ends that wait (`WriterSignals`). Node IDs are given per name in a directory and never reused: a memory block that is removed simply stops
/// resolving (ENOENT), as a stale sysfs dentry does.
public final class FUSEServer: @unchecked Sendable {
    public let fs: KernelFS
    public let mountPoint: String
    /// The /dev/fuse connection; -1 before `mount()` and after `unmount()`.
    public private(set) var fuseFD: Int32 = -1
    /// stop(): a byte on this pipe wakes the serving loop (async-signal-safe).
    private var stopPipe: [Int32] = [-1, -1]
    private var mounted = false

    /// Node IDs by path: handed out by the serving thread, read by write threads too.
    private let ids = NodeIDs()
    /// Blocks removed by a write, whose names the kernel must forget (`NodeIDs`).
    private let removed: RemovedBlocks
    private var handles: [UInt64: Handle] = [:]
    private var nextHandle: UInt64 = 1
    private var minor: UInt32 = 0
    /// The kernel opens directories without asking (FUSE_NO_OPENDIR_SUPPORT, `ListedDirectories`).
    private var noOpendir = false
    /// Directories opened without OPENDIR: their names by node ID, listed at offset 0 and
    /// paged through by later requests; dropped once the last entry is sent.
    private var listings: [UInt64: [String]] = [:]
    /// The directories whose listing the kernel may hold, to take back after a write.
    private let listed = ListedDirectories()
    private let startTime = UInt64(time(nil))
    private let inFlight = InFlightWrites()

    /// One open file: its path and the text the first read produced (kernfs' seq_file
    /// buffer), so reads in several chunks see one consistent snapshot.
    private struct Handle {
        var path: String
        /// The node ID the kernel opened it by.
        var node: UInt64
        var snapshot: [UInt8]?
        /// An open directory's names, listed at its first readdir (and again at offset 0);
        /// later requests page through them by offset.
        var entries: [String]?
        /// A binary file (/proc/kpageflags) or a sysctl: every read goes to the model at its
        /// offset (a sysctl's handler runs per read and gives nothing past offset 0).
        var binary = false
        /// A sysctl write of more than one FUSE request (`max_write` bytes each) gathered
        /// until its last request: 6.1 runs the handler once on the whole buffer.
        var pending: PendingWrite?
    }

    struct PendingWrite {
        var position: Int64
        var bytes: [UInt8]
        /// Bytes already acknowledged to the kernel (every request but the last).
        var acknowledged: Int
        /// The writer's system call size (`WriterSyscall`); nil when unknown, and then the
        /// last request is the first shorter than `max_write`.
        var total: Int?
    }

    public init(fs: KernelFS, mountPoint: String) {
        self.fs = fs
        self.mountPoint = mountPoint
        self.removed = RemovedBlocks(fs)
    }

    deinit {
        for fd in stopPipe where fd >= 0 { close(fd) }
        if fuseFD >= 0 { close(fuseFD) }
    }

    /// Opens /dev/fuse and mounts it on `mountPoint` (needs CAP_SYS_ADMIN).
    public func mount() throws {
        guard pipe(&stopPipe) == 0 else { throw FUSEError("pipe") }
        for fd in stopPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        fuseFD = Glibc.open("/dev/fuse", O_RDWR | O_CLOEXEC)
        guard fuseFD >= 0 else { throw FUSEError("open /dev/fuse") }
        let opts =
            "fd=\(fuseFD),rootmode=40000,user_id=\(getuid()),group_id=\(getgid()),default_permissions,allow_other"
        guard Glibc.mount("memhp", mountPoint, "fuse", UInt(MS_NOSUID | MS_NODEV), opts) == 0 else {
            let e = FUSEError("mount fuse on \(mountPoint)")
            close(fuseFD); fuseFD = -1
            throw e
        }
        mounted = true
    }

    /// Asks `serve()` to return; safe from a signal handler or another thread. Writes still
    /// in flight see a signal (their offline ends with EINTR).
    public func stop() {
        var b: UInt8 = 1
        _ = Glibc.write(stopPipe[1], &b, 1)
    }

    /// The write end of the stop pipe, for signal handlers (writing one byte = `stop()`).
    public var stopFD: Int32 { stopPipe[1] }

    /// Detaches the mount (MNT_DETACH: it leaves the namespace now even if files are open)
    /// and closes the connection, which fails whatever is still pending with ENOTCONN.
    public func unmount() {
        if mounted { _ = umount2(mountPoint, Int32(MNT_DETACH)); mounted = false }
        if fuseFD >= 0 { close(fuseFD); fuseFD = -1 }
    }

    /// Serves requests until the file system is unmounted (by anyone) or `stop()` is called.
    ///
    /// The connection is read without blocking, and poll(2) waits only when no request is
    /// queued: a tool asking one request after another (lsmem) usually has its next one
    /// queued by the time a reply is written, which then costs a read and a writev, not a
    /// poll as well. The stop pipe is looked at whenever the loop waits and every
    /// `stopCheckInterval` requests, so a flood of requests does not hold off `stop()`.
    public func serve() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FUSEConst.bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        let flags = fcntl(fuseFD, F_GETFL)
        guard flags >= 0, fcntl(fuseFD, F_SETFL, flags | O_NONBLOCK) == 0 else { throw FUSEError("fcntl /dev/fuse") }
        var sinceStopCheck = 0
        while true {
            let n = Glibc.read(fuseFD, buffer.baseAddress, buffer.count)
            if n < 0 {
                switch Glibc.errno {
                case EAGAIN:
                    if try waitForRequest() { continue }
                    inFlight.interruptAll(); return
                case EINTR, ENOENT: continue  // ENOENT: the request was interrupted
                case ENODEV: mounted = false; return  // unmounted
                default: throw FUSEError("read /dev/fuse")
                }
            }
            if n == 0 { mounted = false; return }
            handle(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            sinceStopCheck += 1
            if sinceStopCheck == Self.stopCheckInterval {
                sinceStopCheck = 0
                if stopRequested() { inFlight.interruptAll(); return }
            }
        }
    }

    private static let stopCheckInterval = 64

    /// Blocks until a request is queued (true) or `stop()` was called (false).
    private func waitForRequest() throws -> Bool {
        while true {
            var fds = [
                pollfd(fd: fuseFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)
            ]
            if poll(&fds, 2, -1) < 0 {
                if Glibc.errno == EINTR { continue }
                throw FUSEError("poll")
            }
            if fds[1].revents != 0 { return false }
            if fds[0].revents != 0 { return true }
        }
    }

    /// Whether `stop()` was called, without waiting.
    private func stopRequested() -> Bool {
        var fd = pollfd(fd: stopPipe[0], events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0 && fd.revents != 0
    }

    // MARK: - Requests

    private func handle(_ req: UnsafeRawBufferPointer) {
        guard req.count >= FUSEConst.inHeaderSize else { return }
        var r = FUSEReader(req)
        _ = r.u32()  // len
        let opcodeRaw = r.u32()
        let unique = r.u64()
        let nodeID = r.u64()
        _ = r.u32(); _ = r.u32()  // uid, gid
        let pid = r.u32()
        let extLen = Int(r.u16()); _ = r.u16()
        _ = extLen
        guard let op = FUSEOpcode(rawValue: opcodeRaw) else { reply(unique, error: .ENOSYS); return }

        switch op {
        case .initialize: initialize(unique, &r)
        case .forget, .batchForget: return  // no reply expected
        case .interrupt: inFlight.interrupt(r.u64())  // fuse_interrupt_in.unique
        case .lookup:
            let name = r.cString()
            guard let parent = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
            let path = join(parent, name)
            do {
                let (node, o) = try fs.lookupWithAttributes(path)
                // An ID only for a name that exists (ENOENT leaves none behind).
                guard let id = ids.identify(name, in: nodeID, path: path) else { reply(unique, error: .ENOENT); return }
                var w = FUSEWriter()
                attributes(node, path: path, id: id, override: o).writeEntry(to: &w, nodeID: id)
                reply(unique, w.bytes)
            } catch { reply(unique, error: errnoValue(error)) }
        case .getattr:
            guard let path = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
            do {
                let (node, o) = try fs.lookupWithAttributes(path)
                var w = FUSEWriter()
                w.u64(attrTimeout(nodeID)); w.u32(0); w.u32(0)  // attr_valid, attr_valid_nsec, dummy
                attributes(node, path: path, id: nodeID, override: o).write(to: &w)
                reply(unique, w.bytes)
            } catch { reply(unique, error: errnoValue(error)) }
        case .setattr: setattr(unique, nodeID, &r)
        case .readlink:
            guard let path = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
            guard case .symlink(let target)? = try? fs.lookup(path) else { reply(unique, error: .EINVAL); return }
            reply(unique, Array(target.utf8))
        case .open: open(unique, nodeID, flags: r.u32())
        case .opendir:
            // FUSE_NO_OPENDIR_SUPPORT: ENOSYS once, and the kernel opens directories itself
            // from then on (fuse_file_open), sparing an OPENDIR and a RELEASEDIR a listing.
            if noOpendir { reply(unique, error: .ENOSYS); return }
            guard let path = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
            guard case .directory? = try? fs.lookup(path) else { reply(unique, error: .ENOTDIR); return }
            replyOpen(unique, Handle(path: path, node: nodeID), flags: 0)
        case .read: read(unique, &r)
        case .write: write(unique, &r, pid: pid)
        case .readdir, .readdirplus: readdir(unique, nodeID, &r, plus: op == .readdirplus)
        case .release, .releasedir:
            let fh = r.u64()
            if let h = handles[fh], let p = h.pending { applyPending(h.path, p) }
            handles[fh] = nil
            reply(unique, [])
        case .flush:
            let fh = r.u64()
            if var h = handles[fh], let p = h.pending { h.pending = nil; handles[fh] = h; applyPending(h.path, p) }
            reply(unique, [])
        case .fsync, .fsyncdir, .access: reply(unique, [])
        case .statfs:
            var w = FUSEWriter()
            w.u64(0); w.u64(0); w.u64(0); w.u64(0); w.u64(0)  // blocks, bfree, bavail, files, ffree
            w.u32(4096); w.u32(255); w.u32(4096); w.u32(0)  // bsize, namelen, frsize, padding
            w.zeros(24)  // spare
            reply(unique, w.bytes)
        case .destroy: reply(unique, [])
        // kernfs has no create/mknod: open(O_CREAT) of a missing name is EACCES; it has no
        // mkdir/unlink/rename/link/symlink either: those are EPERM.
        case .create, .mknod, .tmpfile: reply(unique, error: .EACCES)
        case .mkdir, .unlink, .rmdir, .rename, .rename2, .link, .symlink: reply(unique, error: .EPERM)
        default: reply(unique, error: .ENOSYS)
        }
    }

    private func initialize(_ unique: UInt64, _ r: inout FUSEReader) {
        let major = r.u32()
        let kernelMinor = r.u32()
        let maxReadahead = r.u32()
        let flags = r.u32()
        guard major == FUSEConst.kernelVersion else {
            // An older or newer major: answer with ours; the kernel then retries or gives up.
            var w = FUSEWriter(); w.u32(FUSEConst.kernelVersion); w.u32(FUSEConst.maxMinor)
            reply(unique, w.bytes + [UInt8](repeating: 0, count: 56)); return
        }
        minor = min(kernelMinor, FUSEConst.maxMinor)
        noOpendir = flags & FUSEConst.noOpendirSupport != 0
        let wanted = FUSEConst.atomicOTrunc | FUSEConst.bigWrites | FUSEConst.doReaddirplus | FUSEConst.maxPages
        var w = FUSEWriter()
        w.u32(FUSEConst.kernelVersion); w.u32(minor)
        w.u32(maxReadahead)
        w.u32(flags & wanted)
        w.u16(16); w.u16(12)  // max_background, congestion_threshold
        w.u32(FUSEConst.maxWrite)
        w.u32(1)  // time_gran
        w.u16(FUSEConst.maxPagesLimit)  // max_pages: room for an unaligned max_write buffer
        w.u16(0)  // map_alignment
        w.u32(0)  // flags2
        w.zeros(28)  // unused[7]
        reply(unique, w.bytes)
    }

    private func setattr(_ unique: UInt64, _ nodeID: UInt64, _ r: inout FUSEReader) {
        // fuse_setattr_in: valid, padding, fh, size, lock_owner, atime, mtime, ctime,
        // atimensec, mtimensec, ctimensec, mode, unused4, uid, gid, unused5.
        let valid = r.u32()
        r.skip(4 + 8 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 4)
        let mode = r.u32(); r.skip(4)
        let uid = r.u32(), gid = r.u32()
        guard let path = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
        do {
            let node = try fs.lookup(path)
            // Truncation (`echo x > file` without FUSE_ATOMIC_O_TRUNC) is ignored, as sysfs
            // ignores O_TRUNC. chmod/chown by root: kernfs (kernfs_iop_setattr) and procfs
            // (proc_notify_change) keep the new mode and owner in the inode, and kernfs_fop_open
            // checks the new mode; /proc/sys (proc_sys_setattr) refuses them with EPERM.
            // Other users are refused by the kernel (default_permissions: not the owner).
            let changes = valid & (FUSEConst.fattrMode | FUSEConst.fattrUID | FUSEConst.fattrGID)
            if changes != 0 {
                var o = AttributeOverride()
                if valid & FUSEConst.fattrMode != 0 { o.mode = UInt16(mode & 0o7777) }
                if valid & FUSEConst.fattrUID != 0 { o.uid = uid }
                if valid & FUSEConst.fattrGID != 0 { o.gid = gid }
                try fs.setAttributes(path, o)
            }
            var w = FUSEWriter()
            w.u64(attrTimeout(nodeID)); w.u32(0); w.u32(0)
            attributes(node, path: path, id: nodeID, override: fs.attributeOverride(path)).write(to: &w)
            reply(unique, w.bytes)
        } catch { reply(unique, error: errnoValue(error)) }
    }

    /// kernfs_fop_open: opening for a direction the attribute's mode lacks is EACCES, for
    /// root as for anyone (CAP_DAC_OVERRIDE does not help). Other users' permission checks
    /// are the kernel's (`default_permissions`).
    private func open(_ unique: UInt64, _ nodeID: UInt64, flags: UInt32) {
        guard let path = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
        do {
            let (node, o) = try fs.lookupWithAttributes(path)
            guard case .file(let f) = node else { reply(unique, error: .EISDIR); return }
            let acc = Int32(flags) & O_ACCMODE
            let wantsRead = acc == O_RDONLY || acc == O_RDWR
            let wantsWrite = acc == O_WRONLY || acc == O_RDWR
            let mode = o?.mode ?? f.mode
            if wantsRead && (mode & 0o444 == 0 || (f.show == nil && f.readBytes == nil)) {
                reply(unique, error: .EACCES); return
            }
            if wantsWrite && (mode & 0o222 == 0 || f.store == nil) { reply(unique, error: .EACCES); return }
            // direct_io: every read and write reaches the model, and file sizes need not be known.
            let direct = f.readBytes != nil || KernelFS.isSysctl(path)
            // Only a file open for writing has anything to apply at close (a gathered sysctl
            // write): the others need no FUSE_FLUSH round trip.
            let flags = FUSEConst.fopenDirectIO | (wantsWrite ? 0 : FUSEConst.fopenNoFlush)
            replyOpen(unique, Handle(path: path, node: nodeID, binary: direct), flags: flags)
        } catch { reply(unique, error: errnoValue(error)) }
    }

    private func replyOpen(_ unique: UInt64, _ h: Handle, flags: UInt32) {
        let fh = nextHandle
        nextHandle += 1
        handles[fh] = h
        var w = FUSEWriter()
        w.u64(fh); w.u32(flags); w.u32(0)
        reply(unique, w.bytes)
    }

    private func read(_ unique: UInt64, _ r: inout FUSEReader) {
        let fh = r.u64(), offset = Int(clamping: r.u64()), size = Int(r.u32())
        guard var h = handles[fh] else { reply(unique, error: .EBADF); return }
        // pread of a binary file: the model answers for exactly this offset and size
        // (direct_io passes both through, so kpageflags' EINVAL for unaligned ones reaches the caller).
        if h.binary {
            do { reply(unique, try fs.readBytes(realPath: h.path, offset: offset, count: size)) } catch {
                reply(unique, error: errnoValue(error))
            }
            return
        }
        // A read from the start regenerates the text, as a fresh seq_file read does.
        if h.snapshot == nil || offset == 0 {
            do { h.snapshot = Array(try fs.read(realPath: h.path).utf8) } catch {
                reply(unique, error: errnoValue(error)); return
            }
            handles[fh] = h
        }
        let text = h.snapshot!
        guard offset < text.count else { reply(unique, []); return }
        text.withUnsafeBytes {
            send(unique, error: 0, bytes: UnsafeRawBufferPointer(rebasing: $0[offset..<min(text.count, offset + size)]))
        }
    }

    private func write(_ unique: UInt64, _ r: inout FUSEReader, pid: UInt32) {
        let fh = r.u64()
        let offset = Int64(bitPattern: r.u64())
        let size = Int(r.u32())
        if minor >= 9 { r.skip(20) }  // write_flags, lock_owner, flags, padding
        let data = r.rest(size)
        guard var h = handles[fh] else { reply(unique, error: .EBADF); return }
        var bytes = data, position = offset, acknowledged = 0
        if KernelFS.isSysctl(h.path) {
            // One write(2) larger than max_write arrives as several requests at growing
            // offsets; proc_sys_call_handler runs the handler once on all of it, and refuses
            // 4 MiB or more with ENOMEM before copying a byte. The writer's system call says
            // how large the write is (WriterSyscall): refuse at the first request as 6.1 does
            // (the writer sees -1/ENOMEM, nothing changed), else acknowledge each request and
            // apply the whole buffer at its last one, so the value is there when write(2)
            // returns, also for an exact multiple of max_write. When the size cannot be
            // known the last request is the first short one (an exact multiple is then
            // applied at the next flush, close or other write), and 4 MiB is refused at the
            // 32nd request: the writer sees a short count of 31 x 128 KiB, nothing changed.
            var total: Int?
            if var p = h.pending, offset == p.position + Int64(p.bytes.count) {
                p.bytes += data
                h.pending = p
                (bytes, position, acknowledged, total) = (p.bytes, p.position, p.acknowledged, p.total)
            } else {
                if let p = h.pending {
                    h.pending = nil
                    handles[fh] = h
                    applyPending(h.path, p)
                    h = handles[fh] ?? h
                }
                total = WriterSyscall.writeSize(pid: pid)
                if let t = total, t >= sysctlMaxWriteBytes {
                    reply(unique, error: .ENOMEM); return
                }
            }
            let last = total.map { bytes.count >= $0 } ?? (data.count < Int(FUSEConst.maxWrite))
            if !last {
                if bytes.count >= sysctlMaxWriteBytes {
                    h.pending = nil; handles[fh] = h
                    reply(unique, error: .ENOMEM); return
                }
                h.pending = PendingWrite(
                    position: position, bytes: bytes, acknowledged: acknowledged + data.count, total: total)
                handles[fh] = h
                var w = FUSEWriter(); w.u32(UInt32(data.count)); w.u32(0)
                reply(unique, w.bytes); return
            }
            h.pending = nil
            handles[fh] = h
        }
        let path = h.path, inFlight = inFlight
        let (payload, at, acked) = (bytes, position, acknowledged)
        inFlight.begin(unique)
        // Each write on a thread of its own: a writer blocked in an offline (or queued behind
        // one on device_hotplug_lock) must not hold up a sysctl write, as on Linux.
        spawnDetached { [self] in
            defer { inFlight.end(unique) }
            do {
                let ctx = WriteContext(
                    signalPending: { inFlight.isInterrupted(unique) },
                    fatalSignalPending: { inFlight.isFatallySignalled(unique, tid: pid) }, position: at)
                let n: Int
                do { n = try fs.write(path, payload, context: ctx) } catch {
                    forgetRemovedBlocks()
                    forgetListings()
                    throw error
                }
                forgetRemovedBlocks()
                forgetListings()
                // The earlier requests of a gathered write were acknowledged already; the
                // kernel's count (all but what the handler left) minus them goes to the last.
                var w = FUSEWriter(); w.u32(UInt32(clamping: Swift.max(0, n - acked))); w.u32(0)
                reply(unique, w.bytes)
            } catch { reply(unique, error: errnoValue(error)) }
        }
    }

    /// A gathered sysctl write whose last request never came (its size unknown and a
    /// multiple of max_write, or the writer stopped between requests): applied when the file
    /// is flushed, closed or written elsewhere.
    private func applyPending(_ path: String, _ p: PendingWrite) {
        _ = try? fs.write(path, p.bytes, context: WriteContext(position: p.position))
        forgetListings()
    }

    private func readdir(_ unique: UInt64, _ nodeID: UInt64, _ r: inout FUSEReader, plus: Bool) {
        let fh = r.u64(), offset = Int(clamping: r.u64()), size = Int(r.u32())
        let h: Handle
        if fh == 0 && noOpendir {
            // Opened without OPENDIR: the directory is the node, and the kernel may keep
            // the listing (`ListedDirectories`): it is noted before it is made, so a write
            // that changes it afterwards takes it back.
            guard let path = ids.path(nodeID) else { reply(unique, error: .ENOENT); return }
            h = Handle(path: path, node: nodeID, entries: listings[nodeID])
        } else {
            guard let open = handles[fh] else { reply(unique, error: .EBADF); return }
            h = open
        }
        var entries: [String]
        if let e = h.entries, offset != 0 {
            entries = e
        } else {
            if fh == 0 { listed.insert(nodeID) }
            do { entries = [".", ".."] + (try fs.list(realPath: h.path)) } catch {
                reply(unique, error: errnoValue(error)); return
            }
            if fh != 0 { handles[fh]?.entries = entries }
        }
        var w = FUSEWriter()
        w.bytes.reserveCapacity(size)
        let blockDirectory = Self.isBlockDirectory(h.path)
        let inProc = Self.isProc(h.path)
        let entrySize = { (name: String) in ((24 + name.utf8.count + 7) & ~7) + (plus ? FUSEConst.entryOutSize : 0) }
        var i = offset
        while i < entries.count {
            // The entries that fit if all are still there are looked up together (their type,
            // and attributes for readdirplus), under one lock; one that went meanwhile is
            // skipped, as a removed kernfs node is, and the room it leaves goes to the next.
            var end = i, room = size - w.bytes.count
            while end < entries.count, entrySize(entries[end]) <= room {
                room -= entrySize(entries[end])
                end += 1
            }
            if end == i { break }
            let first = Swift.max(i, 2)  // . and .. are the directory itself and its parent
            let names = first < end ? Array(entries[first..<end]) : []
            let found = fs.lookupChildren(of: h.path, names)
            var present: [String] = []
            present.reserveCapacity(names.count)
            for j in names.indices where found[j].isPresent { present.append(names[j]) }
            var presentIDs = ids.identify(present, in: h.node)[...]
            for k in i..<end {
                let name = entries[k]
                var kind: UInt32 = UInt32(DT_DIR), id = h.node, child = -1
                if k >= 2 {
                    guard found[k - first].isPresent else { continue }
                    child = k - first
                    kind = direntType(found[child]!.node)
                    id = presentIDs.popFirst()!
                }
                if plus {
                    if child >= 0, !blockDirectory || Self.blockListingCarries(name) {
                        attributes(found[child]!.node, inProc: inProc, id: id, override: found[child]!.override)
                            .writeEntry(to: &w, nodeID: id)
                    } else {
                        w.zeros(FUSEConst.entryOutSize)  // nodeid 0: no entry (. and .., `blockListingCarries`)
                    }
                }
                w.u64(id); w.u64(UInt64(k + 1)); w.u32(UInt32(name.utf8.count)); w.u32(kind)
                w.bytes.append(contentsOf: name.utf8)
                w.pad8()
            }
            i = end
        }
        if fh == 0 {
            // A short or empty reply ends the listing (a reader that stops early leaves
            // it for the next offset 0 to replace).
            if i >= entries.count {
                listings[nodeID] = nil
            } else {
                if listings.count >= 1024 { listings.removeAll() }  // readers that stopped early
                listings[nodeID] = entries
            }
        }
        reply(unique, w.bytes)
    }

    // MARK: - Helpers

    /// Whether a READDIRPLUS reply of a memory block's directory gives `name` its entry (node
    /// ID and attributes) or leaves it to a LOOKUP when used (nodeid 0, which
    /// fuse_direntplus_link skips; other directories give every entry): the kernel
    /// makes a dentry and an inode for every entry given, and in a memory block's directory
    /// that was a third of lsmem's CPU time over a 16 TiB guest, for names nobody opens.
    /// lsmem lists each block's directory for its `nodeN` link and then reads only
    /// `valid_zones` (`removable` and `state` are looked up before), so only that one is
    /// given there. What the reader sees is the same either way.
    static func blockListingCarries(_ name: String) -> Bool { name == "valid_zones" }

    /// Whether `path` is a memory block's directory (`/sys/devices/system/memory/memoryN`).
    static func isBlockDirectory(_ path: String) -> Bool {
        let dir = NodeIDs.memoryDirectory + "/memory"
        return path.hasPrefix(dir) && !path.utf8.dropFirst(dir.utf8.count).contains(UInt8(ascii: "/"))
    }

    private func join(_ dir: String, _ name: String) -> String { dir == "/" ? "/" + name : dir + "/" + name }

    /// How long the kernel may keep a node's attributes (`NodeIDs`): the root's not at all,
    /// so that a stat of the mount point right after the server died finds the dead
    /// connection (ENOTCONN, which `memhp mount` looks for) rather than cached attributes.
    private func attrTimeout(_ nodeID: UInt64) -> UInt64 { nodeID == FUSEConst.rootID ? 0 : FUSEConst.entryTimeout }

    /// FUSE_NOTIFY_INVAL_ENTRY for every name of a block a write removed, in the memory
    /// directory and each node directory the kernel knows (`NodeIDs`). From the write's own
    /// thread: the kernel locks the parent directory, which a lookup the serving thread
    /// answers meanwhile may hold.
    private func forgetRemovedBlocks() {
        let names = removed.take(fs)
        guard !names.isEmpty else { return }
        let parents =
            [ids.existing(NodeIDs.memoryDirectory).map { (id: $0, path: NodeIDs.memoryDirectory) }].compactMap { $0 }
            + ids.nodeDirectories()
        for parent in parents {
            for name in names where ids.existing(name, in: parent.id) != nil {
                // fuse_notify_inval_entry_out: parent, namelen, flags; then the name and a NUL.
                var w = FUSEWriter()
                w.u64(parent.id); w.u32(UInt32(name.utf8.count)); w.u32(0)
                w.bytes.append(contentsOf: Array(name.utf8) + [0])
                send(0, error: FUSEConst.notifyInvalEntry, w.bytes)
            }
        }
    }

    /// Takes back what the kernel may hold of the tree after the model was changed other
    /// than by a write through the mount (a DIMM hot-added or ejected by the caller): names
    /// of removed blocks, and listings. A write through the mount does this itself.
    public func modelChanged() {
        forgetRemovedBlocks()
        forgetListings()
    }

    /// FUSE_NOTIFY_INVAL_INODE for every directory listed since the last write (its cached
    /// listing and attributes), from the write's thread before its reply, as for
    /// `forgetRemovedBlocks`: a listing after the write reaches the model again.
    private func forgetListings() {
        for id in listed.take() {
            // fuse_notify_inval_inode_out: ino, off, len (off 0, len 0: every cached page).
            var w = FUSEWriter()
            w.u64(id); w.u64(0); w.u64(0)
            send(0, error: FUSEConst.notifyInvalInode, w.bytes)
        }
    }

    /// sysfs attributes claim 4096 bytes, procfs files 0 (reads are direct, so neither limits them).
    private func attributes(_ node: KernelNode, path: String, id: UInt64, override o: AttributeOverride?) -> FUSEAttr {
        attributes(node, inProc: Self.isProc(path), id: id, override: o)
    }

    /// Whether `path` is /proc or under it.
    static func isProc(_ path: String) -> Bool { path == "/proc" || path.hasPrefix("/proc/") }

    /// `attributes` of a node under /proc (`inProc`) or /sys.
    private func attributes(_ node: KernelNode, inProc isProc: Bool, id: UInt64, override o: AttributeOverride?)
        -> FUSEAttr
    {
        var a: FUSEAttr
        switch node {
        case .directory:
            a = FUSEAttr(
                ino: id, size: 0, mode: UInt32(S_IFDIR) | UInt32(o?.mode ?? (isProc ? 0o555 : 0o755)), nlink: 2,
                time: startTime)
        case .symlink(let t):
            return FUSEAttr(
                ino: id, size: UInt64(t.utf8.count), mode: UInt32(S_IFLNK) | 0o777, nlink: 1, time: startTime)
        case .file(let f):
            a = FUSEAttr(
                ino: id, size: isProc ? 0 : 4096, mode: UInt32(S_IFREG) | UInt32(o?.mode ?? (f.mode & 0o7777)),
                nlink: 1, time: startTime)
        }
        a.uid = o?.uid ?? 0
        a.gid = o?.gid ?? 0
        return a
    }

    private func direntType(_ node: KernelNode?) -> UInt32 {
        switch node {
        case nil, .directory?: return UInt32(DT_DIR)
        case .symlink?: return UInt32(DT_LNK)
        case .file?: return UInt32(DT_REG)
        }
    }

    /// The Linux errno a failed call answers with (the model's errors carry it; anything
    /// else is EIO).
    private func errnoValue(_ error: Error) -> LinuxErrno {
        if let e = error as? KernelError { return e.linuxErrno }
        return .EIO
    }

    /// `fuse_out_header.error` is minus a Linux errno: the protocol's numbers, whatever the host's.
    private func reply(_ unique: UInt64, error: LinuxErrno) { send(unique, error: -error.rawValue, []) }
    private func reply(_ unique: UInt64, _ body: [UInt8]) { send(unique, error: 0, body) }

    private func send(_ unique: UInt64, error: Int32, _ body: [UInt8]) {
        body.withUnsafeBytes { send(unique, error: error, bytes: $0) }
    }

    /// One writev of the header and the body as they are (fuse_dev_write takes an iovec);
    /// the header and the iovec on the stack, nothing allocated per reply.
    /// ENOENT: the request was interrupted meanwhile; nothing waits for the answer.
    private func send(_ unique: UInt64, error: Int32, bytes body: UnsafeRawBufferPointer) {
        // fuse_out_header: len, error, unique.
        var header = (
            UInt32(FUSEConst.outHeaderSize + body.count).littleEndian, UInt32(bitPattern: error).littleEndian,
            unique.littleEndian
        )
        withUnsafeMutableBytes(of: &header) { head in
            var iov = (
                iovec(iov_base: head.baseAddress, iov_len: head.count),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
            )
            withUnsafeMutableBytes(of: &iov) { raw in
                _ = writev(fuseFD, raw.baseAddress!.assumingMemoryBound(to: iovec.self), body.isEmpty ? 1 : 2)
            }
        }
    }
}

/// Runs `body` on a detached thread of its own (a write request: it may block for as long
/// as its writer's offline does).
func spawnDetached(_ body: @escaping @Sendable () -> Void) {
    let arg = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var attr = pthread_attr_t()
    precondition(pthread_attr_init(&attr) == 0)
    defer { pthread_attr_destroy(&attr) }
    precondition(pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED)) == 0)
    _ = pthread_attr_setstacksize(&attr, 512 << 10)
    var thread = pthread_t()
    let r = pthread_create(
        &thread, &attr,
        { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, arg)
    if r != 0 {
        // No thread to be had (EAGAIN): serve it here rather than drop it.
        Unmanaged<ThreadBody>.fromOpaque(arg).release()
        body()
    }
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// Writes being served, by request id, and whether their writer has been interrupted.
final class InFlightWrites: @unchecked Sendable {
    private let mutex = KernelLock()
    private var interrupted: [UInt64: Bool] = [:]
    /// The server is stopping: every writer's wait ends.
    private var stopping = false
    private func locked<T>(_ body: () -> T) -> T { mutex.withLock(body) }
    func begin(_ unique: UInt64) { locked { interrupted[unique] = false } }
    func end(_ unique: UInt64) { locked { interrupted[unique] = nil } }
    /// FUSE_INTERRUPT for a request already answered (or never a write) is ignored.
    func interrupt(_ unique: UInt64) { locked { if interrupted[unique] != nil { interrupted[unique] = true } } }
    func interruptAll() {
        locked {
            stopping = true
            for k in interrupted.keys { interrupted[k] = true }
        }
    }
    func isInterrupted(_ unique: UInt64) -> Bool { locked { interrupted[unique] ?? true } }
    /// Whether the writer of `unique` (thread `tid`) is being killed: interrupted and SIGKILL
    /// pending (`WriterSignals`), or the server stopping.
    func isFatallySignalled(_ unique: UInt64, tid: UInt32) -> Bool {
        let (interrupted, stopping) = locked { (self.interrupted[unique] ?? true, self.stopping) }
        return stopping || (interrupted && WriterSignals.fatalSignalPending(tid: tid))
    }
}

/// Signal handling for a foreground server: SIGINT/SIGTERM write a byte to the stop pipe
/// (without SA_RESTART, so nothing blocks past it).
public enum FUSESignals {
    nonisolated(unsafe) static var stopFD: Int32 = -1

    public static func stopOnSignals(_ server: FUSEServer, signals: [Int32] = [SIGINT, SIGTERM]) {
        stopFD = server.stopFD
        var sa = sigaction()
        sa.__sigaction_handler.sa_handler = { _ in
            var b: UInt8 = 1
            _ = Glibc.write(FUSESignals.stopFD, &b, 1)
        }
        sa.sa_flags = 0
        sigemptyset(&sa.sa_mask)
        for s in signals { sigaction(s, &sa, nil) }
    }
}

/// unshare(CLONE_NEWNS) for the calling thread. Glibc's Swift module leaves `unshare` out
/// (it is _GNU_SOURCE-only in <sched.h>), so it is looked up at run time.
public func unshareMountNamespace() -> Bool {
    let cloneNewNS: Int32 = 0x0002_0000
    guard let sym = dlsym(nil, "unshare") else { Glibc.errno = ENOSYS; return false }
    let fn = unsafeBitCast(sym, to: (@convention(c) (Int32) -> Int32).self)
    return fn(cloneNewNS) == 0
}

#else

/// Elsewhere than Linux there is no /dev/fuse speaking this protocol and no mount(2) of
/// type "fuse": the server exists so that the CLI builds, and `mount()` says why it cannot.
public final class FUSEServer: Sendable {
    public let fs: KernelFS
    public let mountPoint: String
    public var stopFD: Int32 { -1 }

    public init(fs: KernelFS, mountPoint: String) {
        self.fs = fs
        self.mountPoint = mountPoint
    }

    public func mount() throws {
        throw FUSEError("mount \(mountPoint): memhp serves FUSE over Linux's /dev/fuse only", Errno(rawValue: ENOSYS))
    }
    public func stop() {}
    public func unmount() {}
    public func serve() throws { throw FUSEError("serve: not mounted (Linux only)", Errno(rawValue: ENOSYS)) }
}

public enum FUSESignals {
    public static func stopOnSignals(_ server: FUSEServer, signals: [Int32] = [SIGINT, SIGTERM]) {}
}

/// Mount namespaces are Linux's.
public func unshareMountNamespace() -> Bool { false }

#endif

extension Optional {
    /// Whether there is a value, looked at without copying it (a listing's looked-up children).
    fileprivate var isPresent: Bool {
        if case .some = self { return true }
        return false
    }
}
