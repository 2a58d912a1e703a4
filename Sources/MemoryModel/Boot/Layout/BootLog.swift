/// Boot stage 7 and the end of boot: the kernel log lines about memory that follow the
/// reservations (free_area_init's zone ranges, mem_init's `Memory:` line, the memory block
/// size) and the late frees (HugeTLB registration, SWIOTLB, initrd, init sections).
extension BootLayout {
    /// free_area_init's `Zone ranges:` … `Initmem setup` and unavailable-range lines, then
    /// mem_init's `Memory: NK/NK available` (deferred struct page init leaves only the first
    /// section's worth of each node's last zone initialised, and only those pages are free),
    /// SMP alternatives and the memory block size. Returns the `available` pages.
    static func logMemInit(
        nodes: [NodeLayout], numa: NUMAMemory, arch: [ZoneType: PFNRange], reserved: [ReservedRange],
        config: MachineConfig, params: KernelParameters, profile: BootProfile, blockSize: Int, log: inout [String]
    ) -> Int {
        log.append("Zone ranges:")
        for t in ZoneType.allCases where t != .movable {
            let a = arch[t] ?? PFNRange(start: 0, end: 0)
            let name = t.name + String(repeating: " ", count: max(0, 8 - t.name.count))
            log.append(
                a.isEmpty
                    ? "  \(name) empty"
                    : "  \(name) [mem \(hex(a.start << 12, width: 18))-\(hex((a.end << 12) - 1, width: 18))]")
        }
        log.append("Movable zone start for each node")
        for n in numa.nodeIDs {
            if let m = nodes.first(where: { $0.id == n })?.movableStartPFN {
                log.append("  Node \(n): \(hex(m << 12, width: 18))")
            }
        }
        log.append("Early memory node ranges")
        for (r, n) in numa.memoryRanges {
            log.append(
                "  node \(String(n).leftPadded(3)): [mem \(hex(r.start << 12, width: 18))-\(hex((r.end << 12) - 1, width: 18))]"
            )
        }
        for n in nodes where !n.memory.isEmpty {
            log.append(
                "Initmem setup node \(n.id) [mem \(hex(n.span.start << 12, width: 18))-\(hex((n.span.end << 12) - 1, width: 18))]"
            )
        }
        log += unavailableRangeLines(nodes: nodes, ranges: numa.memoryRanges)

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
        log.append("x86/mm: Memory block size: \(blockSize >> 20)MB")
        return available
    }

    /// hugetlb_init's registration lines, SWIOTLB's mapping, and the late frees of the initrd
    /// and the kernel image's init sections.
    static func logLateFrees(
        params: KernelParameters, reserved: [ReservedRange], swiotlb: PFNRange?, initrd: PFNRange,
        profile: BootProfile, log: inout [String]
    ) {
        let page = Geometry.pageSize
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
        if !initrd.isEmpty { log.append("Freeing initrd memory: \(initrd.count * 4)K") }
        log.append("Freeing unused decrypted memory: \(profile.decryptedUnusedK)K")
        log.append("Freeing unused kernel image (initmem) memory: \(profile.initK)K")
        log.append("Freeing unused kernel image (text/rodata gap) memory: \(profile.textRodataGapK)K")
        log.append("Freeing unused kernel image (rodata/data gap) memory: \(profile.rodataDataGapK)K")
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
}
