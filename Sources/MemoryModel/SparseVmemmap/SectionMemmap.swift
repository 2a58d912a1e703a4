/// Populating and freeing sections' memmaps (mm/sparse.c `section_activate` /
/// `section_deactivate`, mm/sparse-vmemmap.c, arch/x86/mm/init_64.c `vmemmap_populate` /
/// `vmemmap_free`), and registering the boot memmaps `sparse_init` placed. Memory hotplug
/// calls these per section; HVO reads and changes the mapping through `vmemmap`.
extension Machine {
    /// Record that section `section`'s 512 memmap pages start at `start`. `bootmem`: memblock
    /// memory (PageReserved, boot) rather than one order-9 `.memmap` block without owner
    /// allocated from the buddy (hot-add). Memory hotplug calls this after populating a
    /// section's memmap; boot memory is registered by `hugetlbInit()` from the layout or
    /// through `registerBootMemmap`.
    public func registerSectionMemmap(section: Int, start: PFN, bootmem: Bool) {
        ensureVmemmapArrays()
        vmemmap.register(section: section, start: start, bootmem: bootmem)
    }

    /// Record a section whose vmemmap is mapped with base pages: `pages` (512 order-0 `.memmap`
    /// pages without owner, in vmemmap order) under the PTE table `pteTable`.
    func registerSectionBaseMemmap(section: Int, pages: [Int], pteTable: PFN) {
        ensureVmemmapArrays()
        vmemmap.registerBasePages(section: section, pages: pages, pteTable: pteTable)
    }

    /// Whether the section's memmap is known: memblock, an order-9 block, or base pages.
    @inline(__always) func sectionMemmapKnown(_ section: Int) -> Bool { vmemmap.isKnown(section) }

    /// Size the flat per-section and per-chunk arrays to the machine's pfn space.
    func ensureVmemmapArrays() { vmemmap.ensureSized(pfnCount: memmap.pfnCount) }

    /// The registered original memmap of a section: (first pfn, bootmem), or nil.
    @inline(__always) func sectionMemmapOf(_ section: Int) -> (start: PFN, bootmem: Bool)? { vmemmap.memmapOf(section) }

    /// The pfn now backing vmemmap page `k` of the huge page at `head`, or nil.
    func vmemmapBacking(_ head: PFN, _ k: Int) -> PFN? { vmemmap.backing(head, k) }

    // MARK: Hot-add and hot-remove

    /// `vmemmap_populate` of one hot-added section (arch/x86/mm/init_64.c): the section's
    /// 2 MiB of `struct page`s is exactly one PMD, so `vmemmap_populate_hugepages` asks
    /// `vmemmap_alloc_block_buf(PMD_SIZE)` → `vmemmap_alloc_block` → `alloc_pages_node(nid,
    /// GFP_KERNEL|__GFP_RETRY_MAYFAIL|__GFP_NOWARN, 9)`: one order-9 unmovable block, preferring
    /// the node's kernel zones and falling back along its zonelist. Only when that fails (the
    /// first failure warns once) is the range mapped with base pages
    /// (`vmemmap_populate_basepages`): a PTE table page, then 512 order-0 pages, one by one.
    /// The vmemmap PMD table covering the section exists already (one per 64 GiB of physical
    /// address space, populated at boot). Returns false when the memory could not be found
    /// (nothing stays allocated then).
    func populateSectionMemmap(_ section: Int, node: Int) -> Bool {
        ensureVmemmapArrays()
        let gfp: GFP = [.kernel, .retryMayfail, .nowarn]
        if let p = allocPages(order: Geometry.pageblockOrder, gfp: gfp, node: node, kind: .memmap) {
            registerSectionMemmap(section: section, start: p, bootmem: false)
            return true
        }
        if !vmemmap.allocWarned {
            vmemmap.allocWarned = true
            log(
                "vmemmap alloc failure: order:\(Geometry.pageblockOrder), mode:\(gfp.subtracting(.nowarn)), nodemask=(null)"
            )
        }
        guard let pt = allocPages(order: 0, gfp: gfp.union(.zero), node: node, kind: .pageTable) else { return false }
        let perSection = Geometry.pagesPerSection * Geometry.structPageSize / Geometry.pageSize
        var got: [Int] = []
        got.reserveCapacity(perSection)
        for _ in 0..<perSection {
            guard let p = allocPages(order: 0, gfp: gfp, node: node, kind: .memmap) else { break }
            got.append(p)
        }
        if got.count < perSection {
            // section_deactivate → vmemmap_free: the pages, then the PTE table.
            for p in got { freePages(p, order: 0) }
            freePages(pt, order: 0)
            return false
        }
        registerSectionBaseMemmap(section: section, pages: got, pteTable: pt)
        return true
    }

    /// A section goes away (`section_deactivate` → `depopulate_section_memmap` →
    /// `vmemmap_free` → `remove_pagetable`, on hot-remove or a failed hot-add): forget its
    /// memmap and the PMD split, and free what the buddy gave: a PMD-mapped hot-added memmap
    /// as its order-9 block (`free_hugepage_table`); a PTE-mapped one page by page in vmemmap
    /// order (`remove_pte_table`: base pages, pages a restore allocated), then its PTE table
    /// (`free_pte_table`). Memblock memmaps are not given back here.
    public func vmemmapFreeSection(_ section: Int) {
        ensureVmemmapArrays()
        guard vmemmap.sectionMemmap.indices.contains(section) else { return }
        let v = vmemmap.sectionMemmap[section]
        vmemmap.sectionMemmap[section] = -1
        if v >= 0 && v & 1 == 0 {
            let start = v >> 1
            if memmap.kind(start) == .memmap && memmap.order(start) == Geometry.pageblockOrder {
                freePages(start, order: Geometry.pageblockOrder)
            }
        }
        let slots = SparseVmemmap.slotsPerSection
        for i in (section * slots)..<((section + 1) * slots) {
            guard let p = vmemmap.replaced(i) else { continue }
            vmemmap.setReplaced(i, nil)
            if memmap.kind(p) == .memmap { freePages(p, order: 0) }
        }
        let pt = vmemmap.splitPMD[section]
        vmemmap.splitPMD[section] = 0
        if pt != 0 && memmap.kind(pt) == .pageTable { freePages(pt, order: 0) }
    }

    // MARK: Boot memmaps

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
            for pb in (s * pbPerSection)..<Swift.min((s + 1) * pbPerSection, pageblocks.zone.count) {
                let z = pageblocks.zone[pb]
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
}
