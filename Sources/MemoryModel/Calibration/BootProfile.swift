/// The calibrated constants of a Debian 12 6.1 boot under QEMU, with where each comes from.
/// Every size the kernel derives from the machine (memmap, hash tables, SWIOTLB, page
/// tables) is computed; the constants below are what the captures pin down.
public struct BootProfile: Sendable, Equatable {
    // The `Memory:` line of every capture (vmlinuz-6.1.0-56-amd64):
    public var codeK = 14343, rwdataK = 2338, rodataK = 9132, initK = 2824, bssK = 17344
    // The "Freeing ..." lines of every capture.
    public var textRodataGapK = 2040, rodataDataGapK = 1108, decryptedUnusedK = 2036, smpAlternativesK = 36
    /// Image parts the `Memory:` line does not list (ORC unwind tables, bug table, vvar, the
    /// used part of brk). Calibrated: a/c keep 11318 pages reserved below ZONE_MOVABLE in c.
    public var imageUnlistedPages = 1037
    /// The initramfs `memhp kernel-run` boots (busybox + memhp-guest): every campaign seed but
    /// the virtio-mem shape and the fixtures recorded since session 5 free 1492K
    /// ("Freeing initrd memory: 1492K", `Memory:` reserves 140152K on 1 GiB; the oldest fixtures
    /// show 1488K and 140148K, 408K more than the reference captures' 1080K). The page matters
    /// at boot: init_per_zone_wmark_min and khugepaged's set_recommended_min_free_kbytes run
    /// before free_initrd_mem, so the zone at the top of low RAM has one page fewer managed
    /// when its watermarks are set (two 1G nodes, movablecore=256M: node 1 Movable min 404
    /// with 11634 of 485373 managed pages, campaign seeds 37, 127, 136). See `captures`.
    public var initrdBytes = 1492 << 10
    /// `NODE_DATA(0) allocated [mem 0x3fea7000-0x3fed1fff]`: sizeof(pg_data_t), 43 pages.
    public var nodeDataPages = 43
    /// `percpu: Embedded 62 pages/cpu` (the rest of the 2 MiB unit is given back at once).
    public var percpuPagesPerCPU = 62
    public var cpus = 1
    /// `software IO TLB: mapped [...] (64MB)` and its slot array (32768 slots × 24 bytes).
    public var swiotlbBytes = 64 << 20
    public var swiotlbSlotsPages = 192
    /// Small memblock allocations not listed above (mem_section roots, usemaps, vmemmap page
    /// tables, e820 copies, ACPI). Calibrated: c's Movable reserved = 21178.
    public var memblockMiscPages = 16
    /// Of those, the pages that are node-local to the first memory node on a NUMA machine:
    /// sparse_index_alloc's section root, the two vmemmap page tables its memmap populates
    /// (vmemmap_alloc_block_zero(PAGE_SIZE, node)) and its usemap (sparse_init_nid →
    /// memblock_alloc_try_nid(448 bytes, node) inside the section holding its NODE_DATA); the
    /// rest are NUMA_NO_NODE and go to the top of memory. memblock=debug of a 1G+1G guest
    /// (6.1.0-57, this session) shows those 4 pages on node 0 and 14 on node 1, where a single
    /// 2G node has 17 in one place: a single node's usemap shares a page with the small
    /// NUMA_NO_NODE allocations (hpet, io_apic, firmware_map, percpu maps, cpumasks) packed
    /// top-down after it, and so does the usemap of the node that holds the top of memory; the
    /// usemap of every other node sits alone on a page of its own (`numaUsemapPages`).
    public var memblockFirstNodeMiscPages = 4
    /// The page each node's usemap takes when it is not the node at the top of memory (see
    /// `memblockFirstNodeMiscPages`): one more page reserved on a NUMA machine than the same
    /// memory in one node. All seven two-node fixtures and campaign seeds 1, 4, 13, 19, 22
    /// show that page as one fewer `managed` on the top node (the NUMA_NO_NODE rest moves up).
    public var numaUsemapPages = 1
    /// Top-of-memory boot pages that depend on the machine's shape, calibrated together on
    /// every zone `managed` the fixtures show (single node 1G/2G/4G/8G, 3G and 4G with gbpages,
    /// two nodes of 1G/2G/4G in total): one on every machine (a-baseline), three more when RAM
    /// exists above 4 GiB (boot-4g, boot-8g, kernelcore-50pct-two-nodes: the direct map beyond
    /// the brk pgt_buf), two with 1 GiB pages (campaign seed 8). The former one page per GiB of
    /// the direct map left 2G guests one page short and 8G guests five.
    public var directMapBasePages = 1
    public var directMapAbove4GPages = 3
    public var directMapAbove4GPagesGB = 2
    /// preallocate_vmalloc_pages() between memblock_free_all() and the `Memory:` line
    /// (b and d: 260860K available = 65280 initialised free pages − 65).
    public var vmallocPreallocPages = 65
    /// Buddy allocations up to the first observation, a-baseline (1 GiB, 8 blocks, 1 node).
    public var slabReclaimablePages = 2204  // SReclaimable 8816 kB
    public var slabUnreclaimablePages = 1526  // SUnreclaim 6152 kB minus 8 blocks' sysfs
    /// Of `slabUnreclaimablePages`, the kmalloc_large pages (compound pages without PG_slab,
    /// counted in SUnreclaim): a 6.1.0-57 probe of 1 GiB read Slab 14812 kB = 3703 pages while
    /// /proc/kpageflags showed 3397 PG_slab pages (3395 in block 0, 2 in block 7).
    public var kmallocLargePages = 306
    public var kernelStackPages = 188  // KernelStack 752 kB
    public var pageTablePages = 20  // PageTables 80 kB
    /// init's, the shell's and the runner's anonymous pages when the first step runs (the
    /// runner faults its buffers in lazily): the fixtures' first meminfo dumps on 6.1.0-57 read
    /// AnonPages 164-192 kB, 172 kB in most (a-baseline 168, boot-2g 180, boot-4g/8g 172,
    /// pool-grow-until-fail-1g 192 and 188 at its last step, nr_anon_pages 46 and 45 at its first).
    public var anonPages = 43
    /// Of the unpacked initramfs (shmem), the pages on the active anon list when user space
    /// looks (`LRUCounters`): zoneinfo's nr_active_anon at the first step of six 6.1.0-57 boots
    /// (1G twice, 2G, 4G, two nodes, movablecore) read 444-454, pool-grow-until-fail-1g's two
    /// runs 455 at every step; /proc/meminfo's Active(anon) 1776-1820 kB.
    public var activeShmemPages = 452
    /// The unpacked rootfs (meminfo Shmem) per initrd page: the fixtures' Shmem is 2844 kB
    /// (711 pages of the 373-page initrd).
    public var shmemPerInitrdPage = 2844.0 / 1492.0
    /// The rest (vmalloc, ftrace's 159 pages, percpu chunks, ...): a-baseline DMA32 used 6804
    /// pages besides pcp (its GFP_KERNEL and GFP_DMA32 atomic pools, 32 pages each, counted
    /// apart: see `BootAllocations.atomicPoolOrder`), 2233 of them here, less what is computed
    /// apart since session 10: the alloc_large_system_hash tables on the buddy allocator (204
    /// pages on 1 GiB, `largeSystemHashes`) and the BPF program pack (512, `bootAllocations`).
    /// With those computed, 6.1.0-57's single-node rest stays put from 1G to 8G (a-baseline,
    /// boot-2g/4g/8g: meminfo's used pages less slab, stacks, page tables, file, anon, the
    /// tables, the pack and the atomic pools = 1486, 1486, 1493, 1491), where the former
    /// "112 pages per GiB above the first" left 8G 168 pages short.
    public var otherKernelPages = 2233 - 204 - 512
    /// GFP_DMA allocations besides the DMA atomic pool (the captures' DMA zone: none).
    public var dmaZonePages = 0
    /// sysfs memory block device (kobject + kernfs nodes): b − a = 12 pages for 8 blocks.
    public var slabPagesPerTwoBlocks = 3
    /// Per extra node: kswapd + kcompactd stacks (2 × 16 KiB) and per-node slab.
    public var stackPagesPerNode = 8, slabPagesPerNode = 8
    /// The boot allocations made under the init task's MPOL_INTERLEAVE policy, spread evenly
    /// over the interleave nodes when the machine has more than one (see `BootAllocations.interleaveNodes`):
    /// numa_policy_init() (start_kernel, after setup_per_cpu_pageset) sets it for pid 0, and
    /// kernel_init (pid 1, forked by rest_init before its numa_default_policy()) inherits it
    /// through copy_process's mpol_dup and keeps it over every initcall until the
    /// numa_default_policy() after free_initmem(). Its slab pages (alloc_slab_page → alloc_pages
    /// → alloc_page_interleave) and vmalloc pages (vm_area_alloc_pages → alloc_pages_bulk_array_mempolicy
    /// → alloc_pages_bulk_array_interleave: an equal share per node) alternate over the nodes;
    /// kthreads (kthreadd is forked after numa_default_policy) and the async initramfs unpack
    /// allocate on their own node. Calibrated: two-nodes-1g's node 1 (allocated = managed −
    /// free − pcp = 1373 pages; node1/meminfo: SUnreclaim 1776 kB, SReclaimable 176 kB,
    /// KernelStack 8 kB, Shmem 0) is half of each.
    public var interleavedSlabUnreclaimablePages = 888, interleavedSlabReclaimablePages = 88
    public var interleavedKernelStackPages = 4
    /// Of `otherKernelPages`, the small interleaved allocations besides the hash tables and the
    /// BPF pack (which `InterleavedVmalloc` places): 6.1.0-57 probes of two-node guests of
    /// 1G-4G in five shapes (tests/fixtures/numa-boot-probes: node N's allocated pages less its slab,
    /// stacks, hash share, pack share and the atomic pools the interleave put there) leave
    /// 12-17 pages on node 1, 15 on average (about 6 of them vmalloc: a forked stack's half,
    /// n_tty, gen_pool, the ehash locks, a BPF program; the rest their page tables and
    /// single pages); three 1G nodes leave 13 on nodes 1 and 2.
    public var interleavedOtherKernelPages = 30
    /// Pages parked on the per-cpu lists at the first observation besides the late frees, which
    /// reach them page by page (`freeReservedPages`): a-baseline.kernel.txt's DMA32 pcp 2636
    /// less its 2374 late-freed pages (initrd 372, initmem 706, the image gaps 510 + 277,
    /// decrypted bss 509). The captures' guest did less before its first look (`captures`).
    /// 262 when `anonPages` was 66: init's anon pages come off the same lists first, so the
    /// calibration keeps their sum (a-baseline DMA32 pcp 2620 and free 215899 against the
    /// kernel's 2636 and 215920; with 66 and 262: 2660 and 215836).
    public var pcpPages = 239
    /// NUMA events the boot leaves (`zone_statistics`: one per successful allocation call,
    /// whatever its order), measured on 6.1.0-57 with the runner's initramfs by reading
    /// /proc/zoneinfo, node0/numastat and /proc/vmstat at the first step (this session,
    /// notes/s8/counters8.md). The model's boot allocations are page-granular stand-ins (a slab
    /// of order 3 is one call, a vmalloc'ed stack four), so their own count is replaced by
    /// these. numa_hit over the whole node: 1G 6001 and 5993 (two runs), 2G 6006, 4G 6017,
    /// 1G movablecore=256M 5990, pool-grow-until-fail-1g's two runs 6376/6387 after 380
    /// pool pages: about 6000 + 6 per GiB above the first (hash tables, page tables of the
    /// direct map).
    public var numaBootAllocationCalls = 6000, numaBootAllocationCallsPerGiB = 6
    /// Of those, numa_interleave (alloc_page_interleave under the init task's MPOL_INTERLEAVE
    /// until numa_default_policy): 1G 633 and 637, 2G 646, 4G 654, movablecore 634.
    public var numaBootInterleaveHits = 633, numaBootInterleaveHitsPerGiB = 7
    /// Of those, the calls for user pages (GFP_HIGHUSER_MOVABLE: the unpacked initramfs, init's
    /// and the helpers' anon and page tables' user pages): with movablecore=256M ZONE_MOVABLE
    /// read numa_hit 903, numa_interleave 0. They land where the initramfs does.
    public var numaBootMovableCalls = 903
    /// Blocks (order, count) on node 0's MIGRATE_RECLAIMABLE pcp lists at the first observation,
    /// part of `pcpPages`: the remnants of the boot's reclaimable refills. Order 1, measured
    /// (6.1.0-57, tests/study/slab-probes/prc.trace.txt): the first order-1 slab came from the
    /// list, the second refilled 31 blocks, so exactly one. Order 0, measured (6.1.0-57, 1 GiB
    /// guest, 2026-12-07: 1100 first-time lookups of missing sysfs names with mm_page_alloc and
    /// mm_page_alloc_zone_locked traced for MIGRATE_RECLAIMABLE): 53 dentry slab pages, the
    /// first 28 from the list, then a refill of 63 (batch) — 28 at the first observation, of
    /// which the boot's late frees put 1 there in the model (free_unref_page into a reclaimable
    /// pageblock), so 27 here. (Session 7 first fitted 32: seed 153 agrees only with 29 or more.)
    public static let reclaimablePCPStock: [(order: Int, count: Int)] = [(0, 27), (1, 1)]
    /// What node 0's unmovable order-0 per-cpu list held when the boot's transient started on
    /// the machine `pcpPages` was calibrated on (a-baseline: 1 GiB, no DIMMs; the model's list,
    /// 53 pages). The transient takes `pcpPages` less this plus what the list holds, so its
    /// refills (`batch` pages each: 3 there) do not depend on the list's leftovers: with two
    /// cold-plugged 512M DIMMs the list holds 41 and 239 - 41 needed a fourth refill, a batch
    /// the kernel does not park (6.1.0-57, probes of seeds 149 and 207 with zone dumps: DMA32
    /// pcp 2602 without the DIMMs, 2590 with them; notes/s9/heldout9.md).
    public static let transientListBaseline = 53

    public init() {}
    public static let debian12QEMU = BootProfile()
    /// The reference captures (../shared/reference/linux-6.1-captures) booted a smaller
    /// busybox initramfs: `Freeing initrd memory: 1080K`, Shmem 1964 kB (v: 1168K).
    public static let captures: BootProfile = {
        var p = BootProfile()
        p.initrdBytes = 1080 << 10
        p.shmemPerInitrdPage = 1964.0 / 1080.0
        // a-baseline.txt's DMA32 pcp 2428 less 2272 late-freed pages (initrd 270, the rest as above).
        p.pcpPages = 156
        return p
    }()
}
