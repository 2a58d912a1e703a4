/// The slab caches a first-time path lookup allocates from, and the free objects each holds
/// when a scenario starts: boot-time facts of Debian's 6.1.0-57 guest, measured, not derived.
///
/// A lookup that misses the dcache (`__lookup_slow` → `d_alloc_parallel`) allocates a dentry;
/// a positive one also an inode (`iget_locked` in kernfs, `proc_get_inode` or
/// `proc_sys_make_inode` in procfs) and its LSM blob (`security_inode_alloc`). SLUB takes a new
/// slab from the page allocator only when the cache's cpu slab and partial slabs have no free
/// object left (`___slab_alloc` → `new_slab`), so which lookup takes a page depends on how many
/// objects were free when the scenario began.
public enum LookupSlabCache: Int, CaseIterable, Sendable {
    case dentry, inode, procInode, lsmInode

    /// The name /proc/slabinfo gives it.
    public var name: String {
        switch self {
        case .dentry: "dentry"
        case .inode: "inode_cache"
        case .procInode: "proc_inode_cache"
        case .lsmInode: "lsm_inode_cache"
        }
    }

    /// `<objperslab>` and log2 of `<pagesperslab>` in the guest's /proc/slabinfo (192-byte
    /// dentries, 640-byte inodes, 712-byte proc inodes, 32-byte LSM blobs).
    public var objectsPerSlab: Int {
        switch self {
        case .dentry: 21
        case .inode: 12
        case .procInode: 11
        case .lsmInode: 128
        }
    }
    public var slabOrder: Int {
        switch self {
        case .dentry, .lsmInode: 0
        case .inode, .procInode: 1
        }
    }

    /// dentry, inode_cache and proc_inode_cache are created with SLAB_RECLAIM_ACCOUNT
    /// (`__GFP_RECLAIMABLE`: MIGRATE_RECLAIMABLE slabs); lsm_inode_cache with SLAB_PANIC only
    /// (`security_init` → `lsm_early_...`: unmovable).
    public var reclaimable: Bool { self != .lsmInode }

    /// Free objects when the scenario's first step runs (after /init's mounts and the runner's
    /// own opens of /proc/cmdline, /dev/kmsg and /steps). Measured with probe scenarios that
    /// read /proc/slabinfo after each of 86 first-time lookups (memoryN/{state,phys_index,
    /// valid_zones,removable,phys_device,online} for N = 0..11, then 14 /proc/sys/vm files),
    /// on shapes movablecore (2G, movablecore=25%), kernelcore (2G + 512M DIMM,
    /// kernelcore=512M) and dimms (1G + two 512M DIMMs): the same on all three. A cache's
    /// `<num_objs>` grows by one slab at lookup number free+1, free+1+objperslab, ...
    /// (counting /proc/slabinfo's own lookup and /sys/devices, system and memory as new):
    /// dentry at object 5, 26, 47, 68, 89 (4 free; pinned by the dimms probe's shifted
    /// sequence); inode_cache at 6, 18, 30, ... 78 (5 free); lsm_inode_cache at 65 (64 free);
    /// proc_inode_cache at 4 and 15 (3 free). Probes and outputs: tests/study/slab-probes.
    /// Campaign seeds 138 and 147 agree: 138's 8 extra first lookups make the second lookup
    /// after memory39's online take lsm object 65 (and dentry 68), 147's stop at 61.
    public var freeAtScenarioStart: Int {
        switch self {
        case .dentry: 4
        case .inode: 5
        case .procInode: 3
        case .lsmInode: 64
        }
    }
}
