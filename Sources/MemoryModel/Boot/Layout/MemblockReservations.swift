/// Boot stage 6: memblock reservations in the order 6.1 makes them (sizes in `BootProfile`):
/// the first MiB, the kernel image, the initrd, then top-down per node NODE_DATA, direct-map
/// page tables, the sparse memmap, the percpu first chunk, boot gigantic pages, the dentry and
/// inode hashes (one node only), misc allocations and SWIOTLB.
struct MemblockReservations: Sendable, Equatable {
    var reserved: [ReservedRange]
    var kernelImage: PFNRange
    var swiotlb: PFNRange?
}

extension BootLayout {
    static func memblockReservations(
        config: MachineConfig, profile: BootProfile, params: KernelParameters, ram: [PFNRange],
        numa: NUMAMemory, nodes: [NodeLayout], maxPFN: PFN, initrd: PFNRange, log: inout [String]
    ) throws -> MemblockReservations {
        let page = Geometry.pageSize
        let memoryRanges = numa.memoryRanges
        var reserved: [ReservedRange] = []
        var alloc = MemblockTopDown(memory: memoryRanges)
        func reserve(_ r: PFNRange, _ label: String, node: Int = 0, fate: ReservedRange.Fate = .kept) {
            guard !r.isEmpty else { return }
            reserved.append(ReservedRange(r, label, node: node, fate: fate)); alloc.reserve(r)
        }
        func pagesK(_ k: Int) -> Int { (k * KiB + page - 1) / page }
        func nodeOf(_ pfn: PFN) -> Int { memoryRanges.first { $0.range.contains(pfn) }?.node ?? 0 }
        // x86 keeps the whole first MiB (real-mode trampoline, BIOS data, EBDA).
        reserve(PFNRange(start: 0, end: 256), "low 1 MiB (real mode, BIOS, EBDA)")
        // The kernel image at its link address, 16 MiB (nokaslr; with KASLR it moves, see BootLayout).
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
            throw MachineConfigError(
                "boot memory below \(hex(kernelImage.end << 12)) is needed for the kernel image; mem= or -m is too small"
            )
        }
        func topDown(
            _ pages: Int, align: Int = 1, node: Int? = nil, limit: PFN? = nil, _ label: String,
            fate: ReservedRange.Fate = .kept
        ) throws -> PFNRange {
            guard pages > 0 else { return PFNRange(start: 0, end: 0) }
            guard let r = alloc.allocate(pages: pages, align: align, node: node, limit: limit) else {
                throw MachineConfigError("boot memory is too small for \(label) (\(pages) pages)")
            }
            reserve(r, label, node: nodeOf(r.start), fate: fate)
            return r
        }
        try reserveInitrd(initrd, ram: ram, maxPFN: maxPFN, log: &log) { r in
            if let r { reserve(r, "initrd", fate: .freedLate); return r }
            return try topDown(initrd.count, limit: maxPFN, "initrd", fate: .freedLate)
        }
        let memNodes = numa.nodeIDs.filter { !ranges(ofNode: $0, memoryRanges).isEmpty }
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
            + (ramAbove4G
                ? (config.gbpages ? profile.directMapAbove4GPagesGB : profile.directMapAbove4GPages)
                : lowDirectMapPMDPages(maxPFN: maxPFN, gbpages: config.gbpages))
        _ = try topDown(ptPages, "direct map page tables")
        // Sparse memmap: 2 MiB (one PMD) per present section, allocated on the node.
        for n in memNodes {
            let sections = presentSections(ranges(ofNode: n, memoryRanges))
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
                throw MachineConfigError("boot memory is too small for the percpu first chunk")
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
                    reserve(r, "HugeTLB gigantic page", node: nodeOf(r.start), fate: .gigantic)
                    done += 1
                }
            }
            if done < h.count {
                log.append(
                    "HugeTLB: allocating \(h.count) of page size \(hugeSizeName(h.sizeBytes)) failed.  Only allocated \(done) hugepages."
                )
            }
        }
        // Dentry and inode hash tables: memblock on a single node (HASH_EARLY), vmalloc'ed
        // later on NUMA (hashdist: `bootAllocations`).
        if memNodes.count <= 1 {
            let tables = largeSystemHashes(nrKernelPages: nrKernelPages(nodes), possibleCPUs: profile.cpus)
            for t in tables where t.early {
                _ = try topDown(t.pages, "\(t.name) hash table")
            }
        }
        // On a NUMA machine the first node keeps its section root, vmemmap page tables and usemap;
        // a usemap shares a page with the small NUMA_NO_NODE allocations only on the node at the
        // top of memory, so every other node's usemap costs a page (`BootProfile.numaUsemapPages`).
        let isNUMA = memNodes.count > 1
        let firstNodeMisc = isNUMA ? profile.memblockFirstNodeMiscPages : 0
        _ = try topDown(
            firstNodeMisc, node: memNodes.first,
            "memblock misc on the first node (section root, vmemmap page tables, its usemap)")
        let topNode = memoryRanges.max { $0.range.end < $1.range.end }?.node
        for n in memNodes.dropFirst() where n != topNode {
            _ = try topDown(profile.numaUsemapPages, node: n, "usemap of node \(n)")
        }
        _ = try topDown(
            profile.memblockMiscPages - firstNodeMisc + (isNUMA ? profile.numaUsemapPages : 0),
            "memblock misc (mem_section, usemap, e820, ACPI, percpu maps)")
        // SWIOTLB: only when some memory (also SRAT hotplug) may sit above 4 GiB.
        var swiotlb: PFNRange? = nil
        if numa.maxPossiblePFN > dma32PFN {
            swiotlb = try topDown(profile.swiotlbBytes / page, limit: dma32PFN, "SWIOTLB bounce buffer")
            _ = try topDown(profile.swiotlbSlotsPages, "SWIOTLB slot array")
        }
        return MemblockReservations(reserved: reserved, kernelImage: kernelImage, swiotlb: swiotlb)
    }

    /// reserve_initrd(): the initrd stays where QEMU's loader put it when that range is in
    /// mapped RAM; otherwise (`mem=` below the top of low RAM removed it) relocate_initrd()
    /// copies it into a new top-down memblock range below max_pfn_mapped, the old range is
    /// given back, and free_initrd_mem later frees the copy. `place(r)` reserves `r`, or with
    /// nil allocates the copy and returns it.
    static func reserveInitrd(
        _ initrd: PFNRange, ram: [PFNRange], maxPFN: PFN, log: inout [String],
        place: (PFNRange?) throws -> PFNRange
    ) throws {
        guard !initrd.isEmpty else { return }
        let mapped = ram.contains { $0.start <= initrd.start && $0.end >= initrd.end } && initrd.end <= maxPFN
        if mapped { _ = try place(initrd); return }
        let r = try place(nil)
        log.append("Allocated new RAMDISK: [mem \(hex(r.start << 12, width: 10))-\(hex((r.end << 12) - 1, width: 10))]")
        log.append(
            "Move RAMDISK from [mem \(hex(initrd.start << 12, width: 10))-\(hex((initrd.end << 12) - 1, width: 10))] to"
                + " [mem \(hex(r.start << 12, width: 10))-\(hex((r.end << 12) - 1, width: 10))]")
    }

    /// The PMD pages `memory_map_top_down` takes from memblock when all RAM is below 4 GiB.
    /// init_mem_mapping maps the ISA range first (PUD, GiB 0's PMD and a PTE page, from brk),
    /// then the top 2 MiB below `real_end` (its GiB's PMD, brk), a 512 MiB step that stays in
    /// that GiB, and then everything from 1 MiB up in one step: that range holds the brk
    /// pgt_buf, so `can_use_brk_pgt` is false and alloc_low_pages takes each further GiB's PMD
    /// page from memblock, top-down in what is mapped already. Without gbpages that is one page
    /// per GiB between GiB 0 and the top one (3G: one, `alloc_low_pages` from=0x80000000 in a
    /// memblock=debug run of three 1G nodes on 6.1.0-57; 2G and less: none); with gbpages a GiB
    /// the step covers whole is a 1 GiB mapping and needs no PMD page.
    static func lowDirectMapPMDPages(maxPFN: PFN, gbpages: Bool) -> Int {
        guard !gbpages else { return 0 }
        let pmdPages = Geometry.pageblockPages  // 2 MiB in pages
        let realEnd = maxPFN / pmdPages * pmdPages
        guard realEnd > 0 else { return 0 }
        let topGiB = (realEnd - 1) >> (30 - Geometry.pageShift)
        return Swift.max(0, topGiB - 1)
    }

    /// Each zone's share of the reservations (present pages only): kept, freed late
    /// (free_initmem, free_initrd_mem) or boot gigantic pages.
    static func chargeReservations(_ reserved: [ReservedRange], to nodes: inout [NodeLayout]) {
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
