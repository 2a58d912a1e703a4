/// Boot stage 9: what the kernel allocates from the buddy allocator between
/// memblock_free_all() and the first observation (sizes in `BootProfile`): slab, stacks,
/// page tables, init's anon and shmem, other kernel pages, the DMA atomic pools, pcp lists,
/// the cold-plugged DIMMs' memmaps, the hash tables and the BPF program pack, and with several
/// nodes the interleaved share.
extension BootLayout {
    static func bootAllocations(
        profile: BootProfile, params: KernelParameters, numa: NUMAMemory, nodes: [NodeLayout],
        dimms: [DIMMPlacement], blockSize: Int, initrd: PFNRange
    ) -> BootAllocations {
        let page = Geometry.pageSize
        let memoryRanges = numa.memoryRanges
        let memNodes = numa.nodeIDs.filter { !ranges(ofNode: $0, memoryRanges).isEmpty }
        let totalPages = memoryRanges.reduce(0) { $0 + $1.range.count }
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
        // Of those, the large kmallocs (no PG_slab): node 0's own, besides the interleaved part.
        ba.kmallocLarge = min(ba.slabUnreclaimable, profile.kmallocLargePages)
        ba.slabUnreclaimable -= ba.kmallocLarge
        ba.kernelStack = profile.kernelStackPages + extraNodes * profile.stackPagesPerNode
        ba.pageTables = profile.pageTablePages
        ba.anon = profile.anonPages
        ba.shmem = Int((Double(initrd.count) * profile.shmemPerInitrdPage).rounded())
        ba.activeShmem = min(ba.shmem, profile.activeShmemPages)
        ba.kernel = profile.otherKernelPages
        // Of those, the kvfree_rcu page cache: its own owner, freed by its shrinker.
        ba.kvfreeRCUCache = min(ba.kernel, profile.cpus * Machine.rcuMinCachedObjs)
        ba.kernel -= ba.kvfreeRCUCache
        // numa_policy_init(): interleave over N_MEMORY nodes of at least 16 MiB (else the largest).
        var areas = InterleavedVmalloc(nodes: [0], onlineNodes: 1)
        if memNodes.count > 1 {
            let present = memNodes.map { n in (n, ranges(ofNode: n, memoryRanges).reduce(0) { $0 + $1.count }) }
            var il = present.filter { $0.1 << Geometry.pageShift >= 16 * MiB }.map(\.0)
            if il.isEmpty, let largest = present.max(by: { $0.1 < $1.1 }) { il = [largest.0] }
            ba.interleaveNodes = il
            ba.slabUnreclaimableInterleaved = profile.interleavedSlabUnreclaimablePages
            ba.slabReclaimableInterleaved = profile.interleavedSlabReclaimablePages
            ba.kernelStackInterleaved = profile.interleavedKernelStackPages
            ba.kernelInterleaved = min(ba.kernel, profile.interleavedOtherKernelPages)
            // The online nodes: those with memory, and node 0 (the CPU's).
            areas = InterleavedVmalloc(nodes: il, onlineNodes: Set(memNodes + [0]).count)
        }
        // alloc_large_system_hash: with hashdist (more than one N_MEMORY node, page_alloc_init)
        // every table is vmalloc_huge'd under the interleave policy (dcache_init and inode_init
        // make theirs then too); on one node the dentry and inode tables are memblock
        // (`memblockReservations`) and the others linear pages (alloc_pages_exact), or
        // vmalloc_huge'd from MAX_ORDER up.
        let tables = largeSystemHashes(nrKernelPages: nrKernelPages(nodes), possibleCPUs: profile.cpus)
        for t in tables where memNodes.count > 1 || !t.early {
            if memNodes.count > 1 || t.pages > Geometry.maxOrderPages {
                areas.vmalloc(bytes: t.bytes, allowHuge: true)
            } else {
                areas.pages[0, default: 0] += t.pages
            }
        }
        // The BPF JIT's program pack (bpf_prog_pack_alloc → module_alloc, NUMA_NO_NODE, no huge
        // mapping): BPF_PROG_PACK_SIZE = 2 MiB × num_possible_nodes() (kernel/bpf/core.c).
        // 6.1.0-57's /proc/vmallocinfo: 512 pages on one node, 512 + 512 and a 2-page page
        // array on two, 1536 and 3 on three (tests/fixtures/numa-boot-probes).
        areas.vmalloc(bytes: (2 * MiB) * max(numa.nodeIDs.count, 1), allowHuge: false)
        ba.areaPages = areas.pages.filter { $0.value > 0 }
        ba.areaHugeBlocks = areas.hugeBlocks
        ba.dma = profile.dmaZonePages
        ba.atomicPoolOrder = atomicPoolOrder(nodes: nodes)
        ba.pcp = profile.pcpPages
        ba.numaCalls = profile.numaBootAllocationCalls + max(0, gib - 1) * profile.numaBootAllocationCallsPerGiB
        ba.numaInterleaveHits = profile.numaBootInterleaveHits + max(0, gib - 1) * profile.numaBootInterleaveHitsPerGiB
        ba.numaMovableCalls = profile.numaBootMovableCalls
        for d in dimms where d.accepted {
            let selfHosted = params.memmapOnMemory && d.sizeBytes == blockSize
            if !selfHosted {
                ba.coldPlugMemmap +=
                    d.sizeBytes / Geometry.sectionSize * (Geometry.pagesPerSection * Geometry.structPageSize / page)
            }
        }
        return ba
    }

    /// dma_atomic_pool_init(): 128 KiB per GiB of totalram_pages() at postcore time (what
    /// memblock_free_all and the deferred init gave the buddy allocator; the init sections,
    /// the initrd and boot gigantic pages come later), at least 128 KiB, at most MAX_ORDER-1.
    static func atomicPoolOrder(nodes: [NodeLayout]) -> Int {
        let page = Geometry.pageSize
        let totalramAtPostcore = nodes.flatMap(\.zones).reduce(0) {
            $0 + $1.presentPages - $1.reservedPages - $1.lateFreedPages - $1.giganticPages
        }
        let poolBytes = max(
            min(totalramAtPostcore / (GiB / (128 * KiB)), Geometry.maxOrderPages) << Geometry.pageShift, 128 * KiB)
        var poolOrder = 0
        while (page << poolOrder) < poolBytes { poolOrder += 1 }
        return min(poolOrder, Geometry.maxOrder - 1)
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
}
