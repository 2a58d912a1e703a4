/// Booting a machine: the layout QEMU and early boot produce, boot memory handed to the
/// zones, watermarks, the kernel's own early allocations, and the memory block devices.
extension Machine {
    /// Boot Linux 6.1 on the machine `config` describes. Throws `MachineConfigError` for a
    /// machine QEMU would refuse.
    public static func boot(_ config: MachineConfig) throws -> Machine {
        let layout = try BootLayout.compute(config)
        let pfnCount = Swift.max(layout.maxPossiblePFN, layout.maxPFN) + 1
        let m = Machine(
            config: config, params: layout.params, pfnCount: roundUp(pfnCount, Geometry.pagesPerSection),
            nodeIDs: layout.nodes.map(\.id))
        m.layout = layout
        m.kswapdStarted = false
        m.blockPages = layout.memoryBlockSize >> Geometry.pageShift
        var spans: [BootZoneSpan] = []
        for node in layout.nodes {
            for z in node.zones where z.spannedPages > 0 {
                spans.append(BootZoneSpan(node: node.id, type: z.type, span: z.span))
            }
        }
        m.setUpBootMemory(zoneSpans: spans, present: layout.memoryRanges, reserved: layout.reserved.map(\.range))
        m.buildZonelists()
        // start_kernel frees the SMP alternatives (check_bugs → alternative_instructions) before
        // any initcall runs.
        for r in layout.reserved where r.fate == .freedBeforeInitcalls { m.freeReservedPages(r.range) }
        // Watermarks and THP's min_free_kbytes are set by initcalls, before the kernel frees
        // its init sections and the initrd: those pages are not yet managed then.
        m.initPerZoneWmarkMin()
        // The initcalls allocate (slab, DMA pools) before the initrd and the init sections
        // are freed; the unpacked initramfs and init's own pages come after the DIMMs.
        m.allocateBootMemory(layout.bootAllocations, phase: .initcalls)
        m.registerBootMemoryBlocks()
        // hugetlb_init (a subsys_initcall) prints its lines where the layout's log has them.
        let firstHugeTLB = layout.bootLog.firstIndex { $0.hasPrefix("HugeTLB") } ?? layout.bootLog.count
        m.kmsg = Array(layout.bootLog[..<firstHugeTLB])
        m.hugetlbInit()
        m.kmsg += layout.bootLog[firstHugeTLB...].filter { !$0.hasPrefix("HugeTLB") }
        // hugepage_init (subsys, linked after hugetlb.o: it runs after hugetlb_init) →
        // start_stop_khugepaged → set_recommended_min_free_kbytes ends in setup_per_zone_wmarks
        // whether or not min_free_kbytes moved: the values stay (initPerZoneWmarkMin applied
        // khugepaged's rule already), but each zone's share is taken from its managed pages now,
        // which count the boot gigantic pages gather_bootmem_prealloc just gave back
        // (boot-pools, campaign seed 1016: DMA min 58, not 90); any watermark boost the
        // initcalls' fallback steals raised is dropped.
        m.setupPerZoneWmarks()
        // The ACPI memory driver then adds the cold-plugged DIMMs (offline unless
        // memhp_default_state= says otherwise).
        do { try m.acpiColdPlugDIMMs() } catch let e as KernelError {
            throw MachineConfigError("a cold-plugged DIMM could not be added: \(e)")
        }
        // Both are subsys_initcalls (hugetlb_init, acpi_init's memory device scan): they run
        // before the initrd (rootfs_initcall's unpack) and the init sections (free_initmem
        // after the initcalls) are freed, so an online of a cold-plugged DIMM recomputes
        // min_free_kbytes and the watermarks without those pages. Then
        // populate_rootfs (rootfs_initcall, after acpi_init's subsys_initcall) unpacks the
        // initramfs into tmpfs: shmem pages, GFP_HIGHUSER_MOVABLE, so a DIMM onlined movable at
        // boot (memhp_default_state=online_movable) receives them at the head of ZONE_MOVABLE.
        m.allocateBootMemory(layout.bootAllocations, phase: .rootfs)
        // kswapd_init (module_init, a device initcall): until now no kswapd could be woken, so a
        // boost raised since hugepage_init stays until the watermarks are next recomputed.
        m.kswapdStarted = true
        for r in ReservedRange.inLateFreeOrder(layout.reserved) { m.freeReservedPages(r.range) }
        m.allocateBootMemory(layout.bootAllocations, phase: .userspace)
        m.setBootNumaEvents(layout.bootAllocations)
        m.allocateGuestPrefault(config.guestPrefaultPages)
        // virtio_mem (a module the runner loads before the first step) probes its devices
        // and plugs what they request already.
        do { try m.virtioMemProbeAll() } catch let e as KernelError {
            throw MachineConfigError("virtio-mem probe failed: \(e)")
        }
        return m
    }

    /// What the kernel itself holds when user space first looks (calibrated in BootProfile),
    /// allocated through the buddy allocator like the real boot allocations, so they land
    /// where the kernel's do: unmovable pageblocks stolen from the head of the free lists,
    /// i.e. the lowest free memory of the node's highest kernel zone (see setUpBootMemory).
    /// `phase`: which of the kernel's boot stages allocates (initcalls before the cold-plugged
    /// DIMMs are added, the initramfs unpack after them, init after the late frees).
    func allocateBootMemory(_ a: BootAllocations, phase: BootAllocationPhase) {
        if phase == .initcalls {
            // dma_atomic_pool_init (postcore): one block each from GFP_KERNEL, GFP_DMA, GFP_DMA32.
            // On NUMA pid 1 allocates them under its interleave policy, so they go to three
            // successive interleave nodes (GFP_DMA falls back to node 0's DMA) from wherever
            // the cursor is, which varies run to run: 6.1.0-57 put the GFP_KERNEL and GFP_DMA32
            // pools on node 1 in 8 of 14 boots of two-node guests and on node 0 in 6; three 1G
            // nodes started at node 0 in 4 of 7 boots, node 1 in 2, node 2 in 1
            // (tests/fixtures/numa-boot-probes). The model keeps them on node 0, its first.
            if a.atomicPoolOrder >= 0 {
                for (name, gfp) in [
                    ("kernel:atomic_pool", GFP.kernel), ("kernel:atomic_pool_dma", [.kernel, .dma]),
                    ("kernel:atomic_pool_dma32", [.kernel, .dma32])
                ] as [(String, GFP)] {
                    guard
                        let id = try? createOwner(
                            name: name, kind: .kernel, node: 0, order: a.atomicPoolOrder, gfp: gfp)
                    else { continue }
                    allocate(owner: id, blocks: 1)
                }
            }
        }
        // (name, kind, pages, of which allocated under the boot interleave policy, gfp)
        let parts: [(String, PageKind, Int, Int, GFP?)] =
            switch phase {
            case .initcalls:
                [
                    (
                        "kernel:slab_unreclaimable", .slabUnreclaimable, a.slabUnreclaimable,
                        a.slabUnreclaimableInterleaved, nil
                    ),
                    ("kernel:kmalloc_large", .kmallocLarge, a.kmallocLarge, 0, nil),
                    ("kernel:page_tables", .pageTable, a.pageTables, 0, nil),
                    ("kernel:stacks", .kernelStack, a.kernelStack, a.kernelStackInterleaved, nil),
                    // with each node's `areaPages` (the hash tables, the BPF program pack)
                    ("kernel:other", .kernel, a.kernel, a.kernelInterleaved, nil),
                    ("kernel:kvfree_rcu_cache", .kernel, a.kvfreeRCUCache, 0, nil),
                    ("kernel:dma", .kernel, a.dma, 0, [.kernel, .dma]),
                    ("kernel:slab_reclaimable", .slabReclaimable, a.slabReclaimable, a.slabReclaimableInterleaved, nil)
                ]
            case .rootfs: [("rootfs:initramfs", .shmem, a.shmem, 0, nil)]
            case .userspace: [("init:anon", .anon, a.anon, 0, nil)]
            }
        for (name, kind, pages, interleaved, gfp) in parts where pages > 0 || name == "kernel:other" {
            var perNode = a.split(pages, interleaved: interleaved)
            if name == "kernel:other" { perNode = a.withAreaPages(perNode) }
            for (node, n) in perNode where n > 0 {
                // A node without kernel zones (movable_node, kernelcore=) falls back through
                // its zonelist, as alloc_page_interleave's __alloc_pages(nid) does.
                let nid = nodes.indices.contains(node) && nodes[node].exists ? node : 0
                // The boot's SReclaimable (dentries, inodes, page-cache nodes of the initramfs's
                // tmpfs) is in use: reclaim cannot free it (six 6.1.0-57 runs under a filler kept
                // 8,828-8,920 kB and stole nothing).
                guard
                    let id = try? createOwner(
                        name: node == 0 ? name : "\(name)@node\(node)", kind: kind, node: nid, gfp: gfp,
                        reclaimable: kind == .slabReclaimable ? false : nil)
                else { continue }
                // init (pid 1) is never an OOM victim.
                if name.hasPrefix("init:") { owners.slots[id]?.oomUnkillable = true }
                allocate(owner: id, blocks: n)
                if name == "kernel:kvfree_rcu_cache" { adoptKvfreeRCUCache(owner: id) }
                if name == "rootfs:initramfs" { activateShmem(owner: id, pages: a.activeShmem) }
            }
        }
        // The hash tables vmalloc_huge mapped with PMDs: order-9 blocks on their nodes.
        if phase == .initcalls {
            for (node, blocks) in a.areaHugeBlocks.sorted(by: { $0.key < $1.key }) where blocks > 0 {
                let nid = nodes.indices.contains(node) && nodes[node].exists ? node : 0
                guard
                    let id = try? createOwner(
                        name: node == 0 ? "kernel:vmalloc_huge" : "kernel:vmalloc_huge@node\(node)", kind: .kernel,
                        node: nid, order: Geometry.pageblockOrder)
                else { continue }
                allocate(owner: id, blocks: blocks)
            }
        }
        // Pages freed late in boot sit on the per-cpu lists when user space starts: the
        // transient owner's refills park them, in whole batches. The reclaimable stock is part
        // of those pages (BootProfile.reclaimablePCPStock), not more of them: as many of the
        // parked pages as it holds go back to the buddy (free_pcppages_bulk, oldest first), so
        // the lists hold what they hold without the stock, the stock on the reclaimable lists.
        // (Parking it on top left DMA32 29 pages less free at the first observation than
        // without it; the 6.1.0-57 probe of seed 153 with zone dumps, 2026-12-07, has the
        // model's DMA32 below the kernel's already: free 211885 pcp 2588, model 211740 2646.)
        let stocked = phase == .userspace ? stockReclaimablePCP() : 0
        // The transient's refills are counted beyond what the unmovable list holds when it
        // starts (BootProfile.transientListBaseline): the kernel's late-boot churn refills as
        // often whatever a dozen pages more or less of earlier boot work left there, while
        // `allocate` takes the list first, so two cold-plugged 512M DIMMs (12 pages less on the
        // list) cost a whole extra batch: DMA32 pcp +51 and free -4159 against the machine
        // without them, where 6.1.0-57 reads pcp -12 and free -4096 (the memmap), and seed 207's
        // pool stopped two huge pages short (notes/s9/heldout9.md).
        if phase == .userspace, a.pcp > 0, let id = try? createOwner(name: "boot:transient", kind: .kernel) {
            let pages = a.pcp - BootProfile.transientListBaseline + bootTransientListPages()
            allocate(owner: id, blocks: Swift.max(0, pages))
            destroyOwner(id)
        }
        if stocked > 0, let z = zonelist(gfp: .kernel, node: 0).first(where: { zones[$0].managedPages > 0 }) {
            freePCPBulk(z, count: stocked, startList: PerCPUPages.index(order: 0, migrateType: .unmovable)!)
        }
    }
}

extension Machine {
    /// What is left on node 0's reclaimable per-cpu lists of the boot's reclaimable slab
    /// refills (`BootProfile.reclaimablePCPStock`): the first reclaimable slab pages of the
    /// scenario come from there, not from a refill (`rmqueue_pcplist`). Part of the boot's
    /// pcp pages: returns how many it parked.
    func stockReclaimablePCP() -> Int {
        guard nodes.indices.contains(0), nodes[0].exists,
            let z = zonelist(gfp: .kernel, node: 0).first(where: { zones[$0].managedPages > 0 })
        else { return 0 }
        let before = zones[z].pcp.count
        for (order, count) in BootProfile.reclaimablePCPStock {
            rmqueueBulk(z, order: order, mt: .reclaimable, count: count)
        }
        return zones[z].pcp.count - before
    }

    /// The pages on node 0's first kernel zone's unmovable order-0 per-cpu list, which the
    /// boot's transient (`allocateBootMemory`) takes before it refills.
    func bootTransientListPages() -> Int {
        guard nodes.indices.contains(0), nodes[0].exists,
            let z = zonelist(gfp: .kernel, node: 0).first(where: { zones[$0].managedPages > 0 }),
            let li = PerCPUPages.index(order: 0, migrateType: .unmovable)
        else { return 0 }
        return zones[z].fast.pcpCount(li)
    }

    /// The guest program's buffers it touches before its first step (`MachineConfig.guestPrefaultPages`):
    /// anonymous order-0 page faults, GFP_HIGHUSER_MOVABLE, after the late frees reached the
    /// per-cpu lists. Part of the runner's process, which the OOM killer treats as one task
    /// (`untrackedOOMVictim`), so not a victim of its own.
    func allocateGuestPrefault(_ pages: Int) {
        guard pages > 0, let id = try? createOwner(name: "guest:buffers", kind: .anon) else { return }
        owners.slots[id]?.oomUnkillable = true
        allocate(owner: id, blocks: pages)
    }
}

extension ReservedRange {
    /// The late frees in the order 6.1 makes them: the initrd first (populate_rootfs's
    /// free_initrd_mem, which kernel_init_freeable waits for), then free_initmem (x86:
    /// mem_encrypt_free_decrypted_mem, then the initmem), then mark_rodata_ro's two image gaps,
    /// as the boot log's "Freeing ..." lines show. Each page goes to the head of its per-cpu
    /// list, which serves the head first, so user space's first pages are the last freed ones
    /// (the image gaps in block 0, not the initrd at the top of low RAM).
    static func inLateFreeOrder(_ reserved: [ReservedRange]) -> [ReservedRange] {
        let order = [
            "initrd", "unused decrypted bss", "kernel initmem", "kernel image text/rodata gap",
            "kernel image rodata/data gap"
        ]
        let late = reserved.filter { $0.fate == .freedLate }
        return late.enumerated().sorted { a, b in
            let ra = order.firstIndex(of: a.element.label) ?? order.count
            let rb = order.firstIndex(of: b.element.label) ?? order.count
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }
}

/// The boot stages that allocate the kernel's and user space's first pages (`allocateBootMemory`).
enum BootAllocationPhase {
    /// The initcalls up to acpi_init (subsys): slab, page tables, stacks, DMA pools.
    case initcalls
    /// populate_rootfs (rootfs_initcall): the initramfs unpacked into tmpfs.
    case rootfs
    /// init and its children, after free_initrd_mem and free_initmem.
    case userspace
}

extension Machine {
    /// The initramfs pages the guest's programs use get activated (`mark_page_accessed` on
    /// their second use): the first `pages` of the unpacked rootfs, booked per zone
    /// (`Zone.activeShmem`, read by `lruCounters`).
    func activateShmem(owner id: Int, pages: Int) {
        guard let o = owners[id] else { return }
        var left = pages
        for i in o.blocks.indices where left > 0 {
            guard let z = zoneIndex(ofPFN: o.blocks[i]) else { continue }
            let n = Swift.min(left, 1 << o.order)
            zones[z].activeShmem += n
            left -= n
        }
    }
}
