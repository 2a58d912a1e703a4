import KernelFS
import MemoryModel

/// What the kernel may cache of the served tree, and how the server takes it back.
///
/// Names and attributes are given a lifetime (`FUSEConst.entryTimeout`, an hour), so that a
/// tool walking thousands of paths (lsmem over the 16,384 blocks of a 16 TiB guest) is not
/// asked again about every directory on every path: with none, each open cost a LOOKUP of
/// every component and a GETATTR of every directory (default_permissions checks the cached
/// mode). That is safe for any lifetime because of what can change while the tree is served:
/// - attributes change only by chmod/chown, whose SETATTR reply carries the new ones;
/// - names appear (probe, hot-add): a missing name is never cached, since ENOENT is answered
///   as an error, which leaves no timed negative entry;
/// - names vanish only when a memory block is removed (its `remove` uevent): the server then
///   drops `memoryN` from the memory directory and from every node directory the kernel has
///   seen (FUSE_NOTIFY_INVAL_ENTRY) before the write that removed it returns, as kernfs
///   drops a removed node's dentry at once.
final class NodeIDs: @unchecked Sendable {
    private let mutex = KernelLock()
    private var pathsByID: [UInt64: String] = [FUSEConst.rootID: "/"]
    private var idsByPath: [String: UInt64] = ["/": FUSEConst.rootID]
    private var nextID: UInt64 = 2

    /// The path of a node ID the kernel holds.
    func path(_ id: UInt64) -> String? { mutex.withLock { pathsByID[id] } }

    /// The ID of `path` if the kernel was given one.
    func existing(_ path: String) -> UInt64? { mutex.withLock { idsByPath[path] } }

    /// The ID of `path`, made on first use. IDs are path-based and never reused: a removed
    /// block's directory simply stops resolving (ENOENT), as a stale sysfs dentry does.
    func identify(_ path: String) -> UInt64 { mutex.withLock { identifyLocked(path) } }

    /// `identify` of each path, in order, under one lock (a directory listing's entries).
    func identify(_ paths: [String]) -> [UInt64] { mutex.withLock { paths.map(identifyLocked) } }

    private func identifyLocked(_ path: String) -> UInt64 {
        if let id = idsByPath[path] { return id }
        let id = nextID
        nextID += 1
        idsByPath[path] = id
        pathsByID[id] = path
        return id
    }

    /// The node directories the kernel has seen (where a removed block's link must go too).
    func nodeDirectories() -> [(id: UInt64, path: String)] {
        mutex.withLock {
            idsByPath.compactMap { path, id in
                path.hasPrefix(NodeIDs.nodeDirectory + "/node")
                    && !path.dropFirst(NodeIDs.nodeDirectory.count + 1)
                        .contains("/")
                    ? (id, path) : nil
            }
        }
    }

    static let memoryDirectory = "/sys/devices/system/memory"
    static let nodeDirectory = "/sys/devices/system/node"
}

/// The memory blocks removed since the last look, from the machine's uevents (each block's
/// `remove` uevent, `/devices/system/memory/memoryN`).
final class RemovedBlocks: @unchecked Sendable {
    private let mutex = KernelLock()
    private var seen: Int

    init(_ fs: KernelFS) { seen = fs.withLock { $0.hotplug.uevents.count } }

    /// The names (`memoryN`) of the blocks removed since the previous call.
    func take(_ fs: KernelFS) -> [String] {
        mutex.withLock {
            fs.withLock { m in
                let events = m.hotplug.uevents
                defer { seen = events.count }
                guard events.count > seen else { return [] }
                return events[seen...].compactMap { e in
                    guard e.action == .remove, e.devpath.hasPrefix("/devices/system/memory/memory") else { return nil }
                    return String(e.devpath.split(separator: "/").last!)
                }
            }
        }
    }
}

/// The directories whose listing the kernel may be holding.
///
/// A directory the kernel opens without OPENDIR (FUSE_NO_OPENDIR_SUPPORT) is given
/// FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE by fuse_file_open: its listing stays in the page cache
/// and is served again without a request. Listings change only with the model, and the model
/// changes only by a write through the mount (a hot-add's names, an eject's, a node's), so
/// after every write the directories listed since the previous one are taken back
/// (FUSE_NOTIFY_INVAL_INODE) before the write returns. A directory is noted before its
/// listing is made: one made after a write's `take` already shows what the write changed.
final class ListedDirectories: @unchecked Sendable {
    private let mutex = KernelLock()
    private var ids: Set<UInt64> = []

    func insert(_ id: UInt64) { _ = mutex.withLock { ids.insert(id) } }

    /// The directories noted since the previous call.
    func take() -> Set<UInt64> {
        mutex.withLock {
            defer { ids = [] }
            return ids
        }
    }
}
