/// The simulated machine: every node's zones, the memmap, the allocator's state and the
/// counters the kernel's files show. One `Machine` is one booted kernel.
///
/// A class, because it owns gigabytes of per-page state that must never be copied; every
/// mutation goes through methods that keep the invariants `verify()` checks. It is not
/// thread-safe by itself: `KernelFS` serializes callers as the kernel's locks do.
///
/// The stored properties are `@exclusivity(unchecked)` (what the module-wide
/// `-enforce-exclusivity=unchecked` flag did before, without an unsafe flag): their accesses
/// never overlap by construction (one caller at a time, no inout access held across a call
/// that reaches the same property), and on the allocator's hot paths the dynamic checks cost
/// more than the work itself.
public final class Machine: @unchecked Sendable {
    public let config: MachineConfig
    /// What the firmware and early boot produced (e820, SRAT, zone ranges, reservations).
    @exclusivity(unchecked) public internal(set) var layout: BootLayout?
    /// The real machine this one was booted from (`boot(host:pages:)`), instead of a QEMU layout.
    @exclusivity(unchecked) public internal(set) var host: HostLayout?
    @exclusivity(unchecked) public internal(set) var params: KernelParameters
    public let memmap: MemMap
    /// Zones flattened as node * 5 + zone type.
    @exclusivity(unchecked) public internal(set) var zones: [Zone]
    @exclusivity(unchecked) public internal(set) var nodes: [Node]
    /// Per pageblock: migratetype (`pageblock_flags`) and the flattened zone index the pages belong to.
    @exclusivity(unchecked) @usableFromInline var pageblocks: PageblockFlags
    @exclusivity(unchecked) public internal(set) var owners = OwnerTable()
    /// Memory hotplug's own state: policies, groups, devices, notifiers (MemoryHotplug*.swift).
    @exclusivity(unchecked) public internal(set) var hotplug = HotplugState()
    /// HugeTLB hstates and pools, HVO settings (HugeTLB*.swift).
    @exclusivity(unchecked) public internal(set) var hugetlb = HugeTLBState()
    /// Where each section's memmap lives: the vmemmap page tables (SparseVmemmap/).
    @exclusivity(unchecked) public internal(set) var vmemmap = SparseVmemmap()
    /// The ACPI memory device and virtio-mem drivers' state (Drivers/).
    @exclusivity(unchecked) public internal(set) var drivers = MemoryDrivers()
    /// Memory block devices by id (`/sys/devices/system/memory/memoryN`).
    @exclusivity(unchecked) public internal(set) var blocks: [Int: MemoryBlock] = [:]
    /// Memory block size in pages (`block_size_bytes` / 4096).
    @exclusivity(unchecked) public internal(set) var blockPages = Geometry.pagesPerSection
    @exclusivity(unchecked) public internal(set) var vmstat = VMEvents()
    /// The kvfree_rcu() page cache and its shrinker (KvfreeRCUCache.swift).
    @exclusivity(unchecked) public internal(set) var kvfreeRCU = KvfreeRCUCache()
    /// The dcache names the guest has looked up and the free objects of the caches they use (VFS/).
    @exclusivity(unchecked) public internal(set) var dcache = DentryCacheState()
    /// The watermark tunables under /proc/sys/vm (min_free_kbytes, watermark_scale_factor, …).
    @exclusivity(unchecked) public internal(set) var watermarkTunables = WatermarkTunables()
    /// The other /proc/sys/vm tunables (overcommit, pcp fraction, drop_caches; VMSysctl.swift).
    @exclusivity(unchecked) public internal(set) var vmSysctl = VMSysctl()
    /// Why operations failed, in the kernel's words (what only dynamic debug would show).
    @exclusivity(unchecked) public internal(set) var explain = ExplainLog()
    /// The kernel log (dmesg) lines the model prints.
    @exclusivity(unchecked) public internal(set) var kmsg: [String] = []
    /// The kswapd threads exist (`kswapd_init`): false during `Machine.boot` until its device
    /// initcalls; `wakeup_kswapd` finds no thread waiting before.
    @exclusivity(unchecked) var kswapdStarted = true
    /// Some node's kswapd was woken and has not run yet (`nodes[n].kswapd.woken`; Kswapd.swift).
    @exclusivity(unchecked) var kswapdRunnable = false
    /// warn_alloc's `nopage_rs`: one "page allocation failure" warning per 10 s.
    @exclusivity(unchecked) var nopageRatelimit = RatelimitState.warnAlloc
    /// Virtual time in nanoseconds since boot.
    @exclusivity(unchecked) public internal(set) var clock: UInt64 = 0
    @exclusivity(unchecked) public internal(set) var random: SplitMix64
    /// Number of CPUs (QEMU `-smp`, 1 in the captures): sizes the per-cpu lists.
    public let cpus: Int

    /// Called where the kernel sleeps or reschedules in the middle of a hotplug operation
    /// while holding only device_hotplug_lock (between offline_pages() retry passes, between
    /// the memory blocks of an add). Whoever serializes callers (`KernelFS`) lets readers
    /// and other writers in here, so the model keeps nothing cached across a call.
    public var preemptionPoint: (() -> Void)?
    /// A caller that waits in real time, as a process blocked in write(2) does: called
    /// between offline_pages() retry passes that changed nothing, with the machine lock
    /// released as at `preemptionPoint`; returns true once the caller has a signal pending.
    /// nil (scenarios, tests): the model skips virtual time to the write's deadline instead.
    public var offlineRetryWait: (() -> Bool)?
    /// A user process whose pages the model does not track that the OOM killer can still
    /// choose when no tracked owner qualifies: `select_bad_process` always finds the scenario
    /// runner's guest program (memhp-guest), whose address space holds every hold. Cleared
    /// once killed.
    public var untrackedOOMVictim: String?
    /// How deep the calling task is in the model's operations (`syscall`, KernelEntry.swift):
    /// the kernel's workers run when it leaves the outermost one.
    @exclusivity(unchecked) var syscallDepth = 0

    public static let zonesPerNode = ZoneType.allCases.count

    /// Builds an empty machine over `pfnCount` frames with `nodeCount` nodes: no memory yet.
    /// `boot` (BootMemory.swift) fills it from a layout.
    init(config: MachineConfig, params: KernelParameters, pfnCount: Int, nodeIDs: [Int], cpus: Int = 1) {
        self.config = config
        self.params = params
        self.cpus = cpus
        memmap = MemMap(pfnCount: pfnCount)
        let nodeCount = (nodeIDs.max() ?? 0) + 1
        zones = (0..<nodeCount).flatMap { n in ZoneType.allCases.map { Zone(node: n, type: $0) } }
        nodes = (0..<nodeCount).map { Node(id: $0, exists: nodeIDs.contains($0)) }
        let blocks = (pfnCount + Geometry.pageblockPages - 1) / Geometry.pageblockPages
        pageblocks = PageblockFlags(count: blocks)
        random = SplitMix64(seed: config.seed)
    }

    @inlinable public func zoneIndex(node: Int, type: ZoneType) -> Int { node * Machine.zonesPerNode + type.rawValue }
    public func zone(node: Int, type: ZoneType) -> Zone { zones[zoneIndex(node: node, type: type)] }

    /// The zone a present pfn belongs to (flattened index), or nil for absent memory.
    @inlinable public func zoneIndex(ofPFN pfn: PFN) -> Int? {
        let z = pageblocks.zone[pfn >> Geometry.pageblockOrder]
        return z == UInt16.max ? nil : Int(z)
    }
    @inlinable public func pageblockMigrateType(_ pfn: PFN) -> MigrateType {
        MigrateType(rawValue: pageblocks.migrateType[pfn >> Geometry.pageblockOrder])!
    }
    @inlinable func setPageblockMigrateType(_ pfn: PFN, _ mt: MigrateType) {
        pageblocks.migrateType[pfn >> Geometry.pageblockOrder] = mt.rawValue
    }
    func setPageblockZone(_ range: PFNRange, zone: Int?) {
        var pb = range.start >> Geometry.pageblockOrder
        let end = (range.end + Geometry.pageblockPages - 1) >> Geometry.pageblockOrder
        while pb < end { pageblocks.zone[pb] = zone.map { UInt16($0) } ?? UInt16.max; pb += 1 }
    }

    /// `cond_resched()`: see `preemptionPoint`.
    func condResched() { preemptionPoint?() }

    /// Advance virtual time.
    public func advance(nanoseconds: UInt64) { clock &+= nanoseconds }

    func log(_ line: String) { kmsg.append(line) }

    // MARK: Totals the views need

    public var totalManagedPages: Int { zones.reduce(0) { $0 + $1.managedPages } }
    public var totalFreePages: Int { zones.reduce(0) { $0 + $1.freePages } }
    public var totalPCPPages: Int { zones.reduce(0) { $0 + $1.pcp.count } }
    public func totalPages(of kind: PageKind) -> Int { zones.reduce(0) { $0 + $1.kindPages[Int(kind.rawValue)] } }
    public func populatedZones(node: Int? = nil) -> [Int] {
        zones.indices.filter { zones[$0].isPopulated && (node == nil || zones[$0].node == node) }
    }
}

/// `pg_data_t`: a NUMA node.
public struct Node: Sendable {
    public let id: Int
    /// Whether the node exists in the firmware tables (possible) at all.
    public var exists: Bool
    /// Zonelist for allocations starting on this node: flattened zone indices in the order
    /// the allocator tries them (this node's zones high to low, then other nodes by distance).
    public var zonelist: [Int] = []
    /// `zonelist` cut to each highest zone type, [highest][thisNode ? 1 : 0].
    public var zonelistsByZone: [[[Int]]] = []
    public var distances: [Int] = []
    /// The node's kswapd (Kswapd.swift).
    public var kswapd = KswapdState()
    public init(id: Int, exists: Bool) { self.id = id; self.exists = exists }
}

/// The reasons the kernel would give, one entry each, readable by the user.
public struct ExplainLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var time: UInt64
        public var subject: String
        public var message: String
    }
    public private(set) var entries: [Entry] = []
    public mutating func add(time: UInt64, _ subject: String, _ message: String) {
        entries.append(Entry(time: time, subject: subject, message: message))
    }
    public var last: Entry? { entries.last }
}

/// Event counters of /proc/vmstat that are not per-zone page counts.
public struct VMEvents: Sendable {
    public var allocstallNormal = 0, allocstallMovable = 0
    public var pgstealDirect = 0, pgstealKswapd = 0
    public var oomKill = 0
    public var pgmigrateSuccess = 0, pgmigrateFail = 0
    public var compactStall = 0, compactFail = 0, compactSuccess = 0
    public var htlbBuddyAllocSuccess = 0, htlbBuddyAllocFail = 0
    public var allocFailures = 0
    /// drop_caches writes (DropCaches.swift).
    public var dropPagecache = 0, dropSlab = 0
}
