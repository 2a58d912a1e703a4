/// What Linux 6.1 finds at boot on `qemu-system-x86_64 -machine pc -m SIZE,slots=N,maxmem=M`
/// (QEMU 7.2, SeaBIOS 1.16): the firmware memory map, the ACPI SRAT, where QEMU put the
/// DIMMs, and what the kernel makes of it all: memblock ranges per node, zones (with
/// `kernelcore=`/`movablecore=`), memblock reservations, and the boot log lines about memory.
///
/// Everything is computed from ranges, never per page, so a many-TiB machine costs the same.
///
/// Boot reserve profile (what memblock keeps, in the order 6.1 allocates it; sizes in
/// `BootProfile`): the first MiB; the kernel image at 16 MiB (its gaps, initmem, SMP
/// alternatives and unused decrypted bss are freed late); the initrd (QEMU loads it right
/// below the BIOS's top 128 KiB of low RAM, at most below 2 GiB; freed late); then top-down
/// from the end of each node: NODE_DATA, direct-map page tables, the sparse memmap (2 MiB per
/// present section, 2 MiB aligned, on its node), the percpu first chunk (a 2 MiB unit whose
/// unused tail is given back), boot gigantic pages, the dentry/inode hash tables (memblock on
/// one node; vmalloc, i.e. buddy, with several), small misc allocations, and SWIOTLB (64 MiB
/// below 4 GiB plus its slot array) when any RAM or SRAT hotplug range lies above 4 GiB.
/// On the 1 GiB guest with the captures' initramfs (`BootProfile.captures`; the default
/// profile is kernel-run's larger one) this reproduces the captured addresses (NODE_DATA 0x3fea7000, SWIOTLB
/// 0x3ac00000-0x3ec00000) and the reserved pages per zone exactly (a: DMA 158, DMA32 32496;
/// c: DMA32 11318, Movable 21178).
///
/// KASLR: the model always puts the image where `nokaslr` does. Real boots without it move
/// the image (README: 0x1bc00000 to 0x113800000), which changes which zone/block holds its
/// ~11300 reserved pages and the `Memory: NK` available figure, not the totals.
public struct BootLayout: Sendable {
    public var config: MachineConfig
    public var params: KernelParameters

    // MARK: QEMU's view
    /// pc machine RAM split (hw/i386/pc_piix.c): with `-m` >= 3.5 GiB (the default
    /// `max-ram-below-4g` 0xe0000000) the split moves down to 3 GiB (gigabyte_align), else
    /// all RAM sits below 4 GiB.
    public var belowFourGBytes: Int
    public var aboveFourGBytes: Int
    /// Where RAM above 4 GiB starts: 4 GiB, or 1 TiB when the highest used guest physical
    /// address would reach the AMD HyperTransport hole at 0xfd00000000 (QEMU 7.1+, AMD
    /// vendor CPUs such as the default qemu64).
    public var aboveFourGStart: Int
    /// The hotplug (device memory) region, bytes [start, end). nil without `maxmem > mem`.
    public var deviceMemory: Range<Int>?
    public var dimms: [DIMMPlacement]
    public var virtioMem: [VirtioMemPlacement]
    /// The e820 map as SeaBIOS hands it over (printed as `BIOS-e820:`).
    public var e820: [E820Entry]
    /// After `mem=` (printed as `user:`), nil without `mem=`.
    public var e820User: [E820Entry]?
    /// SRAT memory affinity entries Linux accepts (enabled ones), in table order. Empty when
    /// QEMU builds no SRAT (no `-numa` and no memory hotplug).
    public var srat: [SRATMemory]

    // MARK: Linux's view
    /// memblock.memory: page-aligned boot RAM per node, in address order.
    public var memoryRanges: [(range: PFNRange, node: Int)]
    /// `max_pfn`: end of the highest boot RAM.
    public var maxPFN: PFN
    /// `max_possible_pfn`: also counts SRAT hotplug ranges (decides SWIOTLB).
    public var maxPossiblePFN: PFN
    /// `max_mem_size` (mem=): memory added while booting must end below it.
    public var maxMemSizeBytes: Int?
    public var memoryBlockSize: Int
    /// arch_zone_lowest/highest_possible_pfn for DMA, DMA32, Normal, Device.
    public var archZoneRanges: [ZoneType: PFNRange]
    /// The zone ZONE_MOVABLE is carved from (the highest populated kernel zone).
    public var movableZone: ZoneType
    /// Linux node ids that have memory or were named in SRAT, ascending.
    public var nodes: [NodeLayout]
    /// memblock reservations at the end of boot and those freed late (see `ReservedRange.Fate`).
    public var reserved: [ReservedRange]
    public var swiotlb: PFNRange?
    public var kernelImage: PFNRange
    /// Buddy allocations made between `memblock_free_all()` and the first observation.
    public var bootAllocations: BootAllocations
    /// Pages counted as free in `Memory: NK/...` (the part of memory initialised before the
    /// deferred struct page init, minus reservations, minus vmalloc page-table preallocation).
    public var memInitAvailablePages: Int
    /// Kernel log lines about memory, in boot order, without timestamps.
    public var bootLog: [String]

    /// Node by Linux id.
    public func node(_ id: Int) -> NodeLayout? { nodes.first { $0.id == id } }
    public func zone(node: Int, _ type: ZoneType) -> ZoneLayout? { self.node(node)?.zones[type.rawValue] }
    /// `/proc/iomem` top-level "System RAM" lines for boot memory and accepted DIMMs.
    public var iomemSystemRAM: [String] {
        // The kernel's e820 RAM entries, not the page-trimmed memblock ranges, are the resources.
        var lines: [(Int, String)] = e820ForIomem.map { e in
            (
                e.start,
                "\(hex(e.start, width: 8, prefix: false))-\(hex(e.end - 1, width: 8, prefix: false)) : System RAM"
            )
        }
        for d in dimms where d.accepted {
            lines.append(
                (
                    d.start,
                    "\(hex(d.start, width: 8, prefix: false))-\(hex(d.start + d.sizeBytes - 1, width: 8, prefix: false)) : System RAM"
                ))
        }
        return lines.sorted { $0.0 < $1.0 }.map(\.1)
    }
    /// The kernel's final e820 RAM entries (page 0 reserved, 640K-1M removed, mem= applied).
    var e820ForIomem: [E820Entry] {
        (e820User ?? e820).compactMap { e in
            guard e.kind == .usable else { return nil }
            let s = max(e.start, 0x1000)
            return s < e.end ? E820Entry(start: s, end: e.end, kind: .usable) : nil
        }
    }
}

/// A node as Linux sets it up at boot.
public struct NodeLayout: Sendable, Equatable {
    public var id: Int
    /// This node's memblock ranges.
    public var memory: [PFNRange]
    /// node_start_pfn / node end (spanned); 0..<0 for a memoryless node.
    public var span: PFNRange
    public var presentPages: Int
    /// `zone_movable_pfn[nid]`, nil for none.
    public var movableStartPFN: PFN?
    /// Indexed by `ZoneType.rawValue`: DMA, DMA32, Normal, Movable, Device.
    public var zones: [ZoneLayout]
}

/// One zone of one node after `free_area_init()` and the end of boot.
public struct ZoneLayout: Sendable, Equatable {
    public var node: Int
    public var type: ZoneType
    /// zone_start_pfn (0 when the zone spans nothing).
    public var startPFN: PFN
    public var spannedPages: Int
    public var presentPages: Int
    /// memblock-reserved pages that stay reserved after boot.
    public var reservedPages: Int
    /// Also reserved at `mem_init()`, freed to the buddy later (initmem, initrd, ...).
    public var lateFreedPages: Int
    /// Boot gigantic HugeTLB pages (memblock-allocated, managed but owned by HugeTLB).
    public var giganticPages: Int
    public var span: PFNRange { PFNRange(start: startPFN, count: spannedPages) }
    /// managed_pages once boot is over: present minus what memblock kept.
    public var managedPages: Int { presentPages - reservedPages }
    public var isPopulated: Bool { presentPages > 0 }
}

/// An e820 entry, bytes [start, end).
public struct E820Entry: Sendable, Equatable {
    public enum Kind: String, Sendable { case usable, reserved }
    public var start: Int
    public var end: Int
    public var kind: Kind
    public init(start: Int, end: Int, kind: Kind) { self.start = start; self.end = end; self.kind = kind }
    /// `e820__print_table()`: `<who>: [mem %#018Lx-%#018Lx] <type>`.
    public func line(_ who: String) -> String {
        "\(who): [mem \(hex(start, width: 18))-\(hex(end - 1, width: 18))] \(kind.rawValue)"
    }
}

/// An SRAT memory affinity entry, bytes [start, end).
public struct SRATMemory: Sendable, Equatable {
    public var pxm: Int
    /// The Linux node id the PXM maps to (first-seen order, CPU entries first).
    public var node: Int
    public var start: Int
    public var end: Int
    public var hotpluggable: Bool
    /// `acpi_numa_memory_affinity_init()`'s line.
    public var line: String {
        "ACPI: SRAT: Node \(node) PXM \(pxm) [mem \(hex(start, width: 10))-\(hex(end - 1, width: 10))]\(hotpluggable ? " hotplug" : "")"
    }
}

/// Where QEMU put a pc-dimm and whether the guest took it at boot.
public struct DIMMPlacement: Sendable, Equatable {
    public var id: String
    /// QEMU node (PXM) and the Linux node it maps to.
    public var pxm: Int
    public var node: Int
    public var start: Int
    public var sizeBytes: Int
    /// nil when the kernel added it; else why not (e.g. `mem=`).
    public var refusedReason: String?
    public var accepted: Bool { refusedReason == nil }
    public var pfnRange: PFNRange {
        PFNRange(start: start >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift)
    }
    /// Memory block ids the DIMM covers for a given block size.
    public func blocks(blockSize: Int) -> Range<Int> {
        (start / blockSize)..<((start + sizeBytes + blockSize - 1) / blockSize)
    }
}

/// Where QEMU put a virtio-mem device's region.
public struct VirtioMemPlacement: Sendable, Equatable {
    public var id: String
    public var pxm: Int
    public var node: Int
    public var start: Int
    public var regionBytes: Int
    public var blockBytes: Int
}

/// A memblock reservation, pfn range + what it is.
public struct ReservedRange: Sendable, Equatable {
    public enum Fate: Sendable, Equatable {
        /// Stays PageReserved for good (not managed).
        case kept
        /// Reserved at mem_init(), given to the buddy allocator before user space runs
        /// (initmem, initrd, image gaps). Managed after boot.
        case freedLate
        /// Reserved at mem_init() (the `Memory:` line counts it) but freed by start_kernel
        /// itself before the first initcall: the SMP alternatives, which
        /// alternative_instructions() frees ("Freeing SMP alternatives memory: 36K" precedes
        /// hugetlb_init's lines). Managed when the initcalls compute the watermarks.
        case freedBeforeInitcalls
        /// A boot-time gigantic HugeTLB page: managed (adjust_managed_page_count) but in the pool.
        case gigantic
    }
    public var range: PFNRange
    public var label: String
    public var node: Int
    public var fate: Fate
    public init(_ range: PFNRange, _ label: String, node: Int, fate: Fate = .kept) {
        self.range = range; self.label = label; self.node = node; self.fate = fate
    }
}

/// A machine description QEMU (or this model) refuses.
public struct MachineConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What the kernel has allocated from the buddy allocator when user space first looks, in
/// pages per kind (see `BootProfile` for the calibration and how each part scales).
public struct BootAllocations: Sendable, Equatable {
    public var slabReclaimable = 0
    public var slabUnreclaimable = 0
    /// Large kmallocs (`kmallocLarge`): SUnreclaim without PG_slab.
    public var kmallocLarge = 0
    public var kernelStack = 0
    public var pageTables = 0
    /// The unpacked initramfs in rootfs (meminfo Shmem).
    public var shmem = 0
    /// Of `shmem`, the pages on the active anon list (`BootProfile.activeShmemPages`).
    public var activeShmem = 0
    public var anon = 0
    /// Other unmovable kernel memory (vmalloc areas, ftrace, percpu chunks, ...), besides the
    /// areas below.
    public var kernel = 0
    /// The boot's large vmalloc'ed and linear areas whose node the interleave policy picks
    /// (`InterleavedVmalloc`): the alloc_large_system_hash tables (vmalloc'ed with hashdist on
    /// NUMA, linear pages on one node) and the BPF program pack. Order-0 pages per node.
    public var areaPages: [Int: Int] = [:]
    /// Order-9 blocks per node of the tables vmalloc_huge maps with PMDs.
    public var areaHugeBlocks: [Int: Int] = [:]
    /// The kvfree_rcu() page cache (kernel/rcu/tree.c): `rcu_min_cached_objs` pages per CPU,
    /// out of `kernel` (KvfreeRCUCache.swift).
    public var kvfreeRCUCache = 0
    /// GFP_DMA allocations, from ZONE_DMA.
    public var dma = 0
    /// kernel/dma/pool.c dma_atomic_pool_init: three pools (GFP_KERNEL, GFP_DMA, GFP_DMA32)
    /// of one block each, 128 KiB per GiB of totalram at postcore time (at least 128 KiB),
    /// rounded up to a power-of-two order (at most MAX_ORDER-1). -1: none.
    public var atomicPoolOrder = -1
    public var atomicPoolPages: Int { atomicPoolOrder < 0 ? 0 : 1 << atomicPoolOrder }
    /// Free pages sitting on per-cpu lists (not in NR_FREE_PAGES).
    public var pcp = 0
    /// The nodes numa_policy_init() interleaves over (N_MEMORY nodes with at least 16 MiB
    /// present; the largest if none), when there are several; empty: everything on node 0.
    public var interleaveNodes: [Int] = []
    /// Of the kinds above, the pages allocated under that interleave policy (spread evenly
    /// over `interleaveNodes`, the first nodes taking the remainder); the rest is node 0's.
    public var slabUnreclaimableInterleaved = 0
    public var slabReclaimableInterleaved = 0
    public var kernelStackInterleaved = 0
    public var kernelInterleaved = 0
    /// `pages` split over `interleaveNodes` as alloc_pages_bulk_array_interleave does:
    /// [node: pages], node 0 holding the non-interleaved rest.
    public func split(_ pages: Int, interleaved: Int) -> [(node: Int, pages: Int)] {
        let nodes = interleaveNodes
        guard nodes.count > 1 else { return [(0, pages)] }
        let il = min(pages, interleaved)
        var out: [Int: Int] = [0: pages - il]
        let per = il / nodes.count
        var delta = il - per * nodes.count
        for n in nodes {
            out[n, default: 0] += per + (delta > 0 ? 1 : 0)
            if delta > 0 { delta -= 1 }
        }
        return out.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
    /// `perNode` (a `split`) with each node's `areaPages` added, nodes in ascending order.
    public func withAreaPages(_ perNode: [(node: Int, pages: Int)]) -> [(node: Int, pages: Int)] {
        var out = Dictionary(perNode.map { ($0.node, $0.pages) }, uniquingKeysWith: +)
        for (node, pages) in areaPages { out[node, default: 0] += pages }
        return out.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
    /// NUMA events of the boot's allocation calls (`BootProfile.numaBoot*`): numa_hit, of
    /// which numa_interleave and the user pages' calls (`Machine.setBootNumaEvents`).
    public var numaCalls = 0, numaInterleaveHits = 0, numaMovableCalls = 0
    /// memmap of cold-plugged DIMMs the kernel added at boot (512 pages a section), allocated
    /// from their node's kernel zones by the hot-add path, not included in the kinds above.
    public var coldPlugMemmap = 0
    public var unmovableTotal: Int {
        slabReclaimable + slabUnreclaimable + kmallocLarge + kernelStack + pageTables + kernel
            + areaPages.values.reduce(0, +) + areaHugeBlocks.values.reduce(0, +) * Geometry.pageblockPages
    }
    public var movableTotal: Int { shmem + anon }
    public var total: Int { unmovableTotal + movableTotal + dma + 3 * atomicPoolPages }
}

// MARK: - compute

extension BootLayout {
    static let KiB = 1 << 10, MiB = 1 << 20, GiB = 1 << 30
    /// QEMU's default `max-ram-below-4g` and the gigabyte-aligned split for larger guests.
    static let lowmemDefault = 0xe000_0000, lowmemGigabyteAligned = 0xc000_0000
    /// SeaBIOS keeps the top 128 KiB of low RAM for its tables (e820 reserved), and QEMU
    /// loads the initrd right below that (acpi_data_size).
    static let biosHighTable = 0x20000
    static let amdHTStart = 0xfd_0000_0000, amdHTEnd = 0x100_0000_0000, amdAbove1T = 0x100_0000_0000
    static let pciHole64Size = 2 * GiB  // i440fx default, `root bus resource [mem 0x2c0000000-0x33fffffff window]`
    static let dimmAlign = 2 * MiB  // memory-backend-ram alignment on an x86_64 Linux host (THP)
    static let maxSlots = 256  // ACPI_MAX_RAM_SLOTS
    static let minBootBytes = 128 * MiB
    static let dmaPFN = 4096  // MAX_DMA_PFN: 16 MiB
    static let dma32PFN = 1 << 20  // MAX_DMA32_PFN: 4 GiB
    static let maxArchPFN = 0x4_0000_0000  // 1 << (46 - 12)

    /// The boot, stage by stage in boot order (each stage a function in Boot/Layout/ with its
    /// own tests): QEMU's machine, the SRAT, e820, NUMA, zone ranges, memblock reservations,
    /// mem_init's log, DIMMs and virtio-mem, the late frees, the boot allocations.
    public static func compute(_ config: MachineConfig, profile: BootProfile = .debian12QEMU) throws -> BootLayout {
        let qemu = try qemuMachine(config)
        let (srat, pxmToNode) = srat(qemu)
        let e820 = firmwareE820(qemu)
        let params = KernelParameters(
            parsing: config.cmdline, gbpages: config.gbpages, nodeCount: max(pxmToNode.count, 1))
        var log: [String] = []
        let kernel = try kernelE820(
            e820, config: config, params: params, profile: profile, belowFourGBytes: qemu.belowFourGBytes, log: &log)
        let numa = numaMemory(ram: kernel.ram, srat: srat, pxmToNode: pxmToNode, maxPFN: kernel.maxPFN, log: &log)
        let memoryRanges = numa.memoryRanges
        let (arch, movableZone) = archZoneRanges(
            firstPFN: memoryRanges.first?.range.start ?? 0, maxPFN: kernel.maxPFN)
        let zmp = findZoneMovablePFNs(
            params: params, nodes: numa.nodeIDs, ranges: { ranges(ofNode: $0, memoryRanges) },
            span: { span(ofNode: $0, memoryRanges) }, totalPages: memoryRanges.reduce(0) { $0 + $1.range.count },
            usableStart: arch[movableZone]?.start ?? 0, log: &log)
        var nodes = nodeLayouts(
            nodeIDs: numa.nodeIDs, memoryRanges: memoryRanges, arch: arch, movableZone: movableZone,
            movableStart: zmp, params: params)
        let memblock = try memblockReservations(
            config: config, profile: profile, params: params, ram: kernel.ram, numa: numa, nodes: nodes,
            maxPFN: kernel.maxPFN, initrd: kernel.initrd, log: &log)
        chargeReservations(memblock.reserved, to: &nodes)
        let blockSize = Geometry.memoryBlockSize(bootMemEnd: kernel.maxPFN << Geometry.pageShift)
        let available = logMemInit(
            nodes: nodes, numa: numa, arch: arch, reserved: memblock.reserved, config: config, params: params,
            profile: profile, blockSize: blockSize, log: &log)
        let devices = try placeDevices(
            config, qemu: qemu, pxmToNode: pxmToNode, params: params, blockSize: blockSize, log: &log)
        logLateFrees(
            params: params, reserved: memblock.reserved, swiotlb: memblock.swiotlb, initrd: kernel.initrd,
            profile: profile, log: &log)
        let allocations = bootAllocations(
            profile: profile, params: params, numa: numa, nodes: nodes, dimms: devices.dimms, blockSize: blockSize,
            initrd: kernel.initrd)

        return BootLayout(
            config: config, params: params, belowFourGBytes: qemu.belowFourGBytes,
            aboveFourGBytes: qemu.aboveFourGBytes, aboveFourGStart: qemu.aboveFourGStart,
            deviceMemory: qemu.deviceMemory, dimms: devices.dimms, virtioMem: devices.virtioMem,
            e820: e820, e820User: kernel.user, srat: srat, memoryRanges: memoryRanges, maxPFN: kernel.maxPFN,
            maxPossiblePFN: numa.maxPossiblePFN, maxMemSizeBytes: params.memLimitBytes, memoryBlockSize: blockSize,
            archZoneRanges: arch, movableZone: movableZone, nodes: nodes, reserved: memblock.reserved,
            swiotlb: memblock.swiotlb, kernelImage: memblock.kernelImage, bootAllocations: allocations,
            memInitAvailablePages: available, bootLog: log)
    }

    // MARK: First observation

    /// Free pages (NR_FREE_PAGES, without pcp) per zone at the first observation: managed
    /// pages minus the boot allocations, placed as the page allocator places them on one CPU
    /// of node 0: unmovable kinds in the highest kernel zone, movable kinds in ZONE_MOVABLE if
    /// node 0 has one, GFP_DMA in DMA, spilling to lower zones when a zone runs out. The
    /// memmap of cold-plugged DIMMs is charged to their node's highest kernel zone.
    public func bootFreePages() -> [(node: Int, zone: ZoneType, free: Int, pcp: Int)] {
        var free: [Int: [Int]] = [:]
        for n in nodes { free[n.id] = n.zones.map { $0.managedPages - $0.giganticPages } }
        var pcp: [Int: [Int]] = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, [0, 0, 0, 0, 0]) })
        let n0 = nodes.first { !$0.memory.isEmpty }?.id ?? 0
        // `free` and `pcp` have every node's id as a key (built just above), and `take` is only
        // given node ids from `nodes` (n0, which is node 0 at worst, and nodes always include 0;
        // a DIMM's node or n0): the force unwraps below cannot fail.
        func take(_ node: Int, from top: ZoneType, _ pages: Int, toPCP: Bool = false) {
            var left = pages
            for t in ZoneType.allCases.reversed() where t <= top && left > 0 {
                let avail = free[node]![t.rawValue]
                guard zone(node: node, t)?.presentPages ?? 0 > 0 else { continue }
                let c = min(avail, left)
                free[node]![t.rawValue] -= c
                if toPCP { pcp[node]![t.rawValue] += c }
                left -= c
            }
        }
        func highestKernelZone(_ node: Int) -> ZoneType {
            [ZoneType.normal, .dma32, .dma].first { zone(node: node, $0)?.presentPages ?? 0 > 0 } ?? .dma
        }
        let a = bootAllocations
        take(n0, from: .dma, a.dma + a.atomicPoolPages)
        take(n0, from: .dma32, a.atomicPoolPages)
        take(n0, from: highestKernelZone(n0), a.atomicPoolPages)
        take(n0, from: highestKernelZone(n0), a.unmovableTotal)
        let movTop: ZoneType = (zone(node: n0, .movable)?.presentPages ?? 0) > 0 ? .movable : highestKernelZone(n0)
        take(n0, from: movTop, a.movableTotal)
        for d in dimms where d.accepted {
            let selfHosted = params.memmapOnMemory && d.sizeBytes == memoryBlockSize
            if selfHosted { continue }
            let owner = node(d.node).map { $0.memory.isEmpty ? n0 : $0.id } ?? n0
            take(owner, from: highestKernelZone(owner), d.sizeBytes / Geometry.sectionSize * 512)
        }
        take(n0, from: highestKernelZone(n0), a.pcp, toPCP: true)
        // The late frees (free_reserved_area) sit on their zone's per-cpu list, page by page
        // (the SMP alternatives, freed before the initcalls, are taken again by their allocations).
        for r in reserved where r.fate == .freedLate {
            for n in nodes {
                for z in n.zones where z.spannedPages > 0 {
                    let c = n.memory.reduce(0) { $0 + $1.clamped(to: z.span).clamped(to: r.range).count }
                    pcp[n.id]![z.type.rawValue] += c
                    free[n.id]![z.type.rawValue] -= c
                }
            }
        }
        return nodes.flatMap { n in
            ZoneType.allCases.map { t in (n.id, t, free[n.id]![t.rawValue], pcp[n.id]![t.rawValue]) }
        }
    }
}

extension String {
    func leftPadded(_ width: Int, _ pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
