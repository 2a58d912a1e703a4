/// Where every section's memmap (`struct page` array) physically lives: the state of the
/// vmemmap page tables that mm/sparse-vmemmap.c and mm/sparse.c build (and
/// arch/x86/mm/init_64.c `vmemmap_populate`/`vmemmap_free` change). Each 128 MiB section has
/// 512 memmap pages, mapped by one PMD until something splits it into a PTE table.
///
/// Memory hotplug populates and frees sections' memmaps here; HVO (mm/hugetlb_vmemmap.c)
/// splits PMDs and swaps the pages behind vmemmap ranges. Neither owns this state; both call
/// the functions in SectionMemmap.swift.
public struct SparseVmemmap: Sendable {
    /// Per section: where its original memmap (512 pages) sits, as `start << 1 | bootmem`
    /// (bootmem: memblock, PageReserved memory freed through `free_bootmem_page`; otherwise
    /// the order-9 `.memmap` block hot-add allocated); `basePages` when a hot-added section's
    /// memmap is mapped with base pages, all of them in `replacedVmemmap`; -1 unknown.
    public internal(set) var sectionMemmap: [Int] = []
    /// Per section: the page-table page its vmemmap PMD was split into, 0 while unsplit.
    public internal(set) var splitPMD: [Int] = []
    /// Per section, 8 slots per 2 MiB chunk (a global slot is `chunk << 3 | j`): the pfn now
    /// backing each of the chunk's 8 vmemmap pages when it is not the original page (a
    /// restore re-allocated it, or the section is mapped with base pages), stored as pfn + 1;
    /// 0 while the original page backs it (or, for a page HVO freed, nothing does). A
    /// section's list is allocated on its first replacement, so a 16 TiB machine's empty
    /// slots cost 8 bytes a section.
    var replacedVmemmap: [PFNList] = []
    /// `vmemmap_populate_hugepages` warned once that an order-9 block was not found.
    var allocWarned = false

    /// `sectionMemmap` value of a hot-added section mapped with base pages (all in the slots).
    public static let basePages = -2
    /// vmemmap pages per section: 8 per 2 MiB chunk (512 struct pages of 64 bytes).
    static let slotsPerSection = (Geometry.pagesPerSection >> Geometry.pageblockOrder) * 8

    /// Size the flat per-section and per-chunk arrays to a pfn space (no-op when sized).
    mutating func ensureSized(pfnCount: Int) {
        let sections = (pfnCount + Geometry.pagesPerSection - 1) / Geometry.pagesPerSection
        guard sectionMemmap.count != sections else { return }
        sectionMemmap = [Int](repeating: -1, count: sections)
        splitPMD = [Int](repeating: 0, count: sections)
        replacedVmemmap = [PFNList](repeating: PFNList(), count: sections)
    }

    /// The pfn backing global vmemmap slot `g` when it is not the original page, or nil.
    @inline(__always) func replaced(_ g: Int) -> PFN? {
        let s = g / Self.slotsPerSection
        guard !replacedVmemmap[s].isEmpty else { return nil }
        let v = replacedVmemmap[s][g % Self.slotsPerSection]
        return v == 0 ? nil : v - 1
    }

    /// Record (or, with nil, forget) the page backing global vmemmap slot `g`.
    mutating func setReplaced(_ g: Int, _ pfn: PFN?) {
        let s = g / Self.slotsPerSection
        if replacedVmemmap[s].isEmpty {
            guard pfn != nil else { return }
            replacedVmemmap[s] = PFNList(repeating: 0, count: Self.slotsPerSection)
        }
        replacedVmemmap[s][g % Self.slotsPerSection] = pfn.map { $0 + 1 } ?? 0
    }

    /// Whether the section's memmap is known: memblock, an order-9 block, or base pages.
    @inline(__always) func isKnown(_ section: Int) -> Bool {
        sectionMemmap.indices.contains(section) && sectionMemmap[section] != -1
    }

    /// The registered original memmap of a section: (first pfn, bootmem), or nil.
    @inline(__always) func memmapOf(_ section: Int) -> (start: PFN, bootmem: Bool)? {
        guard sectionMemmap.indices.contains(section) else { return nil }
        let v = sectionMemmap[section]
        return v < 0 ? nil : (v >> 1, v & 1 == 1)
    }

    /// Record that section `section`'s 512 memmap pages start at `start`.
    mutating func register(section: Int, start: PFN, bootmem: Bool) {
        guard sectionMemmap.indices.contains(section) else { return }
        sectionMemmap[section] = start << 1 | (bootmem ? 1 : 0)
    }

    /// Record a section mapped with base pages: `pages` in vmemmap order under `pteTable`.
    mutating func registerBasePages(section: Int, pages: [Int], pteTable: PFN) {
        precondition(pages.count == Self.slotsPerSection)
        for (i, p) in pages.enumerated() { setReplaced(section * Self.slotsPerSection + i, p) }
        splitPMD[section] = pteTable
        sectionMemmap[section] = Self.basePages
    }

    /// The pfn now backing vmemmap page `k` of the range of struct pages starting at `head`
    /// (k-th 4 KiB of its `struct page`s), or nil when the section's memmap location is
    /// unknown: the vmemmap page-table walk.
    func backing(_ head: PFN, _ k: Int) -> PFN? {
        let chunk = (head >> Geometry.pageblockOrder) + k >> 3
        let j = k & 7
        if let r = replaced(chunk << 3 | j) { return r }
        let chunkPFN = chunk << Geometry.pageblockOrder
        guard let s = memmapOf(chunkPFN / Geometry.pagesPerSection) else { return nil }
        return s.start + ((chunkPFN % Geometry.pagesPerSection) >> 6) + j
    }
}
