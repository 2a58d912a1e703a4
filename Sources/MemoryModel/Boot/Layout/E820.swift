/// Boot stage 3: the firmware memory map and what the kernel makes of it (arch/x86/kernel/e820.c,
/// setup_arch): `mem=`, page 0 and the legacy hole trimmed, memblock.memory, `max_pfn`, and
/// where QEMU's loader put the initrd.
struct KernelE820: Sendable, Equatable {
    /// The map after `mem=` (printed as `user:`), nil without `mem=`.
    var user: [E820Entry]?
    /// memblock.memory before NUMA: usable RAM in whole pages, page 0 gone, in address order.
    var ram: [PFNRange]
    var maxPFN: PFN
    /// The initrd's pages (empty when the profile has none).
    var initrd: PFNRange
}

/// Boot stage 4: memblock.memory split by node (numa_init over the SRAT, or one faked node).
struct NUMAMemory {
    var memoryRanges: [(range: PFNRange, node: Int)]
    /// `max_possible_pfn`: SRAT hotplug ranges count too.
    var maxPossiblePFN: PFN
    /// Linux node ids with memory or named in the SRAT (and node 0), ascending.
    var nodeIDs: [Int]
}

extension BootLayout {
    /// The e820 map SeaBIOS hands over: low RAM up to the EBDA, the BIOS area, RAM up to the
    /// BIOS's top 128 KiB of low RAM, the flash below 4 GiB, the AMD HT hole, RAM above 4 GiB.
    static func firmwareE820(_ q: QEMUMachine) -> [E820Entry] {
        let below = q.belowFourGBytes
        var e820: [E820Entry] = [
            .init(start: 0, end: 0x9fc00, kind: .usable),
            .init(start: 0x9fc00, end: 0xa0000, kind: .reserved),
            .init(start: 0xf0000, end: 0x100000, kind: .reserved),
            .init(start: 0x100000, end: below - biosHighTable, kind: .usable),
            .init(start: below - biosHighTable, end: below, kind: .reserved),
            .init(start: 0xfffc0000, end: 4 * GiB, kind: .reserved),
            .init(start: amdHTStart, end: amdHTEnd, kind: .reserved)
        ]
        if q.aboveFourGBytes > 0 {
            e820.append(.init(start: q.aboveFourGStart, end: q.aboveFourGStart + q.aboveFourGBytes, kind: .usable))
        }
        e820.sort { $0.start < $1.start }
        return e820
    }

    /// e820__memory_setup, `mem=` (e820: remove), e820__memblock_setup and the initrd's place,
    /// with their boot log lines from `Command line:` to `RAMDISK:`.
    static func kernelE820(
        _ e820: [E820Entry], config: MachineConfig, params: KernelParameters, profile: BootProfile,
        belowFourGBytes below: Int, log: inout [String]
    ) throws -> KernelE820 {
        let page = Geometry.pageSize
        log += ["Command line: \(config.cmdline)", "BIOS-provided physical RAM map:"]
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
        guard let lastRAM = ram.last else {
            throw MachineConfigError("mem=\(params.memLimitBytes ?? 0) leaves no usable memory")
        }
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
        return KernelE820(user: e820User, ram: ram, maxPFN: maxPFN, initrd: initrd)
    }

    /// numa_init: each memblock range's node from the SRAT (hotplug entries only raise
    /// `max_possible_pfn`), or "Faking a node" without one.
    static func numaMemory(
        ram: [PFNRange], srat: [SRATMemory], pxmToNode: [Int: Int], maxPFN: PFN, log: inout [String]
    ) -> NUMAMemory {
        let page = Geometry.pageSize
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
        let nodeIDs = Set(memoryRanges.map(\.node)).union(pxmToNode.values).union([0]).sorted()
        return NUMAMemory(memoryRanges: memoryRanges, maxPossiblePFN: maxPossiblePFN, nodeIDs: nodeIDs)
    }

    /// A node's memblock ranges, in address order.
    static func ranges(ofNode n: Int, _ memoryRanges: [(range: PFNRange, node: Int)]) -> [PFNRange] {
        memoryRanges.filter { $0.node == n }.map(\.range)
    }

    /// A node's span: first range's start to last range's end (empty without memory).
    static func span(ofNode n: Int, _ memoryRanges: [(range: PFNRange, node: Int)]) -> PFNRange {
        let r = ranges(ofNode: n, memoryRanges)
        guard let f = r.first, let l = r.last else { return PFNRange(start: 0, end: 0) }
        return PFNRange(start: f.start, end: l.end)
    }
}
