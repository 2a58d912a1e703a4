import SystemPackage
import XCTest

@testable import MemoryModel

/// The booted machine against the real 6.1 captures (../shared/reference/linux-6.1-captures).
final class BootTests: XCTestCase {
    /// a-baseline.txt, step 1: `-m 1G,slots=4,maxmem=4G`, no command line.
    func testBaselineZonesMatchCapture() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        try m.verify()
        let dma = m.zone(node: 0, type: .dma), dma32 = m.zone(node: 0, type: .dma32)
        XCTAssertEqual([dma.startPFN, dma.spannedPages, dma.presentPages], [1, 4095, 3998])
        XCTAssertEqual([dma32.startPFN, dma32.spannedPages, dma32.presentPages], [4096, 258016, 258016])
        XCTAssertEqual(Double(dma.managedPages), 3840, accuracy: 38.4)
        XCTAssertEqual(Double(dma32.managedPages), 225520, accuracy: 2255)
        XCTAssertEqual(m.zone(node: 0, type: .normal).spannedPages, 0)
        XCTAssertEqual(m.zone(node: 0, type: .movable).spannedPages, 0)
        // min_free_kbytes=45056 (THP's recommendation), DMA32 min 11073, protection 880.
        XCTAssertEqual(m.watermarkTunables.minFreeKbytes, 45056)
        XCTAssertEqual(Double(dma32.watermark.min), 11073, accuracy: 111)
        // The protection is computed at boot, before the init sections and the initrd are
        // freed: DMA32 managed 225520 − 2384 late-freed pages (kernel-run's 1492K initrd: 373,
        // initmem 706, text/rodata gap 510, rodata/data gap 277, decrypted bss 509, SMP
        // alternatives 9) = 223136, / 256 = 871. The captures read
        // /proc/sys/vm/lowmem_reserve_ratio first, and 6.1's handler recomputes it even on a
        // read — with the final managed counts (a-baseline.kernel.txt: 880).
        XCTAssertEqual(dma.lowmemReserve, [0, 871, 871, 871, 871])
        m.setupPerZoneLowmemReserve()
        XCTAssertEqual(m.zone(node: 0, type: .dma).lowmemReserve, [0, 880, 880, 880, 880])
        // DMA32 free=216288 with pcp=2428 at the first look: within 1%.
        XCTAssertEqual(Double(dma32.freePages + dma32.pcp.count), 216288 + 2428, accuracy: 2187)
        XCTAssertEqual(m.blocks.count, 8)
        XCTAssertNil(m.blocks[0]!.zone, "memory0 spans DMA and DMA32: valid_zones none")
        XCTAssertEqual((1...7).map { m.blocks[$0]!.zone }, Array(repeating: ZoneType.dma32, count: 7))
    }

    /// hugetlb_init and THP's hugepage_init are both subsys_initcalls, hugetlb.o linked first:
    /// the boot gigantic page is managed again (gather_bootmem_prealloc) when khugepaged's
    /// set_recommended_min_free_kbytes shares min_free_kbytes out over the zones. Campaign seed
    /// 1016 (boot-pools, 6.1.0-57, no later watermark recompute): DMA min 58, DMA32 min 11205;
    /// shared out before the gather, DMA got 90 and DMA32 11173.
    func testBootGiganticPageCountsInTheWatermarkShares() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 3 << 30, maxmemBytes: 6 << 30, slots: 2,
                cmdline: "hugepagesz=1G hugepages=1 hugepagesz=2M hugepages=64 default_hugepagesz=1G", gbpages: true))
        try m.verify()
        XCTAssertEqual(m.zone(node: 0, type: .dma32).managedPages, 740464)
        XCTAssertEqual(m.zone(node: 0, type: .dma).watermark.min, 58)
        XCTAssertEqual(m.zone(node: 0, type: .dma32).watermark.min, 11205)
    }

    /// Two nodes of 1G with `movablecore=256M` (campaign seed 19, and a memblock=debug run of the
    /// same machine on 6.1.0-57): node 1 Movable managed 12007, node 0 Movable 27539. Node 0's
    /// usemap sits on a page of its own, so the top node keeps one page more of the
    /// NUMA_NO_NODE allocations than a single node would.
    func testTwoNodeUsemapPageOnTheTopNode() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 2 << 30, maxmemBytes: 4 << 30, slots: 4,
                nodes: [NodeConfig(id: 0, memBytes: 1 << 30), NodeConfig(id: 1, memBytes: 1 << 30)],
                cmdline: "movablecore=256M"))
        XCTAssertEqual(m.zone(node: 1, type: .movable).managedPages, 12007)
        XCTAssertEqual(m.zone(node: 0, type: .movable).managedPages, 27539)
    }

    /// Three 1G nodes (memblock=debug probe on 6.1.0-57, zones at the first step): RAM up to
    /// 3G needs GiB 1's PMD page from memblock (`alloc_low_pages` at 0xbfdff000, on the top
    /// node), which a 2G machine maps from the brk pgt_buf: node 2 DMA32 managed 241382, one
    /// fewer than the top node of two 1G nodes (241383, same probe, same memblock otherwise).
    func testThreeNodesDirectMapPMDPageOnTheTopNode() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 3 << 30, maxmemBytes: 5 << 30, slots: 3,
                nodes: (0..<3).map { NodeConfig(id: $0, memBytes: 1 << 30) },
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 512 << 20, node: 2)]))
        XCTAssertEqual(m.zone(node: 0, type: .dma32).managedPages, 242525)
        XCTAssertEqual(m.zone(node: 1, type: .dma32).managedPages, 258004)
        XCTAssertEqual(m.zone(node: 2, type: .dma32).managedPages, 241382)
        let two = try Machine.boot(
            MachineConfig(
                memBytes: 2 << 30, maxmemBytes: 4 << 30, slots: 3,
                nodes: (0..<2).map { NodeConfig(id: $0, memBytes: 1 << 30) },
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 512 << 20, node: 1)]))
        XCTAssertEqual(two.zone(node: 1, type: .dma32).managedPages, 241383)
        // One page per GiB between GiB 0 and the top one; none with gbpages (1 GiB mappings).
        let gib = 1 << 18
        XCTAssertEqual(BootLayout.lowDirectMapPMDPages(maxPFN: gib - 32, gbpages: false), 0)
        XCTAssertEqual(BootLayout.lowDirectMapPMDPages(maxPFN: 2 * gib - 32, gbpages: false), 0)
        XCTAssertEqual(BootLayout.lowDirectMapPMDPages(maxPFN: 3 * gib - 32, gbpages: false), 1)
        XCTAssertEqual(BootLayout.lowDirectMapPMDPages(maxPFN: 3 * gib - 32, gbpages: true), 0)
    }

    /// movable-node.kernel.txt: min_free_kbytes 45256, set when the cold-plugged DIMM is onlined
    /// by acpi_init; the SMP alternatives (9 pages) are managed by then (start_kernel frees them
    /// before the initcalls), the initrd and init sections are not.
    func testMovableNodeMinFreeKbytesAtTheInitcallOnline() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                nodes: [NodeConfig(id: 0, memBytes: 768 << 20), NodeConfig(id: 1, memBytes: 256 << 20)],
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 512 << 20, node: 1)],
                cmdline: "movable_node memhp_default_state=online"))
        XCTAssertEqual(m.watermarkTunables.minFreeKbytes, 45256)
    }

    /// c-movablecore.txt: `movablecore=256M` carves ZONE_MOVABLE out of DMA32.
    func testMovablecoreZonesMatchCapture() throws {
        let m = try Machine.boot(
            MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, cmdline: "movablecore=256M"))
        try m.verify()
        let dma32 = m.zone(node: 0, type: .dma32), movable = m.zone(node: 0, type: .movable)
        XCTAssertEqual([dma32.startPFN, dma32.spannedPages, dma32.presentPages], [4096, 192512, 192512])
        XCTAssertEqual([movable.startPFN, movable.spannedPages, movable.presentPages], [196608, 65504, 65504])
        XCTAssertEqual(Double(dma32.managedPages), 181194, accuracy: 1812)
        XCTAssertEqual(Double(movable.managedPages), 44326, accuracy: 443)
        XCTAssertEqual(m.watermarkTunables.minFreeKbytes, 36396, accuracy: 364)
        XCTAssertEqual(m.blocks[6]!.zone, .movable)
        XCTAssertEqual(m.blocks[5]!.zone, .dma32)
    }

    // MARK: Where the kernel's boot allocations land (nokaslr fixtures)

    func offlineErrno(_ m: Machine, _ block: Int) -> Errno? {
        do { try m.storeState(block: block, .offline); return nil } catch let e as KernelError { return e.errno } catch
        { return nil }
    }

    /// Of the boot's SUnreclaim, 306 pages are large kmallocs: counted in SUnreclaim but without
    /// PG_slab, so kpageflags shows them as neither slab nor anything else (a 6.1.0-57 probe:
    /// Slab 14812 kB = 3703 pages against 3397 PG_slab pages).
    func testBootKmallocLargeIsSUnreclaimWithoutPGSlab() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        let a = try XCTUnwrap(m.layout).bootAllocations
        XCTAssertEqual(a.kmallocLarge, 306)
        let id = try XCTUnwrap(m.ownerID(named: "kernel:kmalloc_large"))
        XCTAssertEqual(m.owners[id]?.pages, 306)
        let c = m.nodePageCounters(node: 0)
        var slabPages = 0
        for z in m.zones.indices where m.zones[z].node == 0 {
            slabPages += m.kindCount(z, .slabUnreclaimable) + m.kindCount(z, .slabReclaimable)
        }
        XCTAssertEqual(c.slabUnreclaimable + c.slabReclaimable - slabPages, 306)
        for pfn in try XCTUnwrap(m.owners[id]).blocks {
            XCTAssertEqual(m.pageFlags(pfn, kind: m.memmap.kind(pfn)) & KPF.bit(KPF.slab), 0)
        }
    }

    /// c-movablecore.kernel.txt, step offline-kernel-blocks: blocks 1–5 of DMA32 offline
    /// (nothing unmovable in them), DMA32 then spans only block 0: spanned = present 28672,
    /// managed 17354. DMA32 is fully initialised early (it ends below the node's end), its
    /// free lists run from the lowest pfn, so the boot allocations sit in block 0 above the
    /// kernel image at 16 MiB.
    func testMovablecoreBootAllocationsSitInBlock0() throws {
        let m = try Machine.boot(
            MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, cmdline: "movablecore=256M"))
        let unmovable: Set<PageKind> = [
            .slabReclaimable, .slabUnreclaimable, .kmallocLarge, .pageTable, .kernelStack, .kernel
        ]
        for pfn in 32768..<196608 {
            XCTAssertFalse(unmovable.contains(m.memmap.kind(pfn)), "pfn \(hex(pfn))");
            if unmovable.contains(m.memmap.kind(pfn)) { break }
        }
        for b in 1...5 { XCTAssertNil(offlineErrno(m, b), "memory\(b)") }
        let dma32 = m.zone(node: 0, type: .dma32)
        XCTAssertEqual(
            [dma32.startPFN, dma32.spannedPages, dma32.presentPages, dma32.managedPages], [4096, 28672, 28672, 17354])
        try m.verify()
    }

    /// boot-4g.kernel.txt: Normal (blocks 32–39) is the node's last zone, so only its first
    /// section is initialised before page_alloc_init_late; the kernel's early allocations
    /// take it, memory32 is EBUSY (the dumped page is pfn 0x100000, Normal's first page),
    /// memory39 is EBUSY for its memblock reservations, memory38 offlines.
    func testFourGigabyteBootAllocationsInFirstNormalSection() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 4 << 30, maxmemBytes: 8 << 30, slots: 2))
        XCTAssertEqual(offlineErrno(m, 39), .resourceBusy)
        XCTAssertNil(offlineErrno(m, 38))
        XCTAssertEqual(offlineErrno(m, 32), .resourceBusy)
        XCTAssertTrue(m.kmsg.contains { $0.contains("pfn:0x100000") }, "\(m.kmsg.suffix(8))")
        let normal = m.zone(node: 0, type: .normal)
        XCTAssertEqual([normal.startPFN, normal.spannedPages, normal.presentPages], [1048576, 262144, 229376])
        XCTAssertEqual(Double(normal.managedPages), 211139, accuracy: 2111)
        try m.verify()
    }

    /// dma_atomic_pool_init: the GFP_DMA pool is 128 KiB per GiB of RAM rounded up to a power
    /// of two: DMA free 3808, 3776, 3712, 3584 pages on 1, 2, 4, 8 GiB (a-baseline, boot-2g,
    /// boot-4g, boot-8g).
    func testDMAAtomicPoolScalesWithMemory() throws {
        for (gib, free) in [(1, 3808), (2, 3776), (4, 3712), (8, 3584)] {
            let l = try BootLayout.compute(MachineConfig(memBytes: gib << 30, maxmemBytes: (gib + 4) << 30, slots: 2))
            XCTAssertEqual(l.bootAllocations.atomicPoolPages, 32 << (gib.trailingZeroBitCount), "\(gib)G")
            let m = try Machine.boot(MachineConfig(memBytes: gib << 30, maxmemBytes: (gib + 4) << 30, slots: 2))
            XCTAssertEqual(m.zone(node: 0, type: .dma).freePages, free, "\(gib)G")
        }
    }

    /// Pageblock types after boot: memmap_init marks the early pageblocks MIGRATE_MOVABLE
    /// (pageblock 0, starting in the pfn-0 hole, keeps 0, MIGRATE_UNMOVABLE); deferred
    /// pageblocks become MIGRATE_MOVABLE only when deferred_free_range frees their first
    /// page. With movablecore=256M on 1 GiB the real kernel's /proc/pagetypeinfo shows DMA
    /// 1 Unmovable + 7 Movable and ZONE_MOVABLE 41 Unmovable (the memblock reservations at the
    /// top of block 7) + 87 Movable. The free lists start with the lowest block.
    func testBootPageblockTypesAndFreeListOrder() throws {
        let m = try Machine.boot(
            MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, cmdline: "movablecore=256M"))
        func types(_ t: ZoneType) -> [Int] {
            let z = m.zone(node: 0, type: t)
            var c = [0, 0]
            var pb = roundDown(z.startPFN, Geometry.pageblockPages)
            while pb < z.endPFN {
                let mt = m.pageblockMigrateType(pb)
                if mt == .unmovable { c[0] += 1 } else if mt == .movable { c[1] += 1 }
                pb += Geometry.pageblockPages
            }
            return c
        }
        XCTAssertEqual(types(.dma), [1, 7])
        XCTAssertEqual(types(.movable), [41, 87])
        // ZONE_MOVABLE's order-10 list: block 6 (initialised early) before block 7 (deferred).
        let list = m.zone(node: 0, type: .movable).freeArea[Zone.listIndex(10, .movable)].pfns.map { Int($0) }
        XCTAssertEqual(list, list.sorted(), "head: the lowest block")
        XCTAssertTrue((196608..<229376).contains(try XCTUnwrap(list.first)))
        // The real kernel (same run): block 7 holds 10 intact order-10 blocks; the boot's
        // movable pages (Shmem, init's anon, the pcp lists) sit in its smaller fragments.
        XCTAssertEqual(list.filter { $0 >= 229376 }.count, 10, "block 7: 10 order-10 blocks at the tail")
        XCTAssertEqual(list.filter { $0 < 229376 }.count, 32, "block 6 untouched")
    }

    func testSameSeedSameMachine() throws {
        let config = MachineConfig(memBytes: 2 << 30, maxmemBytes: 8 << 30, slots: 4, seed: 7)
        let a = try Machine.boot(config), b = try Machine.boot(config)
        for z in a.zones.indices {
            XCTAssertEqual(a.zones[z].freePages, b.zones[z].freePages)
            XCTAssertEqual(a.zones[z].freeArea.map(\.pfns), b.zones[z].freeArea.map(\.pfns))
        }
    }

    func testRefusedConfigurationsThrowWithAMessage() {
        for bad in [
            MachineConfig(memBytes: 0), MachineConfig(memBytes: 1 << 30, maxmemBytes: 512 << 20, slots: 2),
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 1, dimms: [DIMMConfig(id: "d", sizeBytes: 2 << 30)])
        ] {
            XCTAssertThrowsError(try Machine.boot(bad)) { error in
                XCTAssertFalse((error as? MachineConfigError)?.message.isEmpty ?? true, "\(error)")
            }
        }
    }

    /// numa_policy_init() (mm/mempolicy.c) makes the boot task interleave over the N_MEMORY
    /// nodes of at least 16 MiB; kernel_init inherits the policy (copy_process: mpol_dup) and
    /// keeps it over the initcalls, so those slab and vmalloc pages alternate over the nodes
    /// (alloc_page_interleave; alloc_pages_bulk_array_interleave: nr_pages / nodes each, the
    /// first nodes one more for the remainder). two-nodes-1g's node 1 (node1/meminfo
    /// SUnreclaim 1776 kB, SReclaimable 176 kB, KernelStack 8 kB; DMA32 managed 112359 −
    /// free 110562 − pcp 424 = 1373 pages allocated) holds half of each interleaved part.
    func testBootAllocationsInterleaveOverNodes() throws {
        let M = 1 << 20
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                nodes: [NodeConfig(id: 0, memBytes: 512 * M), NodeConfig(id: 1, memBytes: 512 * M)]))
        try m.verify()
        let a = m.layout!.bootAllocations
        XCTAssertEqual(a.interleaveNodes, [0, 1])
        func onNode1(_ name: String) -> Int {
            guard let id = m.ownerID(named: name + "@node1"), let o = m.owners[id] else { return 0 }
            XCTAssertTrue(o.blocks.allSatisfy { m.zones[m.zoneIndex(ofPFN: Int($0))!].node == 1 }, name)
            return o.blocks.count
        }
        XCTAssertEqual(onNode1("kernel:slab_unreclaimable"), 1776 / 4)
        XCTAssertEqual(onNode1("kernel:slab_reclaimable"), 176 / 4)
        XCTAssertEqual(onNode1("kernel:stacks"), 8 / 4)
        // The hash tables' and the BPF pack's halves (6.1.0-57's /proc/vmallocinfo of the same
        // guest, session 10: alloc_large_system_hash N1=294, bpf_prog_pack_alloc N1=513) and
        // half the small interleaved rest. The fixture's node 1 holds the GFP_KERNEL and
        // GFP_DMA32 atomic pools too (32 pages each), which the model keeps on node 0.
        XCTAssertEqual(onNode1("kernel:other"), 294 + 513 + 15)
        XCTAssertEqual(onNode1("kernel:other"), 1373 - (1776 + 176 + 8) / 4 - 2 * 32 + 3)
        XCTAssertEqual(onNode1("rootfs:initramfs"), 0)  // unpacked by an async worker: its own node
        // node 0 keeps the rest of each kind.
        let id0 = try XCTUnwrap(m.ownerID(named: "kernel:slab_unreclaimable"))
        XCTAssertEqual(m.owners[id0]!.blocks.count, a.slabUnreclaimable - 444)
        // Three interleave nodes: 10 interleaved pages are 4 + 3 + 3 (the remainder first).
        var b = BootAllocations()
        b.interleaveNodes = [0, 1, 2]
        XCTAssertEqual(b.split(100, interleaved: 10).map(\.pages), [90 + 4, 3, 3])
        XCTAssertEqual(b.split(5, interleaved: 10).map(\.pages), [2, 2, 1])
        b.interleaveNodes = [0]
        XCTAssertEqual(b.split(100, interleaved: 10).map(\.pages), [100])
        // Single-node machines: no interleave.
        let one = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        XCTAssertEqual(one.layout!.bootAllocations.interleaveNodes, [])
    }

    /// movable-node.kernel.txt: min_free_kbytes 45256. The cold-plugged DIMM is onlined by
    /// acpi_init's scan (a subsys_initcall), whose init_per_zone_wmark_min →
    /// khugepaged_min_free_kbytes_update caps THP's recommendation at nr_free_buffer_pages()/20
    /// before the initrd and the init sections are freed (kernel_init: free_initmem after the
    /// initcalls): with those ~2380 pages managed the cap would be 45728.
    func testColdPluggedDIMMOnlineSetsMinFreeBeforeLateFrees() throws {
        let M = 1 << 20
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                nodes: [NodeConfig(id: 0, memBytes: 768 * M), NodeConfig(id: 1, memBytes: 256 * M)],
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 512 * M, node: 1)],
                cmdline: "movable_node memhp_default_state=online"))
        try m.verify()
        XCTAssertEqual(m.watermarkTunables.minFreeKbytes, 45256)
    }

    /// Two cold-plugged 512M DIMMs take their memmap (4096 pages) from DMA32 and leave the
    /// first observation's pcp lists as they were, within a dozen pages: 6.1.0-57 with the
    /// campaign runner reads DMA32 free 215981 pcp 2602 on a 1 GiB guest without DIMMs (probe
    /// of seed 149, notes/s8/slab8.md) and 211885 pcp 2590 with them (probe of seed 207,
    /// notes/s9/heldout9-probes/p207.kernel.txt): free -4096, pcp -12. The boot's transient
    /// once refilled a whole extra batch there (free -4159, pcp +51), and seed 207's pool stopped
    /// two huge pages short.
    func testColdPluggedDIMMsDoNotCostTheBootAPCPBatch() throws {
        func dma32(_ dimms: [DIMMConfig]) throws -> (free: Int, pcp: Int) {
            let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimms: dimms))
            let z = m.zone(node: 0, type: .dma32)
            return (z.freePages, z.pcp.count)
        }
        let plain = try dma32([])
        let withDIMMs = try dma32([
            DIMMConfig(id: "dimm1", sizeBytes: 512 << 20), DIMMConfig(id: "dimm2", sizeBytes: 512 << 20)
        ])
        XCTAssertEqual(withDIMMs.free - plain.free, -4096)
        XCTAssertEqual(Double(withDIMMs.pcp - plain.pcp), -12, accuracy: 4)
    }
}
