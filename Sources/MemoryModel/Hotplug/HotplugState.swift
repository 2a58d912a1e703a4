/// State memory hotplug keeps besides the blocks themselves (mm/memory_hotplug.c and
/// drivers/base/memory.c globals). The drivers that add memory keep theirs in
/// `MemoryDrivers` (Drivers/).
public struct HotplugState: Sendable {
    /// Memory groups by id (`memory_group_register_static/dynamic`).
    public internal(set) var groups: [Int: MemoryGroup] = [:]
    var nextGroupID = 0
    /// Device uevents in the order the kernel emits them (udev would see these).
    public internal(set) var uevents: [Uevent] = []
    /// memory-notifier-error-inject: the errno (negative, clamped to [-4095, 0]) each
    /// action returns. 0 or absent = no injection.
    public var notifierErrors: [MemoryNotifierEvent: Int] = [:]
    /// memory-notifier-error-inject is loaded: its debugfs files exist and its notifier runs.
    public internal(set) var notifierErrorInjectLoaded = false
    /// Other subscribers of the memory notifier chain (virtio-mem, HugeTLB, ...), called in order.
    public internal(set) var notifiers: [(name: String, callback: MemoryNotifierCallback)] = []
    /// Every memory_notify() call, for tests and tracing.
    public internal(set) var notifierLog: [MemoryNotify] = []
    /// Memory added at run time (or cold-plugged through ACPI): one entry per add_memory() call.
    public internal(set) var resources: [HotplugResource] = []
    /// The highest end pfn any hot-add reached (x86 raises max_pfn to it; removal never lowers it).
    public internal(set) var addedEndPFN: PFN = 0
    /// Blocks whose range is not entirely System RAM (boot blocks with holes).
    public internal(set) var holeBlocks: Set<Int> = []
    /// `/proc/dynamic_debug/control` `file mm/memory_hotplug.c +p`: pr_debug lines also go to kmsg.
    public var dynamicDebug = false
    /// CONFIG_ARCH_MEMORY_PROBE: `/sys/devices/system/memory/probe` exists (not on Debian 12).
    public var probeInterface = false
    /// How long an offline without a deadline may retry before it is treated as interrupted.
    /// The real kernel retries forever until a signal arrives; the model cannot hang, so a
    /// write without a deadline behaves as if `timeout 120` had wrapped it.
    public var defaultOfflineTimeout: UInt64 = 120_000_000_000
    /// A kernel zone just became node 0's first GFP_KERNEL zone: the next read that outgrows
    /// a page, `dump blocks` or user memory takes the kernel's next slab pages from it
    /// (`kernelActivityRuns`).
    var slabAfterOnlinePending = false
    /// Ratelimit of do_migrate_range's warnings (DEFAULT_RATELIMIT_INTERVAL 5 s, burst 10).
    var migrateWarnWindowStart: UInt64 = 0
    var migrateWarnCount = 0
    /// `do_migrate_range` moves runs of order-0 LRU pages in batches (MigrationBatch.swift);
    /// tests turn it off to compare with page-by-page migration.
    var batchMigration = true
    /// Pages the batch migrated (tests check that it ran).
    var batchMigratedPages = 0

    public init() {}
}

/// `struct memory_group`: a static group is one ACPI DIMM; a dynamic group one virtio-mem device.
public struct MemoryGroup: Sendable, Equatable {
    public let id: Int
    public let node: Int
    public let isDynamic: Bool
    /// Static groups: all the pages the device will ever add (`s.max_pages`).
    public var maxPages: Int
    /// Dynamic groups: the unit memory is added and removed in (`d.unit_pages`).
    public var unitPages: Int
    public var presentMovablePages = 0
    public var presentKernelPages = 0
}

/// A `kobject_uevent` of a memory block device.
public struct Uevent: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable { case add, remove, change, move, online, offline, bind, unbind }
    public var action: Action
    /// e.g. `/devices/system/memory/memory32`.
    public var devpath: String
    public var time: UInt64
}

/// Memory notifier actions with 6.1's values (include/linux/memory.h).
public enum MemoryNotifierEvent: Int, Sendable, CaseIterable, Hashable {
    case online = 1, goingOffline = 2, offline = 4, goingOnline = 8, cancelOnline = 16, cancelOffline = 32
    /// The name memory-notifier-error-inject uses for its debugfs directory.
    public var name: String {
        switch self {
        case .online: "MEM_ONLINE"
        case .goingOffline: "MEM_GOING_OFFLINE"
        case .offline: "MEM_OFFLINE"
        case .goingOnline: "MEM_GOING_ONLINE"
        case .cancelOnline: "MEM_CANCEL_ONLINE"
        case .cancelOffline: "MEM_CANCEL_OFFLINE"
        }
    }
}

/// `struct memory_notify` plus the action.
public struct MemoryNotify: Sendable, Equatable {
    public var event: MemoryNotifierEvent
    public var startPFN: PFN
    public var nrPages: Int
    /// Node whose N_MEMORY state changes with this operation, else nil.
    public var statusChangeNid: Int?
    /// Node whose N_NORMAL_MEMORY state changes, else nil.
    public var statusChangeNidNormal: Int?
}

/// A notifier callback: returns 0 to agree or a negative errno to veto (only the GOING_* events can veto).
public typealias MemoryNotifierCallback = @Sendable (Machine, MemoryNotify) -> Int

/// One add_memory() range: where its memmap lives.
public struct HotplugResource: Sendable, Equatable {
    public var range: PFNRange
    public var node: Int
    public var group: Int?
    /// memmap_on_memory: pages at the start of each block hold the block's own memmap.
    public var memmapOnMemory: Bool
    public var device: String?
}

/// An ACPI memory device (`PNP0C80`, a QEMU pc-dimm).
public struct ACPIMemoryDevice: Sendable, Equatable {
    public var id: String
    public var range: PFNRange
    public var node: Int
    public var group: Int
    /// `acpi PNP0C80:NN` instance number.
    public var instance: Int
}

/// offline_pages() of a caller no signal reaches (a kernel thread) would retry forever: page
/// `pfn` (of `kind`) in block `block` neither migrates nor frees. Thrown with the range given
/// back (isolation undone, MEM_CANCEL_OFFLINE sent); the caller models the wait.
public struct OfflineSpins: Error, Sendable, Equatable {
    public var block: Int
    public var pfn: PFN
    public var kind: PageKind
}

/// An eject (`acpi_scan_hot_remove`) whose worker is spinning in offline_pages() on `spinning`
/// (state going-offline, its range isolated, its zone's pcp lists disabled) until page `pfn`
/// stops being `kind`; `ids`, `next`, `putOnline`, `failed` and `secondPass` are where the
/// two-pass walk of `acpi_scan_try_to_offline` stands.
struct PendingEject: Sendable, Equatable {
    var device: String
    var ids: [Int]
    var next: Int
    var putOnline: Set<Int>
    var failed: Bool
    var secondPass: Bool
    var spinning: Int
    var pfn: PFN
    var kind: PageKind
}
