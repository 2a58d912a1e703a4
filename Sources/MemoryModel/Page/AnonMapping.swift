/// A process's private anonymous mapping touched page by page (`do_anonymous_page`): the first
/// fault in each 2 MiB of the address space allocates the PTE page that maps it (`__pte_alloc`,
/// GFP_PGTABLE_USER: unmovable, from the zone's unmovable pcp list), then the faulting page.
/// munmap and exit free both (`free_pgtables`). A 128 MiB `hold anon` adds 65 page-table pages
/// on 6.1.0-57 (campaign seed 185 with a zone dump: nr_page_table_pages 18 → 83): the mapping
/// spans 65 PMD entries because user mmap addresses are only page-aligned (mmap_base is
/// randomized in pages), so its first and last 2 MiB are partial.
public enum AnonMapping {
    /// PTRS_PER_PTE: the pages one PTE page maps.
    public static let ptesPerTable = 512
    /// Where in its first 2 MiB the mapping starts, in pages. Any offset but 0 gives the same
    /// page-table count (one more than an aligned mapping); the model takes the middle.
    public static let startOffset = ptesPerTable / 2

    /// Pages of the first table's part, then of each further table, for a mapping of `pages`.
    public static func runs(pages: Int) -> [Int] {
        var runs: [Int] = []
        var left = pages
        var room = ptesPerTable - startOffset
        while left > 0 {
            let n = Swift.min(left, room)
            runs.append(n)
            left -= n
            room = ptesPerTable
        }
        return runs
    }
}

extension Machine {
    /// Create the owner of an anonymous mapping together with the owner of its page tables
    /// (freed with it by `destroyOwner`).
    public func createAnonOwner(name: String, kind: PageKind = .anon, node: Int = 0, bound: Bool = false) throws -> Int
    {
        let id = try createOwner(name: name, kind: kind, node: node, bound: bound)
        do {
            let pt = try createOwner(name: name + ":pgtables", kind: .pageTable, node: node, bound: bound)
            owners.slots[id]!.xarrayOwner = pt
        } catch {
            destroyOwner(id)
            throw error
        }
        return id
    }

    /// Fault in `count` pages of a mapping made by `createAnonOwner`, in address order: each
    /// 2 MiB's PTE page, then its pages. Returns the pages faulted in (fewer: ENOMEM).
    @discardableResult
    public func faultAnonPages(owner id: Int, pages count: Int) -> Int {
        guard let pt = owners[id].map({ $0.xarrayOwner }) else { return 0 }
        guard pt != 0 else { return allocate(owner: id, blocks: count) }
        var done = 0
        for run in AnonMapping.runs(pages: count) {
            guard owners[pt] != nil, allocate(owner: pt, blocks: 1) == 1 else { break }
            let got = allocate(owner: id, blocks: run)
            done += got
            if got < run { break }
        }
        return done
    }
}
