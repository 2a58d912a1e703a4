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
    public var kernelStack = 0
    public var pageTables = 0
    /// The unpacked initramfs in rootfs (meminfo Shmem).
    public var shmem = 0
    public var anon = 0
    /// Other unmovable kernel memory (vmalloc areas, hash tables, ftrace, percpu chunks).
    public var kernel = 0
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
        return out.keys.sorted().map { ($0, out[$0]!) }
    }
    /// memmap of cold-plugged DIMMs the kernel added at boot (512 pages a section), allocated
    /// from their node's kernel zones by the hot-add path, not included in the kinds above.
    public var coldPlugMemmap = 0
    public var unmovableTotal: Int { slabReclaimable + slabUnreclaimable + kernelStack + pageTables + kernel }
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

    public static func compute(_ config: MachineConfig, profile: BootProfile = .debian12QEMU) throws -> BootLayout {
        let page = Geometry.pageSize
        func fail(_ m: String) -> MachineConfigError { MachineConfigError(m) }

        // ---- Validate what QEMU would refuse (and what this model cannot boot).
        guard config.memBytes > 0 else { throw fail("-m: memory size must be positive (got \(config.memBytes))") }
        guard config.memBytes % page == 0 else {
            throw fail("-m: memory size \(config.memBytes) is not a multiple of the 4 KiB page size")
        }
        guard config.memBytes >= minBootBytes else {
            throw fail(
                "-m: \(config.memBytes >> 20) MiB is too small to boot the Debian 6.1 kernel (model minimum 128 MiB)")
        }
        guard config.slots >= 0 else { throw fail("slots=\(config.slots) must not be negative") }
        guard config.slots <= maxSlots else {
            throw fail("slots=\(config.slots): unsupported amount of memory slots (at most \(maxSlots))")
        }
        guard config.maxmemBytes >= 0 else { throw fail("maxmem=\(config.maxmemBytes) must not be negative") }
        let maxmem = config.maxmemBytes == 0 ? config.memBytes : config.maxmemBytes
        guard maxmem % page == 0 else { throw fail("maxmem=\(maxmem) is not a multiple of the 4 KiB page size") }
        guard maxmem >= config.memBytes else {
            throw fail(
                "invalid value of maxmem: maximum memory size (\(hex(maxmem))) must be at least the initial memory size (\(hex(config.memBytes)))"
            )
        }
        if config.slots > 0 && config.maxmemBytes != 0 && maxmem == config.memBytes {
            throw fail(
                "invalid value of maxmem: memory slots were specified but maximum memory size equals initial memory size (\(hex(maxmem)))"
            )
        }
        let hotplugSpace = maxmem - config.memBytes
        // QEMU turns NUMA on by itself when memory can be hot-plugged (auto_enable_numa_with_memhp/_memdev).
        let numaOn = !config.nodes.isEmpty || config.slots > 0 && config.maxmemBytes != 0 || hotplugSpace > 0
        var nodeMem: [Int] = []
        if config.nodes.isEmpty {
            if numaOn { nodeMem = [config.memBytes] }
        } else {
            let ids = config.nodes.map(\.id)
            guard Set(ids).count == ids.count else {
                throw fail("-numa: node id \(ids.first { id in ids.filter { $0 == id }.count > 1 }!) is given twice")
            }
            for i in 0..<ids.count where !ids.contains(i) {
                throw fail("-numa: node ID missing: \(i) (node ids must be 0..\(ids.count - 1))")
            }
            for n in config.nodes.sorted(by: { $0.id < $1.id }) {
                guard n.memBytes >= 0 else { throw fail("-numa node \(n.id): negative memory size \(n.memBytes)") }
                guard n.memBytes % page == 0 else {
                    throw fail("-numa node \(n.id): memory size \(n.memBytes) is not a multiple of the 4 KiB page size")
                }
                nodeMem.append(n.memBytes)
            }
            let sum = nodeMem.reduce(0, +)
            guard sum == config.memBytes else {
                throw fail("total memory for NUMA nodes (\(hex(sum))) should equal RAM size (\(hex(config.memBytes)))")
            }
        }
        let qemuNodes = nodeMem.count
        if hotplugSpace == 0 && !(config.dimms.isEmpty && config.virtioMem.isEmpty) {
            throw fail("memory devices (pc-dimm, virtio-mem) need maxmem greater than the initial memory size")
        }
        guard config.dimms.count <= config.slots else {
            throw fail("\(config.dimms.count) DIMMs but only \(config.slots) memory slots (no free slots available)")
        }
        var seenIDs = Set<String>()
        for d in config.dimms {
            guard seenIDs.insert(d.id).inserted else { throw fail("device id '\(d.id)' is used twice") }
            guard d.sizeBytes > 0 else { throw fail("DIMM \(d.id): size must be positive (got \(d.sizeBytes))") }
            guard d.sizeBytes % dimmAlign == 0 else {
                throw fail("DIMM \(d.id): backend memory size must be multiple of 0x\(String(dimmAlign, radix: 16))")
            }
            guard d.node >= 0 && d.node < max(qemuNodes, 1) else {
                throw fail(
                    "DIMM \(d.id): property node has value \(d.node) but the machine has \(max(qemuNodes, 1)) NUMA node(s)"
                )
            }
        }
        for v in config.virtioMem {
            guard seenIDs.insert(v.id).inserted else { throw fail("device id '\(v.id)' is used twice") }
            guard v.blockBytes >= dimmAlign, v.blockBytes & (v.blockBytes - 1) == 0 else {
                throw fail("virtio-mem \(v.id): block-size \(v.blockBytes) must be a power of two of at least 2 MiB")
            }
            guard v.regionBytes > 0, v.regionBytes % v.blockBytes == 0 else {
                throw fail(
                    "virtio-mem \(v.id): region size \(v.regionBytes) must be a positive multiple of the block size \(v.blockBytes)"
                )
            }
            guard v.requestedBytes >= 0, v.requestedBytes <= v.regionBytes, v.requestedBytes % v.blockBytes == 0 else {
                throw fail(
                    "virtio-mem \(v.id): requested-size \(v.requestedBytes) must be a multiple of the block size and at most the region size"
                )
            }
            guard v.node >= 0 && v.node < max(qemuNodes, 1) else {
                throw fail("virtio-mem \(v.id): node \(v.node) does not exist")
            }
        }
        let deviceTotal =
            config.dimms.reduce(0) { $0 + $1.sizeBytes } + config.virtioMem.reduce(0) { $0 + $1.regionBytes }
        guard deviceTotal <= hotplugSpace else {
            throw fail(
                "not enough space for memory devices: \(hex(deviceTotal)) requested, maxmem − mem leaves \(hex(hotplugSpace))"
            )
        }

        // ---- QEMU's RAM split and device memory region (hw/i386/pc.c, pc_piix.c).
        let below = config.memBytes >= lowmemDefault ? lowmemGigabyteAligned : config.memBytes
        let above = config.memBytes - below
        let deviceSize = hotplugSpace > 0 ? hotplugSpace + config.slots * GiB : 0
        func layoutEnds(aboveStart: Int) -> (device: Range<Int>?, maxUsed: Int) {
            let ramEnd = aboveStart + above
            if deviceSize > 0 {
                let base = roundUp(above > 0 ? ramEnd : 4 * GiB, GiB)
                return (base..<(base + deviceSize), roundUp(base + deviceSize, GiB) + pciHole64Size - 1)
            }
            return (nil, roundUp(above > 0 ? ramEnd : 4 * GiB, GiB) + pciHole64Size - 1)
        }
        var aboveStart = 4 * GiB
        if layoutEnds(aboveStart: aboveStart).maxUsed >= amdHTStart { aboveStart = amdAbove1T }
        let deviceMemory = layoutEnds(aboveStart: aboveStart).device
        /// RAM offset → guest physical address pieces.
        func ramPieces(_ off: Int, _ len: Int) -> [Range<Int>] {
            var out: [Range<Int>] = []
            let end = off + len
            if off < below { out.append(off..<min(end, below)) }
            if end > below {
                let s = max(off, below); out.append((aboveStart + s - below)..<(aboveStart + end - below))
            }
            return out.filter { !$0.isEmpty }
        }

        // ---- SRAT (build_srat) and the PXM → Linux node map (first seen; CPU 0's PXM 0 first).
        var sratRaw: [(pxm: Int, start: Int, end: Int, hotplug: Bool)] = []
        if qemuNodes > 0 {
            var next = 0
            for (i, m) in nodeMem.enumerated() {
                var base = next, len = m
                next = base + len
                if base <= 0xa0000 && next > 0xa0000 {
                    len -= next - 0xa0000
                    if len > 0 { sratRaw.append((i, base, base + len, false)) }
                    if next <= 0x100000 { next = 0x100000; continue }
                    base = 0x100000; len = next - 0x100000
                }
                if base <= below && next > below {
                    len -= next - below
                    if len > 0 { sratRaw.append((i, base, base + len, false)) }
                    base = aboveStart; len = next - below; next = base + len
                }
                if len > 0 { sratRaw.append((i, base, base + len, false)) }
            }
            if let dm = deviceMemory { sratRaw.append((qemuNodes - 1, dm.lowerBound, dm.upperBound, true)) }
        }
        var pxmToNode: [Int: Int] = [:]
        if qemuNodes > 0 { pxmToNode[0] = 0 }
        for e in sratRaw where pxmToNode[e.pxm] == nil { pxmToNode[e.pxm] = pxmToNode.count }
        let srat = sratRaw.map {
            SRATMemory(pxm: $0.pxm, node: pxmToNode[$0.pxm]!, start: $0.start, end: $0.end, hotpluggable: $0.hotplug)
        }

        // ---- e820 as SeaBIOS reports it, then mem=, then the kernel's own trims.
        var e820: [E820Entry] = [
            .init(start: 0, end: 0x9fc00, kind: .usable),
            .init(start: 0x9fc00, end: 0xa0000, kind: .reserved),
            .init(start: 0xf0000, end: 0x100000, kind: .reserved),
            .init(start: 0x100000, end: below - biosHighTable, kind: .usable),
            .init(start: below - biosHighTable, end: below, kind: .reserved),
            .init(start: 0xfffc0000, end: 4 * GiB, kind: .reserved),
            .init(start: amdHTStart, end: amdHTEnd, kind: .reserved)
        ]
        if above > 0 { e820.append(.init(start: aboveStart, end: aboveStart + above, kind: .usable)) }
        e820.sort { $0.start < $1.start }
        let params = KernelParameters(
            parsing: config.cmdline, gbpages: config.gbpages, nodeCount: max(pxmToNode.count, 1))
        var log: [String] = ["Command line: \(config.cmdline)", "BIOS-provided physical RAM map:"]
        log += e820.map { $0.line("BIOS-e820") }
        var table = e820
        var e820User: [E820Entry]? = nil
        if let limit = params.memLimitBytes {
            log.append("e820: remove [mem \(hex(limit, width: 10))-0xfffffffffffffffe] usable")
            table = table.compactMap { e in
                guard e.kind == .usable, e.end > limit else { return e }
                return e.start >= limit ? nil : E820Entry(start: e.start, end: limit, kind: .usable)
            }
            e820User = table
            log.append("user-defined physical RAM map:")
            log += table.map { $0.line("user") }
        }
        log.append("e820: update [mem 0x00000000-0x00000fff] usable ==> reserved")
        log.append("e820: remove [mem 0x000a0000-0x000fffff] usable")
        // memblock.memory: usable RAM, page 0 gone, partial pages trimmed.
        var ram: [PFNRange] = table.filter { $0.kind == .usable }.compactMap { e in
            let s = max(roundUp(e.start, page), page) >> Geometry.pageShift
            let t = roundDown(e.end, page) >> Geometry.pageShift
            return s < t ? PFNRange(start: s, end: t) : nil
        }
        ram.sort { $0.start < $1.start }
        guard let lastRAM = ram.last else { throw fail("mem=\(params.memLimitBytes ?? 0) leaves no usable memory") }
        let maxPFN = min(lastRAM.end, maxArchPFN)
        log.append("last_pfn = \(hex(maxPFN)) max_arch_pfn = \(hex(maxArchPFN))")
        if maxPFN > dma32PFN {
            let lowEnd = ram.filter { $0.start < dma32PFN }.map { min($0.end, dma32PFN) }.max() ?? 0
            log.append("last_pfn = \(hex(lowEnd)) max_arch_pfn = \(hex(maxArchPFN))")
        }
        // x86_load_linux (QEMU 7.2): a kernel with XLF_CAN_BE_LOADED_ABOVE_4G (every x86_64 6.1)
        // gets initrd_max = UINT32_MAX instead of its header's 2 GiB initrd_addr_max, capped below
        // the top of low RAM minus acpi_data_size: the initrd sits at the top of RAM below 4 GiB
        // (issue 15 item 5: a 3 GiB guest's RAMDISK is near 3 GiB, not 2 GiB).
        let initrdTop = below - biosHighTable
        let initrdPagesN = roundUp(profile.initrdBytes, page) >> Geometry.pageShift
        let initrd = PFNRange(start: (initrdTop >> Geometry.pageShift) - initrdPagesN, count: initrdPagesN)
        if initrdPagesN > 0 {
            log.append("RAMDISK: [mem \(hex(initrd.start << 12, width: 10))-\(hex((initrd.end << 12) - 1, width: 10))]")
        }

        // ---- Which node each memblock range belongs to.
        var memoryRanges: [(range: PFNRange, node: Int)] = []
        var maxPossiblePFN = maxPFN
        if srat.isEmpty {
            memoryRanges = ram.map { ($0, 0) }
            log.append("No NUMA configuration found")
            log.append("Faking a node at [mem \(hex(0, width: 18))-\(hex((maxPFN << 12) - 1, width: 18))]")
        } else {
            log += srat.map(\.line)
            for s in srat {
                maxPossiblePFN = max(maxPossiblePFN, (s.end + page - 1) >> Geometry.pageShift)
                if s.hotpluggable { continue }
                let sr = PFNRange(start: s.start >> Geometry.pageShift, end: s.end >> Geometry.pageShift)
                for r in ram where r.intersects(sr) { memoryRanges.append((r.clamped(to: sr), s.node)) }
            }
            memoryRanges.sort { $0.range.start < $1.range.start }
        }
        let totalPages = memoryRanges.reduce(0) { $0 + $1.range.count }
        let nodeIDs = Set(memoryRanges.map(\.node)).union(pxmToNode.values).union([0]).sorted()
        func nodeRanges(_ n: Int) -> [PFNRange] { memoryRanges.filter { $0.node == n }.map(\.range) }
        func nodeSpan(_ n: Int) -> PFNRange {
            let r = nodeRanges(n)
            guard let f = r.first, let l = r.last else { return PFNRange(start: 0, end: 0) }
            return PFNRange(start: f.start, end: l.end)
        }

        // ---- Zone limits (zone_sizes_init + free_area_init).
        let maxZone: [ZoneType: Int] = [
            .dma: min(dmaPFN, maxPFN), .dma32: min(dma32PFN, maxPFN), .normal: maxPFN, .device: 0
        ]
        var arch: [ZoneType: PFNRange] = [:]
        var running = memoryRanges.first?.range.start ?? 0
        for t in ZoneType.allCases where t != .movable {
            let end = max(maxZone[t]!, running)
            arch[t] = PFNRange(start: running, end: end)
            running = end
        }
        let movableZone = [ZoneType.device, .normal, .dma32, .dma].first { arch[$0]!.end > arch[$0]!.start } ?? .dma
        let zmp = findZoneMovablePFNs(
            params: params, nodes: nodeIDs, ranges: nodeRanges, span: nodeSpan,
            totalPages: totalPages, usableStart: arch[movableZone]!.start, log: &log)

        // ---- Zones per node (zone_spanned_pages_in_node, zone_absent_pages_in_node).
        var nodes: [NodeLayout] = []
        for n in nodeIDs {
            let span = nodeSpan(n)
            let rs = nodeRanges(n)
            var zones: [ZoneLayout] = []
            for t in ZoneType.allCases {
                var z = ZoneLayout(
                    node: n, type: t, startPFN: 0, spannedPages: 0, presentPages: 0,
                    reservedPages: 0, lateFreedPages: 0, giganticPages: 0)
                if !rs.isEmpty {
                    let lo = t == .movable ? 0 : arch[t]!.start, hi = t == .movable ? 0 : arch[t]!.end
                    var zs = min(max(span.start, lo), hi), ze = min(max(span.end, lo), hi)
                    if let m = zmp[n] {
                        if t == .movable {
                            zs = m; ze = min(span.end, arch[movableZone]!.end)
                        } else if !params.kernelcoreMirror && zs < m && ze > m {
                            ze = m
                        } else if zs >= m {
                            zs = ze
                        }
                    }
                    if !(ze < span.start || zs > span.end) {
                        ze = min(ze, span.end); zs = max(zs, span.start)
                        let spanned = max(0, ze - zs)
                        if spanned > 0 {
                            let zr = PFNRange(start: zs, end: ze)
                            var present = rs.reduce(0) { $0 + $1.clamped(to: zr).count }
                            // Nothing is mirrored.
                            if params.kernelcoreMirror && zmp[n] != nil && t == .normal { present = 0 }
                            z.startPFN = zs; z.spannedPages = spanned; z.presentPages = present
                        }
                    }
                }
                zones.append(z)
            }
            nodes.append(
                NodeLayout(
                    id: n, memory: rs, span: span, presentPages: rs.reduce(0) { $0 + $1.count },
                    movableStartPFN: zmp[n], zones: zones))
        }

        // ---- memblock reservations.
        var reserved: [ReservedRange] = []
        var alloc = MemblockTopDown(memory: memoryRanges)
        func reserve(_ r: PFNRange, _ label: String, node: Int = 0, fate: ReservedRange.Fate = .kept) {
            guard !r.isEmpty else { return }
            reserved.append(ReservedRange(r, label, node: node, fate: fate)); alloc.reserve(r)
        }
        func pagesK(_ k: Int) -> Int { (k * KiB + page - 1) / page }
        // x86 keeps the whole first MiB (real-mode trampoline, BIOS data, EBDA).
        reserve(PFNRange(start: 0, end: 256), "low 1 MiB (real mode, BIOS, EBDA)")
        // The kernel image at its link address, 16 MiB (nokaslr; with KASLR it moves, see doc).
        var pfn = 16 * MiB >> Geometry.pageShift
        let textPages = 16 * MiB / page - pagesK(profile.textRodataGapK)  // text padded to 2 MiB
        let imageParts: [(Int, String, ReservedRange.Fate)] = [
            (textPages, "kernel text", .kept),
            (pagesK(profile.textRodataGapK), "kernel image text/rodata gap", .freedLate),
            (pagesK(profile.rodataK), "kernel rodata", .kept),
            (pagesK(profile.rodataDataGapK), "kernel image rodata/data gap", .freedLate),
            (pagesK(profile.rwdataK) + profile.imageUnlistedPages, "kernel rwdata, ORC tables, brk", .kept),
            (pagesK(profile.initK), "kernel initmem", .freedLate),
            (pagesK(profile.smpAlternativesK), "SMP alternatives", .freedBeforeInitcalls),
            (pagesK(profile.bssK) - pagesK(profile.decryptedUnusedK), "kernel bss", .kept),
            (pagesK(profile.decryptedUnusedK), "unused decrypted bss", .freedLate)
        ]
        let imageStart = pfn
        for (count, label, fate) in imageParts {
            reserve(PFNRange(start: pfn, count: count), label, fate: fate); pfn += count
        }
        let kernelImage = PFNRange(start: imageStart, end: pfn)
        guard ram.contains(where: { $0.start <= kernelImage.start && $0.end >= kernelImage.end }) else {
            throw fail(
                "boot memory below \(hex(kernelImage.end << 12)) is needed for the kernel image; mem= or -m is too small"
            )
        }
        if initrdPagesN > 0 { reserve(initrd, "initrd", fate: .freedLate) }
        func topDown(
            _ pages: Int, align: Int = 1, node: Int? = nil, limit: PFN? = nil, _ label: String,
            fate: ReservedRange.Fate = .kept
        ) throws -> PFNRange {
            guard pages > 0 else { return PFNRange(start: 0, end: 0) }
            guard let r = alloc.allocate(pages: pages, align: align, node: node, limit: limit) else {
                throw fail("boot memory is too small for \(label) (\(pages) pages)")
            }
            reserve(r, label, node: memoryRanges.first { $0.range.contains(r.start) }?.node ?? 0, fate: fate)
            return r
        }
        let memNodes = nodeIDs.filter { !nodeRanges($0).isEmpty }
        for n in memNodes {
            let r = try topDown(profile.nodeDataPages, node: n, "NODE_DATA(\(n))")
            log.append(
                "NODE_DATA(\(n)) allocated [mem \(hex(r.start << 12, width: 10))-\(hex((r.end << 12) - 1, width: 10))]")
        }
        // Direct-map page tables: a PMD page per GiB with 2 MiB mappings, none with 1 GiB pages.
        // init_mem_mapping's alloc_low_pages takes page tables from the 12-page brk pgt_buf
        // first (CONFIG_RANDOMIZE_MEMORY: 4 × 3), which covers RAM below 4 GiB; memblock pages
        // at the top of memory only with RAM above 4 GiB. See `BootProfile.directMap*`.
        let ramAbove4G = maxPFN > dma32PFN
        let ptPages =
            profile.directMapBasePages
            + (ramAbove4G ? (config.gbpages ? profile.directMapAbove4GPagesGB : profile.directMapAbove4GPages) : 0)
        _ = try topDown(ptPages, "direct map page tables")
        // Sparse memmap: 2 MiB (one PMD) per present section, allocated on the node.
        for n in memNodes {
            let sections = presentSections(nodeRanges(n))
            _ = try topDown(
                sections * (Geometry.pagesPerSection * Geometry.structPageSize / page),
                align: Geometry.pageblockPages, node: n, "memmap (sparse vmemmap) node \(n)")
        }
        // percpu first chunk: a 2 MiB unit per CPU, the unused tail given back at once.
        // (the whole unit must fit first, so it never lands in a small gap).
        for _ in 0..<profile.cpus {
            guard
                let unit = alloc.allocate(
                    pages: Geometry.pageblockPages, align: Geometry.pageblockPages, node: memNodes.first, limit: nil)
            else {
                throw fail("boot memory is too small for the percpu first chunk")
            }
            alloc.release(unit)
            reserve(
                PFNRange(start: unit.start, count: profile.percpuPagesPerCPU), "percpu first chunk",
                node: memNodes.first ?? 0)
        }
        // Boot-time gigantic pages (hugepages= after hugepagesz=1G): memblock, 1 GiB aligned.
        for h in params.hugepages where h.isGigantic && h.count > 0 {
            let hp = h.sizeBytes >> Geometry.pageShift
            var done = 0
            let plan: [(Int?, Int)] =
                h.perNode.isEmpty ? [(nil, h.count)] : h.perNode.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            var rr = 0
            for i in plan.indices {
                for _ in 0..<plan[i].1 {
                    var node = plan[i].0
                    if node == nil && !memNodes.isEmpty { node = memNodes[rr % memNodes.count]; rr += 1 }
                    guard
                        let r = alloc.allocate(pages: hp, align: hp, node: node, limit: nil)
                            ?? (plan[i].0 == nil ? alloc.allocate(pages: hp, align: hp, node: nil, limit: nil) : nil)
                    else { break }
                    reserve(
                        r, "HugeTLB gigantic page", node: memoryRanges.first { $0.range.contains(r.start) }?.node ?? 0,
                        fate: .gigantic)
                    done += 1
                }
            }
            if done < h.count {
                log.append(
                    "HugeTLB: allocating \(h.count) of page size \(hugeSizeName(h.sizeBytes)) failed.  Only allocated \(done) hugepages."
                )
            }
        }
        // Dentry and inode hash tables: memblock on a single node, vmalloc'ed later on NUMA (hashdist).
        let kernelPagesEstimate = nodes.flatMap(\.zones).reduce(0) { acc, z in
            acc + max(0, z.presentPages - (z.spannedPages * Geometry.structPageSize + page - 1) / page)
        }
        let dentryHash = largeSystemHashBytes(
            entriesFromPages: kernelPagesEstimate, scale: 13, bucket: 8, allPages: totalPages)
        let inodeHash = largeSystemHashBytes(
            entriesFromPages: kernelPagesEstimate, scale: 14, bucket: 8, allPages: totalPages)
        let hashPages = (dentryHash.bytes + inodeHash.bytes) / page
        if memNodes.count <= 1 {
            _ = try topDown(dentryHash.bytes / page, "dentry cache hash table")
            _ = try topDown(inodeHash.bytes / page, "inode cache hash table")
        }
        // On a NUMA machine the first node keeps its section root, vmemmap page tables and usemap;
        // a usemap shares a page with the small NUMA_NO_NODE allocations only on the node at the
        // top of memory, so every other node's usemap costs a page (`BootProfile.numaUsemapPages`).
        let numa = memNodes.count > 1
        let firstNodeMisc = numa ? profile.memblockFirstNodeMiscPages : 0
        _ = try topDown(
            firstNodeMisc, node: memNodes.first,
            "memblock misc on the first node (section root, vmemmap page tables, its usemap)")
        let topNode = memoryRanges.max { $0.range.end < $1.range.end }?.node
        for n in memNodes.dropFirst() where n != topNode {
            _ = try topDown(profile.numaUsemapPages, node: n, "usemap of node \(n)")
        }
        _ = try topDown(
            profile.memblockMiscPages - firstNodeMisc + (numa ? profile.numaUsemapPages : 0),
            "memblock misc (mem_section, usemap, e820, ACPI, percpu maps)")
        // SWIOTLB: only when some memory (also SRAT hotplug) may sit above 4 GiB.
        var swiotlb: PFNRange? = nil
        if maxPossiblePFN > dma32PFN {
            swiotlb = try topDown(profile.swiotlbBytes / page, limit: dma32PFN, "SWIOTLB bounce buffer")
            _ = try topDown(profile.swiotlbSlotsPages, "SWIOTLB slot array")
        }

        // ---- Reservations per zone (present pages only).
        for ni in nodes.indices {
            for zi in nodes[ni].zones.indices where nodes[ni].zones[zi].spannedPages > 0 {
                let zr = nodes[ni].zones[zi].span
                for r in reserved where r.range.intersects(zr) {
                    let c = nodes[ni].memory.reduce(0) { $0 + $1.clamped(to: zr).clamped(to: r.range).count }
                    switch r.fate {
                    case .kept: nodes[ni].zones[zi].reservedPages += c
                    case .freedLate, .freedBeforeInitcalls: nodes[ni].zones[zi].lateFreedPages += c
                    case .gigantic: nodes[ni].zones[zi].giganticPages += c
                    }
                }
            }
        }

        // ---- Zone lines, movable starts, node ranges, holes.
        log.append("Zone ranges:")
        for t in ZoneType.allCases where t != .movable {
            let a = arch[t]!
            let name = t.name + String(repeating: " ", count: max(0, 8 - t.name.count))
            log.append(
                a.isEmpty
                    ? "  \(name) empty"
                    : "  \(name) [mem \(hex(a.start << 12, width: 18))-\(hex((a.end << 12) - 1, width: 18))]")
        }
        log.append("Movable zone start for each node")
        for n in nodeIDs { if let m = zmp[n] { log.append("  Node \(n): \(hex(m << 12, width: 18))") } }
        log.append("Early memory node ranges")
        for (r, n) in memoryRanges {
            log.append(
                "  node \(String(n).leftPadded(3)): [mem \(hex(r.start << 12, width: 18))-\(hex((r.end << 12) - 1, width: 18))]"
            )
        }
        for n in nodes where !n.memory.isEmpty {
            log.append(
                "Initmem setup node \(n.id) [mem \(hex(n.span.start << 12, width: 18))-\(hex((n.span.end << 12) - 1, width: 18))]"
            )
        }
        log += unavailableRangeLines(nodes: nodes, ranges: memoryRanges)

        // ---- `Memory:` line: deferred struct page init leaves only the first section's worth of
        // each node's last zone initialised, and only those pages are free at mem_init().
        let physPages = nodes.reduce(0) { $0 + $1.presentPages }
        let reservedAtInit = nodes.flatMap(\.zones).reduce(0) {
            $0 + $1.reservedPages + $1.lateFreedPages + $1.giganticPages
        }
        var available = 0
        for n in nodes where !n.memory.isEmpty {
            let deferFrom = firstDeferredPFN(node: n)
            for r in n.memory {
                let initR = r.clamped(to: PFNRange(start: 0, end: deferFrom))
                guard !initR.isEmpty else { continue }
                available += initR.count
                for rv in reserved { available -= initR.clamped(to: rv.range).count }
            }
        }
        available = max(0, available - profile.vmallocPreallocPages)
        log.append("Kernel command line: \(config.cmdline)")
        log += params.messages
        log.append(
            "Memory: \(available * 4)K/\(physPages * 4)K available (\(profile.codeK)K kernel code, \(profile.rwdataK)K rwdata, \(profile.rodataK)K rodata, \(profile.initK)K init, \(profile.bssK)K bss, \((reservedAtInit) * 4)K reserved, 0K cma-reserved)"
        )
        log.append("Freeing SMP alternatives memory: \(profile.smpAlternativesK)K")
        let blockSize = Geometry.memoryBlockSize(bootMemEnd: maxPFN << Geometry.pageShift)
        log.append("x86/mm: Memory block size: \(blockSize >> 20)MB")

        // ---- DIMMs and virtio-mem in the device memory region (first fit, back to back).
        var dimms: [DIMMPlacement] = []
        var virtio: [VirtioMemPlacement] = []
        if let dm = deviceMemory {
            var used: [Range<Int>] = []
            func place(_ size: Int, align: Int) -> Int? {
                var addr = roundUp(dm.lowerBound, align)
                for u in used.sorted(by: { $0.lowerBound < $1.lowerBound })
                where addr + size > u.lowerBound && addr < u.upperBound {
                    addr = roundUp(u.upperBound, align)
                }
                return addr + size <= dm.upperBound ? addr : nil
            }
            let lastNode = pxmToNode[qemuNodes - 1] ?? 0
            for d in config.dimms {
                guard let a = place(d.sizeBytes, align: dimmAlign) else {
                    throw fail(
                        "DIMM \(d.id): no free range of \(hex(d.sizeBytes)) in the device memory region \(hex(dm.lowerBound))-\(hex(dm.upperBound - 1))"
                    )
                }
                used.append(a..<(a + d.sizeBytes))
                var why: String? = nil
                if let limit = params.memLimitBytes, a + d.sizeBytes > limit {
                    why = "mem= restriction: add_memory() refuses memory above max_mem_size while booting (-E2BIG)"
                } else if a % Geometry.sectionSize != 0 || d.sizeBytes % blockSize != 0 {
                    why = "not aligned to the memory block size (\(blockSize >> 20) MiB): add_memory() -EINVAL"
                }
                dimms.append(
                    DIMMPlacement(
                        id: d.id, pxm: d.node, node: pxmToNode[d.node] ?? lastNode, start: a,
                        sizeBytes: d.sizeBytes, refusedReason: why))
            }
            for v in config.virtioMem {
                let align = max(v.blockBytes, dimmAlign)
                guard let a = place(v.regionBytes, align: align) else {
                    throw fail("virtio-mem \(v.id): no free range of \(hex(v.regionBytes)) in the device memory region")
                }
                used.append(a..<(a + v.regionBytes))
                virtio.append(
                    VirtioMemPlacement(
                        id: v.id, pxm: v.node, node: pxmToNode[v.node] ?? lastNode, start: a,
                        regionBytes: v.regionBytes, blockBytes: v.blockBytes))
            }
        }
        for (i, d) in dimms.enumerated() where !d.accepted && d.refusedReason!.hasPrefix("mem=") {
            log.append("acpi PNP0C80:\(String(i, radix: 16).leftPadded(2, "0")): add_memory failed")
        }

        // ---- HugeTLB registration lines and the late frees.
        for h in params.hugepages {
            let allocated =
                h.isGigantic
                ? reserved.filter { $0.fate == .gigantic && $0.range.count == h.sizeBytes >> 12 }.count : h.count
            log.append("HugeTLB: registered \(hugeSizeName(h.sizeBytes)) page size, pre-allocated \(allocated) pages")
            let freeable = (h.sizeBytes / page * Geometry.structPageSize / page - 1) * page / KiB
            log.append("HugeTLB: \(freeable) KiB vmemmap can be freed for a \(hugeSizeName(h.sizeBytes)) page")
        }
        if let s = swiotlb {
            log.append(
                "software IO TLB: mapped [mem \(hex(s.start << 12, width: 18))-\(hex(s.end << 12, width: 18))] (\(profile.swiotlbBytes >> 20)MB)"
            )
        }
        if initrdPagesN > 0 { log.append("Freeing initrd memory: \(initrdPagesN * 4)K") }
        log.append("Freeing unused decrypted memory: \(profile.decryptedUnusedK)K")
        log.append("Freeing unused kernel image (initmem) memory: \(profile.initK)K")
        log.append("Freeing unused kernel image (text/rodata gap) memory: \(profile.textRodataGapK)K")
        log.append("Freeing unused kernel image (rodata/data gap) memory: \(profile.rodataDataGapK)K")

        // ---- What the kernel allocates from the buddy before user space looks.
        var ba = BootAllocations()
        let blocks =
            nodes.reduce(0) { $0 + presentBlocks($1.memory, blockSize: blockSize) }
            + dimms.filter(\.accepted).reduce(0) { $0 + $1.sizeBytes / blockSize }
        let extraNodes = max(0, memNodes.count - 1)
        let gib = (totalPages << Geometry.pageShift) / GiB
        ba.slabReclaimable = profile.slabReclaimablePages
        ba.slabUnreclaimable =
            profile.slabUnreclaimablePages + blocks * profile.slabPagesPerTwoBlocks / 2 + extraNodes
            * profile.slabPagesPerNode
        ba.kernelStack = profile.kernelStackPages + extraNodes * profile.stackPagesPerNode
        ba.pageTables = profile.pageTablePages
        ba.anon = profile.anonPages
        ba.shmem = Int((Double(initrdPagesN) * profile.shmemPerInitrdPage).rounded())
        ba.kernel =
            profile.otherKernelPages + min(profile.hashPagesCap, max(0, gib - 1) * profile.hashPagesPerGiB)
            + (memNodes.count > 1 ? hashPages + profile.multiNodeOtherKernelPages : 0)
        // numa_policy_init(): interleave over N_MEMORY nodes of at least 16 MiB (else the largest).
        if memNodes.count > 1 {
            let present = memNodes.map { n in (n, nodeRanges(n).reduce(0) { $0 + $1.count }) }
            var il = present.filter { $0.1 << Geometry.pageShift >= 16 * MiB }.map(\.0)
            if il.isEmpty, let largest = present.max(by: { $0.1 < $1.1 }) { il = [largest.0] }
            ba.interleaveNodes = il
            ba.slabUnreclaimableInterleaved = profile.interleavedSlabUnreclaimablePages
            ba.slabReclaimableInterleaved = profile.interleavedSlabReclaimablePages
            ba.kernelStackInterleaved = profile.interleavedKernelStackPages
            ba.kernelInterleaved = profile.interleavedOtherKernelPages
        }
        ba.dma = profile.dmaZonePages
        // totalram_pages() when dma_atomic_pool_init runs: what memblock_free_all and the
        // deferred init gave the buddy allocator (the init sections, the initrd and boot
        // gigantic pages come later).
        let totalramAtPostcore = nodes.flatMap(\.zones).reduce(0) {
            $0 + $1.presentPages - $1.reservedPages - $1.lateFreedPages - $1.giganticPages
        }
        let poolBytes = max(
            min(totalramAtPostcore / (GiB / (128 * KiB)), Geometry.maxOrderPages) << Geometry.pageShift, 128 * KiB)
        var poolOrder = 0
        while (page << poolOrder) < poolBytes { poolOrder += 1 }
        ba.atomicPoolOrder = min(poolOrder, Geometry.maxOrder - 1)
        ba.pcp = profile.pcpPages
        for d in dimms where d.accepted {
            let selfHosted = params.memmapOnMemory && d.sizeBytes == blockSize
            if !selfHosted {
                ba.coldPlugMemmap +=
                    d.sizeBytes / Geometry.sectionSize * (Geometry.pagesPerSection * Geometry.structPageSize / page)
            }
        }

        return BootLayout(
            config: config, params: params, belowFourGBytes: below, aboveFourGBytes: above,
            aboveFourGStart: aboveStart, deviceMemory: deviceMemory, dimms: dimms, virtioMem: virtio,
            e820: e820, e820User: e820User, srat: srat, memoryRanges: memoryRanges, maxPFN: maxPFN,
            maxPossiblePFN: maxPossiblePFN, maxMemSizeBytes: params.memLimitBytes, memoryBlockSize: blockSize,
            archZoneRanges: arch, movableZone: movableZone, nodes: nodes, reserved: reserved,
            swiotlb: swiotlb, kernelImage: kernelImage, bootAllocations: ba,
            memInitAvailablePages: available, bootLog: log)
    }

    /// find_zone_movable_pfns_for_nodes(): where ZONE_MOVABLE starts on each node.
    static func findZoneMovablePFNs(
        params: KernelParameters, nodes: [Int], ranges: (Int) -> [PFNRange], span: (Int) -> PFNRange,
        totalPages: Int, usableStart: PFN, log: inout [String]
    ) -> [Int: PFN] {
        var zmp: [Int: PFN] = [:]
        let memNodes = nodes.filter { !ranges($0).isEmpty }
        func finish() -> [Int: PFN] {
            var out: [Int: PFN] = [:]
            for (n, v) in zmp where v != 0 {
                let r = roundUp(v, Geometry.maxOrderPages)
                if r < span(n).end { out[n] = r }
            }
            return out
        }
        if params.movableNode {
            // Only memblock regions flagged hotpluggable count; QEMU's SRAT never marks boot RAM so.
            return finish()
        }
        if params.kernelcoreMirror {
            var below4G = false
            for n in memNodes {
                for r in ranges(n) {
                    if r.start < dma32PFN { below4G = true; continue }
                    zmp[n] = zmp[n].map { min($0, r.start) } ?? r.start
                }
            }
            if below4G { log.append("This configuration results in unmirrored kernel memory.") }
            return finish()
        }
        var required = 0, requiredMovable = 0
        switch params.kernelcore {
        case .pages(let p): required = p;
        case .percent(let p): required = totalPages * 100 * p / 10000;
        case nil: break
        }
        switch params.movablecore {
        case .pages(let p): requiredMovable = p;
        case .percent(let p): requiredMovable = totalPages * 100 * p / 10000;
        case nil: break
        }
        if requiredMovable > 0 {
            requiredMovable = min(totalPages, roundUp(requiredMovable, Geometry.maxOrderPages))
            required = max(required, totalPages - requiredMovable)
        }
        if required == 0 || required >= totalPages { return [:] }
        var usableNodes = memNodes.count
        repeat {
            var kernelcoreNode = required / usableNodes
            for n in memNodes {
                if required < kernelcoreNode { kernelcoreNode = required / usableNodes }
                var remaining = kernelcoreNode
                for r in ranges(n) {
                    var start = max(r.start, zmp[n] ?? 0)
                    let end = r.end
                    if start >= end { continue }
                    if start < usableStart {
                        let kernelPages = min(end, usableStart) - start
                        remaining -= min(kernelPages, remaining)
                        required -= min(kernelPages, required)
                        if end <= usableStart { zmp[n] = end; continue }
                        start = usableStart
                    }
                    let size = min(end - start, remaining)
                    zmp[n] = start + size
                    required -= min(required, size)
                    remaining -= size
                    if remaining == 0 { break }
                }
            }
            usableNodes -= 1
        } while usableNodes > 0 && required > usableNodes
        return finish()
    }

    /// Sections that hold any of `ranges` (sparse_init's present sections).
    static func presentSections(_ ranges: [PFNRange]) -> Int {
        var count = 0, last = -1
        for r in ranges.sorted(by: { $0.start < $1.start }) where !r.isEmpty {
            let first = max(r.start / Geometry.pagesPerSection, last + 1)
            let end = (r.end - 1) / Geometry.pagesPerSection
            if end >= first { count += end - first + 1; last = end }
        }
        return count
    }

    /// Memory blocks with present memory (the boot `memoryN` directories).
    static func presentBlocks(_ ranges: [PFNRange], blockSize: Int) -> Int {
        let perBlock = blockSize >> Geometry.pageShift
        var count = 0, last = -1
        for r in ranges.sorted(by: { $0.start < $1.start }) where !r.isEmpty {
            let first = max(r.start / perBlock, last + 1)
            let end = (r.end - 1) / perBlock
            if end >= first { count += end - first + 1; last = end }
        }
        return count
    }

    /// alloc_large_system_hash() without an explicit entry count.
    static func largeSystemHashBytes(entriesFromPages pages: Int, scale: Int, bucket: Int, allPages: Int) -> (
        entries: Int, bytes: Int
    ) {
        var n = roundUp(max(pages, 1), MiB / Geometry.pageSize)
        n = scale > Geometry.pageShift ? n >> (scale - Geometry.pageShift) : n << (Geometry.pageShift - scale)
        if n * bucket < Geometry.pageSize { n = Geometry.pageSize / bucket }
        var p = 1; while p < n { p <<= 1 }
        let maxEntries = min(((allPages << Geometry.pageShift) >> 4) / bucket, 0x8000_0000)
        n = min(p, maxEntries)
        var e = 1; while e * 2 <= n { e *= 2 }
        return (e, max(e * bucket, Geometry.pageSize))
    }

    /// defer_init(): in a node's last zone only the pages up to the first section boundary
    /// past one section's worth are initialised early.
    static func firstDeferredPFN(node: NodeLayout) -> PFN {
        guard let last = node.zones.last(where: { $0.spannedPages > 0 && $0.span.end >= node.span.end }) else {
            return node.span.end
        }
        var counted = 0
        for r in node.memory {
            let piece = r.clamped(to: last.span)
            if piece.isEmpty { continue }
            let p = roundUp(
                max(piece.start, piece.start + Geometry.pagesPerSection - counted), Geometry.pagesPerSection)
            if p < piece.end { return p }
            counted += piece.count
        }
        return node.span.end
    }

    /// memmap_init()'s "On node N, zone Z: M pages in unavailable ranges" for holes inside
    /// present sections.
    static func unavailableRangeLines(nodes: [NodeLayout], ranges: [(range: PFNRange, node: Int)]) -> [String] {
        var lines: [String] = []
        var sections: [PFNRange] = []
        for (r, _) in ranges {
            let s = PFNRange(
                start: roundDown(r.start, Geometry.pagesPerSection), end: roundUp(r.end, Geometry.pagesPerSection))
            if let l = sections.last, l.end >= s.start {
                sections[sections.count - 1].end = max(l.end, s.end)
            } else {
                sections.append(s)
            }
        }
        func validPages(_ h: PFNRange) -> Int { sections.reduce(0) { $0 + $1.clamped(to: h).count } }
        var hole = 0
        var lastZone = ZoneType.dma, lastNode = 0
        for (r, n) in ranges {
            guard let node = nodes.first(where: { $0.id == n }) else { continue }
            for z in node.zones where z.presentPages > 0 {
                let piece = r.clamped(to: z.span)
                lastZone = z.type; lastNode = n
                if piece.isEmpty { continue }
                if hole < piece.start {
                    let c = validPages(PFNRange(start: hole, end: piece.start))
                    if c > 0 { lines.append("On node \(n), zone \(z.type.name): \(c) pages in unavailable ranges") }
                }
                hole = piece.end
            }
        }
        if let last = ranges.last {
            let end = roundUp(last.range.end, Geometry.pagesPerSection)
            if hole < end {
                let c = validPages(PFNRange(start: hole, end: end))
                if c > 0 {
                    lines.append("On node \(lastNode), zone \(lastZone.name): \(c) pages in unavailable ranges")
                }
            }
        }
        return lines
    }

    static func hugeSizeName(_ bytes: Int) -> String {
        bytes >= GiB ? "\(bytes / GiB).00 GiB" : "\(bytes / MiB).00 MiB"
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

/// A small top-down memblock allocator over the free parts of memblock.memory.
struct MemblockTopDown {
    var memory: [(range: PFNRange, node: Int)]
    var taken: [PFNRange] = []
    init(memory: [(range: PFNRange, node: Int)]) { self.memory = memory }
    mutating func reserve(_ r: PFNRange) { taken.append(r) }
    mutating func release(_ r: PFNRange) { taken.removeAll { $0 == r } }
    /// Highest `pages`-sized, `align`-aligned free range on `node` (any node if nil) below `limit`.
    mutating func allocate(pages: Int, align: Int, node: Int?, limit: PFN?) -> PFNRange? {
        let sortedTaken = taken.sorted { $0.start > $1.start }
        for m in memory.reversed() where node == nil || m.node == node {
            var top = min(m.range.end, limit ?? Int.max)
            while top > m.range.start {
                let start = roundDown(top - pages, align)
                if start < m.range.start { break }
                let cand = PFNRange(start: start, count: pages)
                if let clash = sortedTaken.first(where: { $0.intersects(cand) }) {
                    top = clash.start
                    continue
                }
                taken.append(cand)
                return cand
            }
        }
        return nil
    }
}

extension String {
    func leftPadded(_ width: Int, _ pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
