/// Users of huge pages: a hugetlbfs file mapped shared, or a `MAP_HUGETLB` anonymous private
/// mapping. The kernel reserves at mmap (`hugetlb_reserve_pages` → `hugetlb_acct_memory` →
/// `gather_surplus_pages`), takes pages at fault (`alloc_huge_page`: a reserved free page,
/// else a surplus page within `nr_overcommit_hugepages`), and gives them back at unmap
/// (`free_huge_page` per page, then `return_unused_surplus_pages` for unused reservations).
public struct HugeTLBMapping: Sendable {
    public let id: Int
    public let name: String
    /// Index into `HugeTLBState.hstates`.
    public let hstate: Int
    /// MAP_SHARED of a hugetlbfs file (unlinked when unmapped) rather than MAP_PRIVATE.
    public let shared: Bool
    /// MAP_NORESERVE: nothing reserved at mmap, faults may fail.
    public let noreserve: Bool
    /// The node faults prefer (the task's CPU node, or an mbind preferred node).
    public let node: Int
    /// Head pfn of the page at each index, 0 while not faulted.
    public internal(set) var pages: PFNList
    /// Reservations still held for indices not yet faulted.
    public internal(set) var reserved: Int
    public var faulted: Int { pages.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
}

extension Machine {
    /// `mmap` of `count` huge pages of `sizeBytes` (default size when nil). Throws ENOMEM
    /// when the reservation cannot be met (not enough free pages, and surplus pages beyond
    /// `nr_overcommit_hugepages` or the buddy allocator refusing), EINVAL for an unknown size.
    @discardableResult
    public func mmapHugePages(
        name: String, count: Int, sizeBytes: Int? = nil, shared: Bool = false,
        noreserve: Bool = false, node: Int = 0
    ) throws -> Int {
        enterKernel()
        defer { exitToUserMode() }
        guard hugetlb.initialized, count > 0 else { throw KernelError(.invalidArgument) }
        let found: Int? = sizeBytes == nil ? hugetlb.defaultIndex : hugetlb.index(ofSizeBytes: sizeBytes!)
        guard let hi = found else {
            throw KernelError(.invalidArgument, "no hstate of that size")
        }
        if !noreserve {
            guard hugetlbAcctMemory(hi, delta: count) else {
                htlbExplain(
                    "mmap of \(count) \(hugetlb.hstates[hi].name) pages by \(name): cannot reserve them (free \(hugetlb.hstates[hi].freeHugePages), reserved \(hugetlb.hstates[hi].resvHugePages), surplus \(hugetlb.hstates[hi].surplusHugePages) of \(hugetlb.hstates[hi].nrOvercommitHugePages) overcommit)"
                )
                throw KernelError(.noMemory, "hugetlb reservation failed")
            }
        }
        let id = hugetlb.nextMappingID
        hugetlb.nextMappingID += 1
        hugetlb.mappings[id] = HugeTLBMapping(
            id: id, name: name, hstate: hi, shared: shared, noreserve: noreserve,
            node: nodes.indices.contains(node) ? node : 0,
            pages: PFNList(repeating: 0, count: count), reserved: noreserve ? 0 : count)
        return id
    }

    /// Touch every page of the mapping (MAP_POPULATE, or a loop writing each page). Returns
    /// how many pages were faulted in; a fault that finds no page is the SIGBUS the process
    /// would get (EFAULT here, with the reason in the explain log).
    @discardableResult
    public func faultHugePages(mapping id: Int, range: Range<Int>? = nil) throws -> Int {
        enterKernel()
        defer { exitToUserMode() }
        guard let m = hugetlb.mappings[id] else { throw KernelError(.invalidArgument, "no mapping \(id)") }
        let range = range ?? 0..<m.pages.count
        // A caller's range past the mapping would index out of its pages: refused whole, as
        // faultHugePage refuses one index outside the mapping.
        guard range.lowerBound >= 0 && range.upperBound <= m.pages.count else {
            throw KernelError(.invalidArgument, "pages \(range) outside mapping \(id) of \(m.pages.count)")
        }
        var done = 0
        // Invariant: only munmapHugePages removes a mapping, and no fault path calls it.
        for i in range where hugetlb.mappings[id]!.pages[i] == 0 {
            try faultHugePage(mapping: id, index: i)
            done += 1
        }
        return done
    }

    /// `hugetlb_no_page` → `alloc_huge_page` for one index.
    public func faultHugePage(mapping id: Int, index: Int) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard let m = hugetlb.mappings[id], m.pages.indices.contains(index) else { throw KernelError(.invalidArgument) }
        guard m.pages[index] == 0 else { return }
        // Invariant for the `mappings[id]!` below: checked just above, and only
        // munmapHugePages removes a mapping (no allocation or reclaim path calls it).
        let hi = m.hstate
        let hasReserve = m.reserved > 0
        var page: PFN?
        // dequeue_huge_page_vma: without a reservation only unreserved free pages qualify.
        if hasReserve || hugetlb.hstates[hi].availableHugePages > 0 {
            let gfp = htlbAllocMask(hi)
            var seen = Set<Int>()
            for z in zonelist(gfp: gfp, node: m.node) where seen.insert(zones[z].node).inserted {
                if let p = dequeueHugePageNodeExact(hi, node: zones[z].node) { page = p; break }
            }
            if page != nil && hasReserve {
                hugetlb.hstates[hi].resvHugePages -= 1
                hugetlb.mappings[id]!.reserved -= 1
            }
        }
        if page == nil {
            page = allocSurplusHugePage(hi, gfp: htlbAllocMask(hi), node: m.node, nodemask: nil)
            if page != nil && hasReserve {
                hugetlb.hstates[hi].resvHugePages -= 1
                hugetlb.mappings[id]!.reserved -= 1
            }
        }
        guard let head = page else {
            let h = hugetlb.hstates[hi]
            htlbExplain(
                "\(m.name) page \(index): SIGBUS, no free \(h.name) page and no surplus page (surplus \(h.surplusHugePages) of \(h.nrOvercommitHugePages) overcommit, or the allocator refused)"
            )
            throw KernelError(.badAddress, "SIGBUS")
        }
        hugetlb.mappings[id]!.pages[index] = head
        hugetlb.mapped[head] = .init(mapping: id, index: index)
    }

    /// `munmap`/exit: every faulted page is freed (the last reference), then the unused
    /// reservations are returned, which frees unused surplus pages.
    public func munmapHugePages(mapping id: Int) {
        enterKernel()
        defer { exitToUserMode() }
        guard let m = hugetlb.mappings[id] else { return }
        for p in m.pages where p != 0 { freeHugePage(Int(p)) }
        hugetlb.mappings[id] = nil
        if m.reserved > 0 { hugetlbAcctMemory(m.hstate, delta: -m.reserved) }
    }

    /// `alloc_surplus_huge_page`: refused once `surplus >= nr_overcommit_hugepages`, never
    /// for gigantic sizes. The page is in use (refcounted) and counted surplus.
    func allocSurplusHugePage(_ hi: Int, gfp: GFP, node nid: Int, nodemask: [Int]?) -> PFN? {
        let h = hugetlb.hstates[hi]
        guard !h.isGigantic, h.surplusHugePages < h.nrOvercommitHugePages else { return nil }
        guard let page = allocFreshHugePage(hi, gfp: gfp, node: nid, nodemask: nodemask, noretry: nil) else {
            return nil
        }
        let n = nodeOf(page)
        hugetlb.hstates[hi].surplusHugePages += 1
        hugetlb.hstates[hi].surplusHugePagesNode[n] += 1
        return page
    }

    /// `hugetlb_acct_memory`: reserve (`delta > 0`, may gather surplus pages) or release.
    @discardableResult
    func hugetlbAcctMemory(_ hi: Int, delta: Int) -> Bool {
        if delta > 0 {
            guard gatherSurplusPages(hi, delta: delta) else { return false }
            // allowed_mems_nr: the free pages of the nodes the task may use.
            if delta > hugetlb.hstates[hi].freeHugePagesNode.reduce(0, +) {
                returnUnusedSurplusPages(hi, delta)
                return false
            }
            return true
        }
        if delta < 0 { returnUnusedSurplusPages(hi, -delta) }
        return true
    }

    /// `gather_surplus_pages`: allocate surplus pages until free pages cover the reservations.
    func gatherSurplusPages(_ hi: Int, delta: Int) -> Bool {
        let h = hugetlb.hstates[hi]
        let needed = h.resvHugePages + delta - h.freeHugePages
        if needed <= 0 {
            hugetlb.hstates[hi].resvHugePages += delta
            return true
        }
        var list: [PFN] = []
        for _ in 0..<needed {
            guard let p = allocSurplusHugePage(hi, gfp: htlbAllocMask(hi), node: 0, nodemask: nil) else { break }
            list.append(p)
        }
        if list.count < needed {
            // Not enough: every page allocated goes back (free_huge_page on surplus pages).
            for p in list { freeHugePage(p) }
            return false
        }
        hugetlb.hstates[hi].resvHugePages += delta
        for p in list { enqueueHugePage(hi, p) }
        return true
    }

    /// `return_unused_surplus_pages`: drop `n` reservations and free up to that many free
    /// surplus pages (each needs its vmemmap back; a failure keeps it as a free surplus page).
    func returnUnusedSurplusPages(_ hi: Int, _ n: Int) {
        hugetlb.hstates[hi].resvHugePages -= n
        if hugetlb.hstates[hi].isGigantic { return }
        var left = Swift.min(n, hugetlb.hstates[hi].surplusHugePages)
        var list: [PFN] = []
        let allowed = nodesWithMemory()
        while left > 0, let p = removePoolHugePage(hi, allowed, acctSurplus: true) {
            list.append(p)
            left -= 1
        }
        for p in list { updateAndFreePage(hi, p) }
    }

    /// Drop a mapping's reference to one page (a partial munmap or MADV_DONTNEED of a
    /// private page): the page is freed, its reservation is not given back.
    public func releaseHugePage(mapping id: Int, index: Int) {
        enterKernel()
        defer { exitToUserMode() }
        guard let m = hugetlb.mappings[id], m.pages.indices.contains(index), m.pages[index] != 0 else { return }
        let head = Int(m.pages[index])
        hugetlb.mappings[id]!.pages[index] = 0  // checked by the guard just above
        freeHugePage(head)
    }
}
