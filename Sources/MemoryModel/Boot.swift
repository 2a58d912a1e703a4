/// Booting a machine: the layout QEMU and early boot produce, boot memory handed to the
/// zones, watermarks, the kernel's own early allocations, and the memory block devices.
extension Machine {
    /// Boot Linux 6.1 on the machine `config` describes. Throws `MachineConfigError` for a
    /// machine QEMU would refuse.
    public static func boot(_ config: MachineConfig) throws -> Machine {
        let layout = try BootLayout.compute(config)
        let pfnCount = Swift.max(layout.maxPossiblePFN, layout.maxPFN) + 1
        let m = Machine(config: config, params: layout.params, pfnCount: roundUp(pfnCount, Geometry.pagesPerSection),
                        nodeIDs: layout.nodes.map(\.id))
        m.layout = layout
        m.blockPages = layout.memoryBlockSize >> Geometry.pageShift
        var spans: [BootZoneSpan] = []
        for node in layout.nodes {
            for z in node.zones where z.spannedPages > 0 {
                spans.append(BootZoneSpan(node: node.id, type: z.type, span: z.span))
            }
        }
        m.setUpBootMemory(zoneSpans: spans, present: layout.memoryRanges, reserved: layout.reserved.map(\.range))
        m.buildZonelists()
        // Watermarks and THP's min_free_kbytes are set by initcalls, before the kernel frees
        // its init sections and the initrd: those pages are not yet managed then.
        m.initPerZoneWmarkMin()
        for r in layout.reserved where r.fate == .freedLate { m.freeReservedRange(r.range) }
        m.allocateBootMemory(layout.bootAllocations)
        m.createBootMemoryBlocks()
        m.kmsg = layout.bootLog
        return m
    }

    /// What the kernel itself holds when user space first looks (calibrated in BootProfile):
    /// allocated through the buddy allocator like the real early allocations, so they land
    /// where the kernel's do — unmovable pageblocks at the top of the highest kernel zone.
    func allocateBootMemory(_ a: BootAllocations) {
        let parts: [(String, PageKind, Int, GFP?)] = [
            ("kernel:slab_unreclaimable", .slabUnreclaimable, a.slabUnreclaimable, nil),
            ("kernel:page_tables", .pageTable, a.pageTables, nil),
            ("kernel:stacks", .kernelStack, a.kernelStack, nil),
            ("kernel:other", .kernel, a.kernel, nil),
            ("kernel:dma", .kernel, a.dma, [.kernel, .dma]),
            ("kernel:slab_reclaimable", .slabReclaimable, a.slabReclaimable, nil),
            ("rootfs:initramfs", .shmem, a.shmem, nil),
            ("init:anon", .anon, a.anon, nil),
        ]
        for (name, kind, pages, gfp) in parts where pages > 0 {
            guard let id = try? createOwner(name: name, kind: kind, node: 0, gfp: gfp) else { continue }
            allocate(owner: id, blocks: pages)
        }
        // Pages freed late in boot sit on the per-cpu lists when user space starts.
        if a.pcp > 0, let id = try? createOwner(name: "boot:transient", kind: .kernel) {
            allocate(owner: id, blocks: a.pcp)
            destroyOwner(id)
        }
    }

    /// `memory_dev_init`: a block device for every block with present memory. An online boot
    /// block remembers its zone when exactly one populated zone of its node intersects it.
    func createBootMemoryBlocks() {
        guard let layout else { return }
        var blockNodes: [Int: Set<Int>] = [:]
        for (range, node) in layout.memoryRanges {
            var b = range.start / blockPages
            while b * blockPages < range.end { blockNodes[b, default: []].insert(node); b += 1 }
        }
        for (id, nodeSet) in blockNodes {
            let range = PFNRange(start: id * blockPages, count: blockPages)
            var zone: ZoneType?
            if nodeSet.count == 1, let node = nodeSet.first {
                let hits = ZoneType.allCases.filter { zones[zoneIndex(node: node, type: $0)].isPopulated
                    && zones[zoneIndex(node: node, type: $0)].intersects(range) }
                zone = hits.count == 1 ? hits[0] : nil
            }
            var block = MemoryBlock(id: id, startPFN: range.start, pages: blockPages, state: .online, zone: zone,
                                    node: nodeSet.min() ?? 0, isBoot: true)
            block.onlineType = .online
            blocks[id] = block
        }
    }
}
