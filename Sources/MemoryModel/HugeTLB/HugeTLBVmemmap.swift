/// HugeTLB Vmemmap Optimization (mm/hugetlb_vmemmap.c, 6.1): when a huge page enters the
/// pool its tail `struct page`s are remapped onto the first vmemmap page and the other
/// vmemmap pages go back to the buddy allocator; before the page leaves HugeTLB they must be
/// allocated again, which can fail (the seed commit's four cases).
///
/// Where the vmemmap physically lives matters, and sparse-vmemmap owns that
/// (SparseVmemmap/): boot sections' memmaps are memblock (PageReserved) pages, whose freeing
/// raises `managed_pages` (MemTotal); hot-added sections' memmaps come from the buddy
/// allocator; memmap_on_memory blocks host their own memmap, which is never optimized. HVO
/// only splits PMDs, frees and re-allocates vmemmap pages, recording them in
/// `vmemmap.replacedVmemmap`.
extension Machine {
    // MARK: Controls

    /// `vm.hugetlb_optimize_vmemmap` (6.1): affects only pages allocated afterwards.
    public func setHugetlbOptimizeVmemmap(_ on: Bool) throws {
        guard hugetlb.anyOptimizable else { throw KernelError(.noSuchFileOrDirectory) }
        hugetlb.optimizeVmemmap = on
    }

    /// Select the vmemmap profile: what 5.14 or 6.1 keep and free (and whether the sysctl
    /// exists). Set it before `hugetlbInit` for the boot lines to match; refused (EBUSY) while
    /// any page is optimized, since the kept pages differ.
    public func setVmemmapProfile(_ p: HugeTLBState.VmemmapProfile) throws {
        guard hugetlb.stats.optimized == hugetlb.stats.restored else {
            throw KernelError(.resourceBusy, "pages are optimized")
        }
        hugetlb.profile = p
    }

    // MARK: Backing of vmemmap pages

    /// Whether the page's vmemmap is self-hosted (memmap_on_memory) — never optimized.
    func vmemmapSelfHosted(_ head: PFN) -> Bool {
        guard let b = blocks[head / blockPages] else { return false }
        return b.vmemmapPages > 0
    }

    /// `vmemmap_should_optimize` + the reason when not.
    func vmemmapWhyNot(_ hi: Int, _ head: PFN) -> String? {
        if !hugetlb.optimizeVmemmap { return "HVO is off" }
        if vmemmapSelfHosted(head) { return "its memmap is self-hosted (memmap_on_memory)" }
        let pages = 1 << hugetlb.hstates[hi].order
        let first = head / Geometry.pagesPerSection, last = (head + pages - 1) / Geometry.pagesPerSection
        for s in first...last where !sectionMemmapKnown(s) {
            return "the memmap of section \(s) is not registered"
        }
        return nil
    }

    // MARK: Optimize

    /// `hugetlb_vmemmap_optimize`: best effort, silent on failure.
    func hugetlbVmemmapOptimize(_ hi: Int, _ head: PFN) {
        guard hugetlb.optimizeVmemmap else { return }
        if vmemmapWhyNot(hi, head) != nil { return }
        let order = hugetlb.hstates[hi].order
        advance(nanoseconds: Machine.htlbVmemmapCostNs)
        // split_vmemmap_huge_pmd for every section the vmemmap range touches.
        let first = head / Geometry.pagesPerSection, last = (head + (1 << order) - 1) / Geometry.pagesPerSection
        for s in first...last where vmemmap.splitPMD[s] == 0 {
            guard let pt = allocPages(order: 0, gfp: GFP.kernel.union(.zero), node: 0, kind: .pageTable) else {
                htlbExplain(
                    "vmemmap of the \(hugetlb.hstates[hi].sizeString) page at pfn \(hex(head)) stays: no page for the PTE table splitting section \(s)'s vmemmap PMD"
                )
                return
            }
            vmemmap.splitPMD[s] = pt
            hugetlb.stats.pmdSplits += 1
            if let sm = sectionMemmapOf(s), !sm.bootmem { splitMemmapBlock(section: s, start: sm.start) }
        }
        let total = ((1 << order) * Geometry.structPageSize) >> Geometry.pageShift, kept = hugetlb.profile.keptPages
        for k in kept..<total {
            if let p = vmemmapBacking(head, k) { freeVmemmapPage(p) }
        }
        // The replaced pages are gone; a restore records fresh ones.
        let firstSlot = (head >> Geometry.pageblockOrder) << 3
        for i in (firstSlot + kept)..<(firstSlot + total) { vmemmap.setReplaced(i, nil) }
        insertHPFlags(head, .vmemmapOptimized)
        hugetlb.stats.optimized += 1
        hugetlb.stats.vmemmapPagesFreed += total - kept
    }

    /// `free_vmemmap_page`: memblock pages through `free_bootmem_page` (managed +1, so
    /// MemTotal grows), buddy pages through `__free_page`.
    func freeVmemmapPage(_ p: PFN) {
        guard let z = zoneIndex(ofPFN: p) else { return }
        switch memmap.kind(p) {
        case .reserved:
            zones[z].managedPages += 1
            memmap.setKind(p, .memmap)
            memmap.setOrder(p, 0)
            memmap.setOwner(p, 0)
            zones[z].kindPages[Int(PageKind.memmap.rawValue)] += 1
            hugetlb.stats.bootmemPagesFreed += 1
            freePages(p, order: 0)
        case .memmap:
            freePages(p, order: 0)
        default:
            htlbExplain("vmemmap page at pfn \(hex(p)) is a \(memmap.kind(p)) page; left alone")
        }
    }

    /// `split_page` of a hot-added section's order-9 memmap block once its PMD became a PTE
    /// table (`split_vmemmap_huge_pmd`), so single pages can be freed: from now on each page
    /// is tracked in the section's slots, as if it had been mapped with base pages.
    func splitMemmapBlock(section: Int, start: PFN) {
        guard memmap.kind(start) == .memmap, memmap.order(start) == Geometry.pageblockOrder else { return }
        let n = 1 << Geometry.pageblockOrder
        let slots = SparseVmemmap.slotsPerSection
        precondition(n == slots)
        for (i, p) in (start..<(start + n)).enumerated() {
            memmap.setKind(p, .memmap)
            memmap.setOrder(p, 0)
            memmap.setOwner(p, 0)
            vmemmap.setReplaced(section * slots + i, p)
        }
        vmemmap.sectionMemmap[section] = SparseVmemmap.basePages
    }

    // MARK: Restore

    /// `hugetlb_vmemmap_restore`: allocate the freed vmemmap pages again, one at a time with
    /// GFP_KERNEL|__GFP_NORETRY|__GFP_THISNODE on the huge page's node (kernel zones of that
    /// node only, one reclaim pass, no reserves); all or nothing. Returns false on failure,
    /// with the reason in the explain log and the allocator's warning in kmsg.
    func hugetlbVmemmapRestore(_ hi: Int, _ head: PFN) -> Bool {
        guard hpFlags(head).contains(.vmemmapOptimized) else { return true }
        let order = hugetlb.hstates[hi].order
        let nid = nodeOf(head)
        let total = ((1 << order) * Geometry.structPageSize) >> Geometry.pageShift, kept = hugetlb.profile.keptPages
        let need = total - kept
        advance(nanoseconds: Machine.htlbVmemmapCostNs)
        var got: [PFN] = []
        got.reserveCapacity(need)
        let gfp: GFP = [.kernel, .noretry, .thisnode]
        for _ in 0..<need {
            guard let p = allocPages(order: 0, gfp: gfp, node: nid, kind: .memmap) else { break }
            got.append(p)
        }
        if got.count < need {
            for p in got { freePages(Int(p), order: 0) }
            hugetlb.stats.restoreFailures += 1
            let size = hugetlb.hstates[hi].sizeBytes >> 20
            htlbExplain(
                "vmemmap restore for the \(size >= 1024 ? "1 GiB" : "\(size) MiB") page at pfn \(hex(head)) needs \(need) pages on node \(nid); \(kernelZonePressure(node: nid))"
            )
            return false
        }
        let firstSlot = (head >> Geometry.pageblockOrder) << 3
        var i = 0
        for k in kept..<total {
            vmemmap.setReplaced(firstSlot + k, got[i])
            i += 1
        }
        removeHPFlags(head, .vmemmapOptimized)
        hugetlb.stats.restored += 1
        hugetlb.stats.vmemmapPagesAllocated += need
        return true
    }

    /// "node N kernel zones have F free, below min watermark M" for the explain log.
    func kernelZonePressure(node nid: Int) -> String {
        var free = 0, floor = 0
        for t in [ZoneType.dma, .dma32, .normal] {
            let z = zones[zoneIndex(node: nid, type: t)]
            guard z.managedPages > 0 else { continue }
            free += z.freePages
            floor += z.watermark.min + z.lowmemReserve[ZoneType.normal.rawValue]
        }
        if floor == 0 && free == 0 { return "node \(nid) has no kernel zone (only ZONE_MOVABLE memory)" }
        return "node \(nid) kernel zones have \(free) free, below min watermark \(floor)"
    }
}
