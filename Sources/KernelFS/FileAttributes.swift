import MemoryModel

/// A mode or owner root gave a served file or directory with chmod/chown. kernfs
/// (`kernfs_iop_setattr`) and procfs (`proc_notify_change`) keep them in the inode until the
/// node goes away, and `kernfs_fop_open` checks the new mode; /proc/sys refuses them
/// (`proc_sys_setattr`: EPERM). They are part of the machine a `--state` file saves: each
/// change is journaled (`attr PATH mode=... uid=... gid=...`) and replayed.
public struct AttributeOverride: Sendable, Equatable {
    /// Permission bits (`& 0o7777`).
    public var mode: UInt16?
    public var uid: UInt32?
    public var gid: UInt32?
    public init(mode: UInt16? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
        self.mode = mode; self.uid = uid; self.gid = gid
    }

    /// The fields `change` sets replace this one's.
    func merged(with change: AttributeOverride) -> AttributeOverride {
        AttributeOverride(mode: change.mode ?? mode, uid: change.uid ?? uid, gid: change.gid ?? gid)
    }
}

extension KernelFS {
    /// chmod/chown by root (the caller checked permission): EPERM under /proc/sys, ENOENT
    /// for a path the model does not serve; otherwise kept and journaled.
    public func setAttributes(_ path: String, _ change: AttributeOverride) throws {
        if KernelFS.isSysctl(path) { throw KernelError(.notPermitted, "/proc/sys refuses chmod and chown") }
        _ = try lookup(path)
        withLock { _ in
            applyAttributes(path, change)
            record(JournalEntry(attributes: change, path: path))
        }
    }

    /// What chmod/chown set on `path`, if anything.
    public func attributeOverride(_ path: String) -> AttributeOverride? {
        withLock { _ in
            forgetAttributesOfRemovedBlocks()
            return attributeOverrides[path]
        }
    }

    /// Everything chmod/chown set, by path (a reload must give the same).
    public var allAttributeOverrides: [String: AttributeOverride] {
        withLock { _ in
            forgetAttributesOfRemovedBlocks()
            return attributeOverrides
        }
    }

    /// Drop what chmod/chown set on a memory block that has been removed since the last look
    /// (its `remove` uevent): `unregister_memory` → `device_unregister` deletes the kobject
    /// and its kernfs nodes with their inode attributes, and a block added again at the same
    /// address is a new kobject with the default mode and owner. Called (machine lock held)
    /// before every use of the overrides, so each override it sees predates every uevent not
    /// yet looked at, however many removes and adds one operation made.
    func forgetAttributesOfRemovedBlocks() {
        let events = machine.hotplug.uevents
        guard attributeUeventsSeen < events.count else { return }
        let removed = events[attributeUeventsSeen...].filter { $0.action == .remove }
        attributeUeventsSeen = events.count
        guard !removed.isEmpty, !attributeOverrides.isEmpty else { return }
        for e in removed {
            // The block's directory and all under it, and its link in its node's directory
            // (`/sys/devices/system/node/nodeN/memoryM`, removed with it).
            let dir = "/sys" + e.devpath
            let name = e.devpath.split(separator: "/").last.map(String.init) ?? ""
            for path in attributeOverrides.keys {
                let c = path.split(separator: "/")
                let nodeLink = c.count == 6 && c[..<4] == ["sys", "devices", "system", "node"] && c[5] == name
                if path == dir || path.hasPrefix(dir + "/") || nodeLink { attributeOverrides[path] = nil }
            }
        }
    }
}
