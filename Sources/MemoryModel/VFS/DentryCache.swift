/// Which names the guest's path walks have already put in the dcache, and the free objects of
/// the slab caches a new one takes (`LookupSlabCache`). Keys are paths without the leading
/// slash ("sys/devices/system/memory").
public struct DentryCacheState: Sendable {
    /// Names looked up with an inode behind them.
    var positive: Set<String> = DentryCacheState.mountedAtBoot
    /// kernfs names looked up and not found: `kernfs_iop_lookup` leaves a negative dentry.
    var negative: Set<String> = []
    /// Free objects per cache (`LookupSlabCache.rawValue`).
    public internal(set) var free: [Int] = LookupSlabCache.allCases.map(\.freeAtScenarioStart)
    /// Slabs taken since boot per cache, for explanations and tests.
    public internal(set) var slabsTaken: [Int] = LookupSlabCache.allCases.map { _ in 0 }
    /// Whole paths (as their walkers spelled them) last walked with every name positive: a
    /// cache of the walk's answer, not state. Names leave `positive` only through a walk that
    /// finds them gone, which empties it, so while a path is here another walk of it that
    /// finds it whole allocates nothing and needs no prefix built (a FUSE reader's every read).
    var walkedWhole: Set<String> = []

    /// What /init looked up before the runner started: the mount points of proc, sysfs and
    /// debugfs (GuestInit), which the probes' counts take as known.
    static let mountedAtBoot: Set<String> = ["proc", "sys", "sys/kernel", "sys/kernel/debug"]
}

/// The filesystem behind a path, as far as which inode cache its lookups use.
public enum LookupFilesystem: Sendable {
    /// sysfs: `kernfs_get_inode` → inode_cache.
    case kernfs
    /// procfs (pde and sysctl entries): proc_inode_cache.
    case proc
    /// debugfs and tracefs create their dentries with their files: a lookup allocates nothing.
    case precreated

    public static func of(_ comps: [String]) -> LookupFilesystem {
        if comps.first == "proc" { return .proc }
        if comps.count >= 3, comps[1] == "kernel", comps[2] == "debug" { return .precreated }
        return .kernfs
    }
}

extension Machine {
    /// A path walk of `comps` (from the root) whose first `existing` components exist: every
    /// name not in the dcache yet allocates a dentry, and a positive one its inode and LSM blob
    /// (`walk_component` → `lookup_slow`). A kernfs name that does not exist leaves a negative
    /// dentry (`kernfs_iop_lookup` → `d_splice_alias(NULL)`); procfs frees its dentry again
    /// (`proc_lookup_de` and `proc_sys_lookup` return -ENOENT). A name whose node went away
    /// (a removed memory block) fails `kernfs_dop_revalidate`: its inode and blob are freed and
    /// a negative dentry replaces the old one. Returns whether anything was allocated or freed.
    /// `path`, when given, is the walk's whole path as the caller spells it: a path already
    /// walked whole is answered from `DentryCacheState.walkedWhole`.
    @discardableResult
    public func pathWalk(_ comps: [String], existing: Int, path: String? = nil) -> Bool {
        let fs = LookupFilesystem.of(comps)
        guard fs != .precreated, !comps.isEmpty else { return false }
        let whole = existing >= comps.count
        // A whole walk cannot take a name out of `positive`, so its path goes in at once.
        if whole, let path, !dcache.walkedWhole.insert(path).inserted { return false }
        // A walk whose directory was walked whole before (and nothing left `positive` since)
        // finds every name but the last positive: only the last is looked at. A walk that
        // reaches its last name shows its directory whole, for the next name in it (lsmem
        // reads three files of each block directory it listed).
        let parent = path.flatMap {
            comps.count >= 2 && existing >= comps.count - 1 ? Self.canonicalParent($0, comps) : nil
        }
        let parentWhole = parent.map { dcache.walkedWhole.contains($0) } ?? false
        // Every name before the last is positive after the walk, also when the last one left.
        defer { if let parent, !parentWhole { dcache.walkedWhole.insert(parent) } }
        var changed = false
        var first = 0
        var key = comps[0]
        if parentWhole, let path {
            first = comps.count - 1
            key = String(path.utf8.dropFirst())!
        }
        for i in first..<Swift.min(comps.count, existing + 1) {
            if i > first { key += "/" + comps[i] }
            if i < existing {
                guard dcache.positive.insert(key).inserted else { continue }
                // A negative kernfs dentry is always looked up afresh: freed and replaced.
                if dcache.negative.isEmpty || dcache.negative.remove(key) == nil { takeLookupObject(.dentry) }
                takeLookupObject(fs == .proc ? .procInode : .inode)
                takeLookupObject(.lsmInode)
                changed = true
            } else {
                guard fs == .kernfs else { break }
                if dcache.positive.remove(key) != nil {
                    // A name left `positive`: no whole path is known to be cached any more.
                    dcache.walkedWhole.removeAll()
                    dcache.free[LookupSlabCache.inode.rawValue] += 1
                    dcache.free[LookupSlabCache.lsmInode.rawValue] += 1
                    dcache.negative.insert(key)
                    changed = true
                } else if !dcache.negative.contains(key) {
                    dcache.negative.insert(key)
                    takeLookupObject(.dentry)
                    changed = true
                }
            }
        }
        return changed
    }

    /// The directory part of `path` ("/a/b" of "/a/b/c") when `path` spells `comps` exactly
    /// (one slash before each name, none after), so that its dcache key is `path` without its
    /// first slash; nil for any other spelling.
    static func canonicalParent(_ path: String, _ comps: [String]) -> String? {
        var length = 0
        for c in comps { length += 1 + c.utf8.count }
        guard path.utf8.count == length, path.utf8.first == UInt8(ascii: "/") else { return nil }
        let cut = path.utf8.index(path.utf8.endIndex, offsetBy: -(comps[comps.count - 1].utf8.count + 1))
        return String(path.utf8[..<cut])
    }

    /// A file the guest creates and keeps open outside the served tree: its dentry and LSM blob
    /// and, when given, its inode's cache (a ramfs file's and io_uring's anon inode come from
    /// inode_cache; a memfd's shmem inode from shmem_inode_cache, not modelled). `released`
    /// gives them back: the last `fput` frees the unlinked dentry and evicts the inode.
    public func guestFile(inode: LookupSlabCache?, released: Bool) {
        for c in [.dentry, .lsmInode] + (inode.map { [$0] } ?? []) {
            if released { dcache.free[c.rawValue] += 1 } else { takeLookupObject(c) }
        }
    }

    /// One object of `cache`: a new slab from the page allocator when none is free (SLUB's
    /// `new_slab` with the cache's gfp: GFP_KERNEL's zonelist on node 0, `__GFP_RECLAIMABLE`
    /// for SLAB_RECLAIM_ACCOUNT caches).
    func takeLookupObject(_ cache: LookupSlabCache) {
        let c = cache.rawValue
        if dcache.free[c] == 0 {
            let name = "kernel:slab:" + cache.name
            let id =
                ownerID(named: name)
                ?? (try? createOwner(
                    name: name, kind: cache.reclaimable ? .slabReclaimable : .slabUnreclaimable, node: 0,
                    order: cache.slabOrder, reclaimable: false))
            if let id, allocate(owner: id, blocks: 1) == 1, let pfn = owners[id]?.blocks.last {
                dcache.slabsTaken[c] += 1
                explain.add(
                    time: clock, "slab \(cache.name)",
                    "a first-time path lookup found no free \(cache.name) object: new slab at pfn 0x\(String(pfn, radix: 16)) (zone \(zoneIndex(ofPFN: pfn).map { zones[$0].type.name } ?? "?"))"
                )
            }
            // A failed allocation is the lookup's ENOMEM in the kernel; the model keeps going
            // with the objects as if the slab had come (no lookup fails in the scenarios).
            dcache.free[c] += cache.objectsPerSlab
        }
        dcache.free[c] -= 1
    }
}
