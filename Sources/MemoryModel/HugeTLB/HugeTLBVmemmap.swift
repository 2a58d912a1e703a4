/// HugeTLB Vmemmap Optimization (mm/hugetlb_vmemmap.c, 6.1): when a huge page enters the
/// pool its tail `struct page`s are remapped onto the first vmemmap page and the other
/// vmemmap pages go back to the buddy allocator; before the page leaves HugeTLB they must be
/// allocated again, which can fail (the seed commit's four cases).
///
/// Where the vmemmap physically lives matters: each 128 MiB section has 512 memmap pages
/// mapped by one PMD. Boot sections' memmaps are memblock (PageReserved) pages: freeing one
/// raises `managed_pages` (MemTotal). Hot-added sections' memmaps come from the buddy
/// allocator, and memmap_on_memory blocks host their own memmap, which is never optimized.
extension Machine {
    // MARK: Where each section's memmap lives

    /// Record that section `section`'s 512 memmap pages start at `start`. `bootmem`: memblock
    /// memory (PageReserved, boot) rather than one order-9 `.memmap` block without owner
    /// allocated from the buddy (hot-add). Memory hotplug calls this after populating a
    /// section's memmap; boot memory is registered by `hugetlbInit()` from the layout or
    /// through `registerBootMemmap`.
    public func registerSectionMemmap(section: Int, start: PFN, bootmem: Bool) {
        ensureVmemmapArrays()
        guard hugetlb.sectionMemmap.indices.contains(section) else { return }
        hugetlb.sectionMemmap[section] = start << 1 | (bootmem ? 1 : 0)
    }

    /// Record a section whose vmemmap is mapped with base pages: `pages` (512 order-0 `.memmap`
    /// pages without owner, in vmemmap order) under the PTE table `pteTable`. The slots of
    /// `replacedVmemmap` then say where every memmap page of the section is.
    func registerSectionBaseMemmap(section: Int, pages: [Int], pteTable: PFN) {
        ensureVmemmapArrays()
        let slots = (Geometry.pagesPerSection >> Geometry.pageblockOrder) * 8
        precondition(pages.count == slots)
        for (i, p) in pages.enumerated() { hugetlb.replacedVmemmap[section * slots + i] = UInt32(p) }
        hugetlb.splitPMD[section] = pteTable
        hugetlb.sectionMemmap[section] = Machine.sectionMemmapBasePages
    }

    /// `sectionMemmap` value of a hot-added section mapped with base pages (all in the slots).
    static let sectionMemmapBasePages = -2

    /// Whether the section's memmap is known: memblock, an order-9 block, or base pages.
    @inline(__always) func sectionMemmapKnown(_ section: Int) -> Bool {
        hugetlb.sectionMemmap.indices.contains(section) && hugetlb.sectionMemmap[section] != -1
    }

    /// Size the flat per-section and per-chunk arrays to the machine's pfn space.
    func ensureVmemmapArrays() {
        let sections = (memmap.pfnCount + Geometry.pagesPerSection - 1) / Geometry.pagesPerSection
        if hugetlb.sectionMemmap.count != sections {
            hugetlb.sectionMemmap = [Int](repeating: -1, count: sections)
            hugetlb.splitPMD = [Int](repeating: 0, count: sections)
            hugetlb.replacedVmemmap = [UInt32](repeating: UInt32.max, count: sections * (Geometry.pagesPerSection >> Geometry.pageblockOrder) * 8)
        }
    }

    /// The registered original memmap of a section: (first pfn, bootmem), or nil.
    @inline(__always) func sectionMemmapOf(_ section: Int) -> (start: PFN, bootmem: Bool)? {
        guard hugetlb.sectionMemmap.indices.contains(section) else { return nil }
        let v = hugetlb.sectionMemmap[section]
        return v < 0 ? nil : (v >> 1, v & 1 == 1)
    }

    /// A section goes away (hot-remove, `vmemmap_free` → `remove_pagetable`): forget its
    /// memmap and the PMD split, and free what the buddy gave: a PMD-mapped hot-added memmap
    /// as its order-9 block (`free_hugepage_table`); a PTE-mapped one page by page in vmemmap
    /// order (`remove_pte_table`: base pages, pages a restore allocated), then its PTE table
    /// (`free_pte_table`). Memblock memmaps are not given back here.
    public func hugetlbSectionRemoved(_ section: Int) {
        ensureVmemmapArrays()
        guard hugetlb.sectionMemmap.indices.contains(section) else { return }
        let v = hugetlb.sectionMemmap[section]
        hugetlb.sectionMemmap[section] = -1
        if v >= 0 && v & 1 == 0 {
            let start = v >> 1
            if memmap.kind(start) == .memmap && memmap.order(start) == Geometry.pageblockOrder {
                freePages(start, order: Geometry.pageblockOrder)
            }
        }
        let slots = (Geometry.pagesPerSection >> Geometry.pageblockOrder) * 8
        for i in (section * slots)..<((section + 1) * slots) where hugetlb.replacedVmemmap[i] != UInt32.max {
            let p = Int(hugetlb.replacedVmemmap[i])
            hugetlb.replacedVmemmap[i] = UInt32.max
            if memmap.kind(p) == .memmap { freePages(p, order: 0) }
        }
        let pt = hugetlb.splitPMD[section]
        hugetlb.splitPMD[section] = 0
        if pt != 0 && memmap.kind(pt) == .pageTable { freePages(pt, order: 0) }
    }

    /// Boot memory of `node`: its present sections' memmaps lie back to back in `range`
    /// (sparse_init's per-node buffer), 512 pages per section in ascending section order.
    public func registerBootMemmap(node: Int, range: PFNRange) {
        var next = range.start
        for s in presentSections(node: node) where next + 512 <= range.end {
            if sectionMemmapOf(s) == nil { registerSectionMemmap(section: s, start: next, bootmem: true) }
            next += 512
        }
    }

    /// Sections holding present pages of `node`, ascending.
    func presentSections(node: Int) -> [Int] {
        var out: [Int] = []
        let pbPerSection = Geometry.pagesPerSection >> Geometry.pageblockOrder
        let sections = (memmap.pfnCount + Geometry.pagesPerSection - 1) / Geometry.pagesPerSection
        for s in 0..<sections {
            for pb in (s * pbPerSection)..<Swift.min((s + 1) * pbPerSection, pageblockZone.count) {
                let z = pageblockZone[pb]
                if z != UInt16.max && zones[Int(z)].node == node { out.append(s); break }
            }
        }
        return out
    }

    /// The layout's memblock reservations labelled as memmap, per node.
    func registerBootMemmapFromLayout() {
        guard let layout else { return }
        for r in layout.reserved where r.label.lowercased().contains("memmap") && r.fate == .kept {
            registerBootMemmap(node: r.node, range: r.range)
        }
    }

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

    /// The pfn now backing vmemmap page `k` of the huge page at `head` (k-th 4 KiB of its
    /// `struct page`s), or nil when the section's memmap location is unknown.
    func vmemmapBacking(_ head: PFN, _ k: Int) -> PFN? {
        let chunk = (head >> Geometry.pageblockOrder) + k >> 3
        let j = k & 7
        let r = hugetlb.replacedVmemmap[chunk << 3 | j]
        if r != UInt32.max { return Int(r) }
        let chunkPFN = chunk << Geometry.pageblockOrder
        guard let s = sectionMemmapOf(chunkPFN / Geometry.pagesPerSection) else { return nil }
        return s.start + ((chunkPFN % Geometry.pagesPerSection) >> 6) + j
    }

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
        for s in first...last where hugetlb.splitPMD[s] == 0 {
            guard let pt = allocPages(order: 0, gfp: GFP.kernel.union(.zero), node: 0, kind: .pageTable) else {
                htlbExplain("vmemmap of the \(hugetlb.hstates[hi].sizeString) page at pfn \(hex(head)) stays: no page for the PTE table splitting section \(s)'s vmemmap PMD")
                return
            }
            hugetlb.splitPMD[s] = pt
            hugetlb.stats.pmdSplits += 1
            if let sm = sectionMemmapOf(s), !sm.bootmem { splitMemmapBlock(section: s, start: sm.start) }
        }
        let total = ((1 << order) * Geometry.structPageSize) >> Geometry.pageShift, kept = hugetlb.profile.keptPages
        for k in kept..<total {
            if let p = vmemmapBacking(head, k) { freeVmemmapPage(p) }
        }
        // The replaced pages are gone; a restore records fresh ones.
        let firstSlot = (head >> Geometry.pageblockOrder) << 3
        for i in (firstSlot + kept)..<(firstSlot + total) { hugetlb.replacedVmemmap[i] = UInt32.max }
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
        let slots = (Geometry.pagesPerSection >> Geometry.pageblockOrder) * 8
        precondition(n == slots)
        for (i, p) in (start..<(start + n)).enumerated() {
            memmap.setKind(p, .memmap)
            memmap.setOrder(p, 0)
            memmap.setOwner(p, 0)
            hugetlb.replacedVmemmap[section * slots + i] = UInt32(p)
        }
        hugetlb.sectionMemmap[section] = Machine.sectionMemmapBasePages
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
        var got: [UInt32] = []
        got.reserveCapacity(need)
        let gfp: GFP = [.kernel, .noretry, .thisnode]
        for _ in 0..<need {
            guard let p = allocPages(order: 0, gfp: gfp, node: nid, kind: .memmap) else { break }
            got.append(UInt32(p))
        }
        if got.count < need {
            for p in got { freePages(Int(p), order: 0) }
            hugetlb.stats.restoreFailures += 1
            let size = hugetlb.hstates[hi].sizeBytes >> 20
            htlbExplain("vmemmap restore for the \(size >= 1024 ? "1 GiB" : "\(size) MiB") page at pfn \(hex(head)) needs \(need) pages on node \(nid); \(kernelZonePressure(node: nid))")
            return false
        }
        let firstSlot = (head >> Geometry.pageblockOrder) << 3
        var i = 0
        for k in kept..<total {
            hugetlb.replacedVmemmap[firstSlot + k] = got[i]
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
