/// The NUMA allocation events of one zone (`enum numa_stat_item`): what /proc/zoneinfo,
/// /proc/vmstat's numa_* lines and a node's `numastat` and `vmstat` print.
///
/// 6.1 counts them per cpu (`__count_numa_events` into `per_cpu_zonestats->vm_numa_event`) and
/// folds them into the zone only on demand, but every reader folds first: vmstat_start
/// (/proc/vmstat), node_read_numastat and node_read_vmstat call `fold_vm_numa_events`, and
/// Debian's 6.1.192 zoneinfo_show_print calls `fold_vm_zone_numa_events` before it prints a zone
/// (a 6.1.0-57 probe read DMA32 numa_hit 5999 in zoneinfo right after boot with no /proc/vmstat
/// read before it, and node0/numastat 6001 right after). The pending per-cpu part is therefore
/// never visible and the model keeps the folded sum only.
public struct NumaEvents: Sendable, Equatable {
    public var hit = 0, miss = 0, foreign = 0, interleaveHit = 0, local = 0, other = 0
    public init() {}

    /// In `numa_stat_item` order (numa_hit, numa_miss, numa_foreign, numa_interleave,
    /// numa_local, numa_other).
    public var values: [Int] { [hit, miss, foreign, interleaveHit, local, other] }

    public static func + (a: NumaEvents, b: NumaEvents) -> NumaEvents {
        var r = a
        r.hit += b.hit; r.miss += b.miss; r.foreign += b.foreign
        r.interleaveHit += b.interleaveHit; r.local += b.local; r.other += b.other
        return r
    }
}

extension Machine {
    /// `zone_statistics`, called by `rmqueue` once for every successful allocation call
    /// whatever its order (the per-cpu list and the buddy path alike): a hit on zone `z` when
    /// it is on the preferred zone's node, else a miss on `z` and a foreign event on the
    /// preferred zone; local or other by the node of the allocating CPU (`numa_node_id()`:
    /// QEMU's single CPU sits on node 0, see NodeSysfsFiles' `has_cpu`).
    func zoneStatistics(_ z: Int, preferredZone pz: Int, count n: Int = 1) {
        if zones[z].node == zones[pz].node {
            zones[z].numaEvents.hit += n
        } else {
            zones[z].numaEvents.miss += n
            zones[pz].numaEvents.foreign += n
        }
        if zones[z].node == Machine.allocatingCPUNode {
            zones[z].numaEvents.local += n
        } else {
            zones[z].numaEvents.other += n
        }
    }

    /// The node of the CPU every allocation runs on (`-smp 1`: CPU 0, on node 0).
    static let allocatingCPUNode = 0

    /// The NUMA events of one node's zones (`sum_zone_numa_event_state`), or of all when `node` is nil.
    public func numaEvents(node: Int? = nil) -> NumaEvents {
        var e = NumaEvents()
        for z in zones.indices where node == nil || zones[z].node == node { e = e + zones[z].numaEvents }
        return e
    }

    /// The NUMA events of one zone (flattened index).
    public func numaEvents(zone z: Int) -> NumaEvents { zones[z].numaEvents }
}

extension Machine {
    /// The NUMA events the boot leaves when user space first looks, in place of the count of
    /// the model's own boot allocations (page-granular stand-ins for the kernel's calls; see
    /// `BootProfile.numaBootAllocationCalls`): each DMA atomic pool is one interleaved call in
    /// the zone it came from (a 4G guest reads DMA and DMA32 numa_hit 1, numa_interleave 1);
    /// the user pages' calls are counted where the initramfs landed; the kernel's calls,
    /// interleaved ones included, where its other kernel memory did. Every call is node 0's
    /// (CPU 0 allocates; on a multi-node machine the interleaved share of the other nodes
    /// is not modelled: 1112 calls on node 1 of 512M+512M, 1352 on 2G+2G).
    func setBootNumaEvents(_ a: BootAllocations) {
        for z in zones.indices { zones[z].numaEvents = NumaEvents() }
        func zoneOf(_ name: String) -> Int? {
            guard let id = owners.byName[name], let o = owners[id], !o.blocks.isEmpty else { return nil }
            return zoneIndex(ofPFN: o.blocks[0])
        }
        var calls = a.numaCalls, interleave = a.numaInterleaveHits
        func add(_ z: Int, _ n: Int, interleaved: Int) {
            guard n > 0 else { return }
            zoneStatistics(z, preferredZone: z, count: n)
            zones[z].numaEvents.interleaveHit += interleaved
            calls -= n; interleave -= interleaved
        }
        for pool in ["kernel:atomic_pool", "kernel:atomic_pool_dma", "kernel:atomic_pool_dma32"] {
            if let z = zoneOf(pool) { add(z, 1, interleaved: 1) }
        }
        if let z = zoneOf("rootfs:initramfs") { add(z, a.numaMovableCalls, interleaved: 0) }
        if let z = zoneOf("kernel:other") ?? zoneOf("kernel:slab_unreclaimable") {
            add(z, Swift.max(calls, 0), interleaved: Swift.max(interleave, 0))
        }
    }
}
