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
    /// Each node the kernel holds, by ID (IDs are handed out from 1 up, so an array).
    private var nodes: [Node?] = [nil, Node(parent: 0, name: "", path: "/")]
    /// The IDs of each directory's children by name: a request names a parent's ID and a
    /// short name, so no path is built or hashed to find one.
    private var children: [Child: UInt64] = [:]

    private struct Child: Hashable {
        var parent: UInt64
        var name: String
    }

    /// A node's path is made when a request first names it: most of the names a directory
    /// listing hands IDs to (each block's `uevent`, `power`, `phys_index`...) never are.
    private struct Node {
        var parent: UInt64
        var name: String
        var path: String?
    }

    /// The path of a node ID the kernel holds.
    func path(_ id: UInt64) -> String? { mutex.withLock { pathLocked(id) } }

    private func pathLocked(_ id: UInt64) -> String? {
        guard id < nodes.count, let node = nodes[Int(id)] else { return nil }
        if let p = node.path { return p }
        guard let dir = pathLocked(node.parent) else { return nil }
        let p = dir == "/" ? "/" + node.name : dir + "/" + node.name
        nodes[Int(id)]!.path = p
        return p
    }

    /// The ID of `path` if the kernel was given one (each component looked up from the root).
    func existing(_ path: String) -> UInt64? {
        mutex.withLock {
            var id = FUSEConst.rootID
            for name in path.split(separator: "/") {
                guard let c = children[Child(parent: id, name: String(name))] else { return nil }
                id = c
            }
            return id
        }
    }

    /// The ID of `name` in directory `parent` if the kernel was given one.
    func existing(_ name: String, in parent: UInt64) -> UInt64? {
        mutex.withLock { children[Child(parent: parent, name: name)] }
    }

    /// The ID and path of `name` in directory `parent`, made on first use; nil when the
    /// parent is unknown. IDs are never reused: a removed block's directory simply stops
    /// resolving (ENOENT), as a stale sysfs dentry does.
    func identify(_ name: String, in parent: UInt64) -> (id: UInt64, path: String)? {
        mutex.withLock {
            guard let dir = pathLocked(parent) else { return nil }
            return identifyLocked(name, in: parent, dir)
        }
    }

    /// `identify` of a name whose path the caller has made (a LOOKUP's), kept as the node's.
    func identify(_ name: String, in parent: UInt64, path: String) -> UInt64? {
        mutex.withLock {
            guard parent < nodes.count, nodes[Int(parent)] != nil else { return nil }
            let id = identifyLocked(name, in: parent)
            if nodes[Int(id)]!.path == nil { nodes[Int(id)]!.path = path }
            return id
        }
    }

    /// The IDs of the names of one directory, in order, each made on first use, under one
    /// lock (a directory listing's entries); their paths are made when first asked for.
    func identify(_ names: [String], in parent: UInt64) -> [UInt64] {
        mutex.withLock { names.map { identifyLocked($0, in: parent) } }
    }

    private func identifyLocked(_ name: String, in parent: UInt64, _ dir: String) -> (id: UInt64, path: String) {
        let id = identifyLocked(name, in: parent)
        if let p = nodes[Int(id)]!.path { return (id, p) }
        let path = dir == "/" ? "/" + name : dir + "/" + name
        nodes[Int(id)]!.path = path
        return (id, path)
    }

    private func identifyLocked(_ name: String, in parent: UInt64) -> UInt64 {
        // One hash of the name, found or made (0 is no node ID).
        let next = UInt64(nodes.count)
        let id = Self.existingOrNew(&children[Child(parent: parent, name: name), default: 0], next)
        if id == next { nodes.append(Node(parent: parent, name: name)) }
        return id
    }

    private static func existingOrNew(_ slot: inout UInt64, _ next: UInt64) -> UInt64 {
        if slot == 0 { slot = next }
        return slot
    }

    /// The node directories the kernel has seen (where a removed block's link must go too).
    func nodeDirectories() -> [(id: UInt64, path: String)] {
        guard let dir = existing(NodeIDs.nodeDirectory) else { return [] }
        return mutex.withLock {
            children.compactMap { child, id in
                guard child.parent == dir, child.name.hasPrefix("node"), let path = pathLocked(id) else { return nil }
                return (id, path)
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
