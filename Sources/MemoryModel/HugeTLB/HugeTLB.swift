#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HugeTLB pools as mm/hugetlb.c of 6.1 keeps them: hstates (2 MiB, and 1 GiB with
/// gbpages), per-node free lists and counters, `set_max_huge_pages`, the free path with
/// its surplus rule, boot-time allocation and the boot messages.
///
/// The kernel drops `hugetlb_lock` around every allocation and vmemmap restore; the model
/// runs the same steps in the same order without concurrency, so the counters move exactly
/// as they would with nobody racing.
extension Machine {
    // MARK: Per-page flags and lookups

    @inline(__always) func hpFlags(_ head: PFN) -> HugeTLBState.PageFlags {
        HugeTLBState.PageFlags(rawValue: hugetlb.flags[head >> Geometry.pageblockOrder])
    }
    @inline(__always) func setHPFlags(_ head: PFN, _ f: HugeTLBState.PageFlags) {
        hugetlb.flags[head >> Geometry.pageblockOrder] = f.rawValue
    }
    @inline(__always) func insertHPFlags(_ head: PFN, _ f: HugeTLBState.PageFlags) {
        hugetlb.flags[head >> Geometry.pageblockOrder] |= f.rawValue
    }
    @inline(__always) func removeHPFlags(_ head: PFN, _ f: HugeTLBState.PageFlags) {
        hugetlb.flags[head >> Geometry.pageblockOrder] &= ~f.rawValue
    }

    /// The node a present pfn belongs to.
    @inline(__always) func nodeOf(_ pfn: PFN) -> Int { zones[zoneIndex(ofPFN: pfn)!].node }

    /// The hstate of a huge page head (by its order).
    @inline(__always) func hstateIndex(ofOrder order: Int) -> Int? {
        for i in hugetlb.hstates.indices where hugetlb.hstates[i].order == order { return i }
        return nil
    }

    /// The head of the HugeTLB page `pfn` belongs to (`PageHuge` + `compound_head`), or nil.
    public func hugePageHead(containing pfn: PFN) -> PFN? {
        guard pfn >= 0, pfn < memmap.pfnCount else { return nil }
        let k = memmap.kind(pfn)
        if k == .hugetlb { return pfn }
        guard k == .tail else { return nil }
        let h = memmap.head(of: pfn)
        return memmap.kind(h) == .hugetlb ? h : nil
    }

    func htlbExplain(_ message: String) { explain.add(time: clock, "hugetlb", message) }

    /// `htlb_alloc_mask`: 2 MiB pages may live in ZONE_MOVABLE, gigantic ones never (6.1).
    func htlbAllocMask(_ hi: Int) -> GFP { hugetlb.hstates[hi].isGigantic ? .highuser : .highuserMovable }

    // MARK: hugetlb_init

    /// `hugetlb_init` (subsys_initcall) and the late HVO init: register the hstates the
    /// command line asked for (2 MiB always), allocate the boot pools (`hugepages=`), put
    /// boot-time gigantic pages (the layout's `.gigantic` memblock ranges) into their pool,
    /// and print `report_hugepages`' lines. The lead calls this once at the end of boot.
    public func hugetlbInit() {
        guard !hugetlb.initialized else { return }
        hugetlb.initialized = true
        let nodeCount = nodes.count
        hugetlb.flags = [UInt8](repeating: 0, count: (memmap.pfnCount >> Geometry.pageblockOrder) + 1)
        ensureVmemmapArrays()
        hugetlb.optimizeVmemmap = params.hugetlbFreeVmemmap
        var requests = params.hugepages
        if !requests.contains(where: { $0.sizeBytes == 2 << 20 }) { requests.append(.init(sizeBytes: 2 << 20)) }
        for r in requests {
            let order = (r.sizeBytes >> Geometry.pageShift).trailingZeroBitCount
            if r.sizeBytes == 1 << 30 && !config.gbpages { continue }
            guard hugetlb.index(ofSizeBytes: r.sizeBytes) == nil else { continue }
            var h = HState(order: order, nodeCount: nodeCount)
            h.maxHugePages = r.count
            for (n, c) in r.perNode where n < nodeCount { h.maxHugePagesNode[n] = c }
            hugetlb.hstates.append(h)
        }
        hugetlb.defaultIndex =
            hugetlb.index(ofSizeBytes: params.defaultHugePageSizeBytes)
            ?? hugetlb.index(ofSizeBytes: 2 << 20)!
        // demote_order: the largest smaller hstate (gigantic pages are runtime-freeable on x86_64).
        for i in hugetlb.hstates.indices {
            for j in hugetlb.hstates.indices where j != i {
                let o = hugetlb.hstates[j].order
                if o < hugetlb.hstates[i].order && o > hugetlb.hstates[i].demoteOrder {
                    hugetlb.hstates[i].demoteOrder = o
                }
            }
        }
        registerBootMemmapFromLayout()
        // hugetlb_init_hstates: the buddy-allocated pools; then gather_bootmem_prealloc.
        for i in hugetlb.hstates.indices where !hugetlb.hstates[i].isGigantic { hstateAllocBootPages(i) }
        gatherBootmemGigantic()
        for h in hugetlb.hstates {
            switch hugetlb.profile {
            case .linux61:
                log("HugeTLB: registered \(h.sizeString) page size, pre-allocated \(h.freeHugePages) pages")
                log(vmemmapBootLine(h))
            case .linux514:
                if hugetlb.optimizeVmemmap { log(vmemmapBootLine(h)) }
                log("HugeTLB registered \(h.sizeString) page size, pre-allocated \(h.freeHugePages) pages")
            }
        }
    }

    /// The boot line about HVO: 6.1 prints it for every hstate, even with HVO off; 5.14
    /// only when HVO is on, in its own words.
    func vmemmapBootLine(_ h: HState) -> String {
        let freeable = vmemmapFreeablePages(h)
        switch hugetlb.profile {
        case .linux61: return "HugeTLB: \(freeable * 4) KiB vmemmap can be freed for a \(h.sizeString) page"
        case .linux514: return "HugeTLB: can free \(freeable) vmemmap pages for \(h.name)"
        }
    }

    /// vmemmap pages per huge page (`hugetlb_vmemmap_size / PAGE_SIZE`): 8 or 4096.
    @inline(__always) func vmemmapPages(_ h: HState) -> Int {
        (h.pages * Geometry.structPageSize) >> Geometry.pageShift
    }
    /// Pages HVO gives back per huge page: 7 / 4095 (6.1), 6 / 4094 (5.14).
    public func vmemmapFreeablePages(_ h: HState) -> Int { vmemmapPages(h) - hugetlb.profile.keptPages }

    /// `hugetlb_hstate_alloc_pages` for a buddy-allocated size.
    func hstateAllocBootPages(_ hi: Int) {
        let h = hugetlb.hstates[hi]
        guard h.maxHugePages > 0 else { return }
        let memNodes = nodesWithMemory()
        if h.maxHugePagesNode.contains(where: { $0 > 0 }) {
            for n in nodes.indices where h.maxHugePagesNode[n] > 0 {
                let want = hugetlb.hstates[hi].maxHugePagesNode[n]
                var got = 0
                while got < want {
                    guard
                        let page = allocFreshHugePage(
                            hi, gfp: htlbAllocMask(hi).union(.thisnode), node: n,
                            nodemask: memNodes, noretry: nil)
                    else { break }
                    freeHugePage(page)
                    got += 1
                }
                if got < want {
                    log(
                        "HugeTLB: allocating \(want) of page size \(h.sizeString) failed node\(n).  Only allocated \(got) hugepages."
                    )
                    hugetlb.hstates[hi].maxHugePages -= want - got
                    hugetlb.hstates[hi].maxHugePagesNode[n] = got
                }
            }
            return
        }
        var noretry = Set<Int>()
        var i = 0
        while i < h.maxHugePages {
            guard allocPoolHugePage(hi, nodesAllowed: memNodes, noretry: &noretry) else { break }
            i += 1
        }
        if i < h.maxHugePages {
            log(
                "HugeTLB: allocating \(h.maxHugePages) of page size \(h.sizeString) failed.  Only allocated \(i) hugepages."
            )
            hugetlb.hstates[hi].maxHugePages = i
        }
    }

    /// `gather_bootmem_prealloc`: the memblock-allocated gigantic pages join the pool (and
    /// become managed pages again). Without a layout (synthetic machines) the pages come from
    /// the contiguous allocator instead.
    func gatherBootmemGigantic() {
        guard let gi = hugetlb.hstates.firstIndex(where: { $0.isGigantic }) else { return }
        let h = hugetlb.hstates[gi]
        if let layout {
            var gathered = 0
            for r in layout.reserved where r.fate == .gigantic && r.range.count == h.pages {
                let head = r.range.start
                switch memmap.kind(head) {
                case .reserved:
                    guard let z = zoneIndex(ofPFN: head) else { continue }
                    memmap.fill(r.range, kind: .tail)
                    memmap.setKind(head, .hugetlb)
                    memmap.setOrder(head, h.order)
                    zones[z].managedPages += h.pages
                    zones[z].kindPages[Int(PageKind.hugetlb.rawValue)] += h.pages
                case .hugetlb:
                    break
                default:
                    continue
                }
                prepNewHugePage(gi, head)
                freeHugePage(head)
                gathered += 1
            }
            if gathered > 0 || h.maxHugePages > 0 { hugetlb.hstates[gi].maxHugePages = gathered }
            return
        }
        guard h.maxHugePages > 0 else { return }
        let memNodes = nodesWithMemory()
        var got = 0
        if h.maxHugePagesNode.contains(where: { $0 > 0 }) {
            for n in nodes.indices where h.maxHugePagesNode[n] > 0 {
                var k = 0
                while k < h.maxHugePagesNode[n],
                    let p = allocFreshHugePage(
                        gi, gfp: htlbAllocMask(gi).union(.thisnode), node: n, nodemask: memNodes, noretry: nil)
                {
                    freeHugePage(p); k += 1; got += 1
                }
            }
        } else {
            var noretry = Set<Int>()
            while got < h.maxHugePages, allocPoolHugePage(gi, nodesAllowed: memNodes, noretry: &noretry) { got += 1 }
        }
        if got < h.maxHugePages {
            log(
                "HugeTLB: allocating \(h.maxHugePages) of page size \(h.sizeString) failed.  Only allocated \(got) hugepages."
            )
        }
        hugetlb.hstates[gi].maxHugePages = got
    }

    // MARK: Node round robin (hstate_next_node_to_alloc / _to_free)

    /// `next_node_in`: the next node of `allowed` after `nid`, wrapping.
    func nextNodeIn(_ nid: Int, _ allowed: [Int]) -> Int {
        for n in allowed where n > nid { return n }
        return allowed.first ?? nid
    }
    func nextNodeToAlloc(_ hi: Int, _ allowed: [Int]) -> Int {
        var nid = hugetlb.hstates[hi].nextNidToAlloc
        if !allowed.contains(nid) { nid = nextNodeIn(nid, allowed) }
        hugetlb.hstates[hi].nextNidToAlloc = nextNodeIn(nid, allowed)
        return nid
    }
    func nextNodeToFree(_ hi: Int, _ allowed: [Int]) -> Int {
        var nid = hugetlb.hstates[hi].nextNidToFree
        if !allowed.contains(nid) { nid = nextNodeIn(nid, allowed) }
        hugetlb.hstates[hi].nextNidToFree = nextNodeIn(nid, allowed)
        return nid
    }

    // MARK: Pool list primitives

    /// `enqueue_huge_page`.
    func enqueueHugePage(_ hi: Int, _ head: PFN) {
        let nid = nodeOf(head)
        memmap.setLink(head, hugetlb.hstates[hi].freeLists.push(nid, head))
        hugetlb.hstates[hi].freeHugePages += 1
        hugetlb.hstates[hi].freeHugePagesNode[nid] += 1
        insertHPFlags(head, .freed)
    }

    /// Unlink a free page from its node's free list (`list_del`; O(1), the others keep their order).
    func unlinkFreeHugePage(_ hi: Int, _ head: PFN, node nid: Int) {
        hugetlb.hstates[hi].freeLists.remove(nid, node: memmap.link(head))
        hugetlb.hstates[hi].freeHugePages -= 1
        hugetlb.hstates[hi].freeHugePagesNode[nid] -= 1
        removeHPFlags(head, .freed)
    }

    /// `dequeue_huge_page_node_exact`: the head of the node's free list, now in use.
    func dequeueHugePageNodeExact(_ hi: Int, node nid: Int, avoidIsolated: Bool = false) -> PFN? {
        let found = hugetlb.hstates[hi].freeLists.firstFromHead(nid) {
            !avoidIsolated || pageblockMigrateType($0) != .isolate
        }
        if let p = found {
            unlinkFreeHugePage(hi, p, node: nid)
            return p
        }
        return nil
    }

    /// `remove_hugetlb_page`: out of the pool's accounting (a free page also off its list).
    func removeHugetlbPage(_ hi: Int, _ head: PFN, adjustSurplus: Bool) {
        let nid = nodeOf(head)
        if hpFlags(head).contains(.freed) { unlinkFreeHugePage(hi, head, node: nid) }
        if adjustSurplus {
            hugetlb.hstates[hi].surplusHugePages -= 1
            hugetlb.hstates[hi].surplusHugePagesNode[nid] -= 1
        }
        hugetlb.hstates[hi].nrHugePages -= 1
        hugetlb.hstates[hi].nrHugePagesNode[nid] -= 1
    }

    /// After a removal 6.1 makes without adjusting surplus (dissolve, demote, a temporary
    /// page, a migration moving the surplus count): how far node `nid`'s surplus count now
    /// exceeds its pages, kept as the most `verify()` allows (`HState.surplusOvercountNode`).
    func noteSurplusOvercount(_ hi: Int, node nid: Int) {
        let h = hugetlb.hstates[hi]
        let excess = h.surplusHugePagesNode[nid] - h.nrHugePagesNode[nid]
        if excess > h.surplusOvercountNode[nid] { hugetlb.hstates[hi].surplusOvercountNode[nid] = excess }
    }

    /// `add_hugetlb_page`: a page whose vmemmap could not be restored goes back to the pool
    /// (still optimized), as a free page; counted surplus when `adjustSurplus`.
    func addHugetlbPage(_ hi: Int, _ head: PFN, adjustSurplus: Bool) {
        let nid = nodeOf(head)
        hugetlb.hstates[hi].nrHugePages += 1
        hugetlb.hstates[hi].nrHugePagesNode[nid] += 1
        if adjustSurplus {
            hugetlb.hstates[hi].surplusHugePages += 1
            hugetlb.hstates[hi].surplusHugePagesNode[nid] += 1
        }
        setHPFlags(head, [.head, .vmemmapOptimized])
        enqueueHugePage(hi, head)
    }

    // MARK: Allocation of fresh pages

    /// `alloc_fresh_huge_page` + `prep_new_huge_page`: a new page from the buddy allocator
    /// (or a contiguous range for gigantic sizes), optimized and counted in `nr_huge_pages`,
    /// not yet on a free list. `noretry` is `node_alloc_noretry` (nil: always try hard).
    func allocFreshHugePage(
        _ hi: Int, gfp: GFP, node nid: Int, nodemask: [Int]?, noretry: UnsafeMutablePointer<Set<Int>>?
    ) -> PFN? {
        let page: PFN?
        if hugetlb.hstates[hi].order >= Geometry.maxOrder {
            page = allocGiganticPage(hi, gfp: gfp, node: nid, nodemask: nodemask)
        } else {
            page = allocBuddyHugePage(hi, gfp: gfp, node: nid, nodemask: nodemask, noretry: noretry)
        }
        guard let head = page else { return nil }
        prepNewHugePage(hi, head)
        return head
    }

    /// `alloc_buddy_huge_page`: `__GFP_COMP|__GFP_NOWARN`, and `__GFP_RETRY_MAYFAIL` unless
    /// this node already failed during this resize.
    func allocBuddyHugePage(
        _ hi: Int, gfp: GFP, node nid: Int, nodemask: [Int]?, noretry: UnsafeMutablePointer<Set<Int>>?
    ) -> PFN? {
        let tryHard = !(noretry?.pointee.contains(nid) ?? false)
        var mask = gfp.union([.comp, .nowarn])
        if tryHard { mask.insert(.retryMayfail) }
        advance(nanoseconds: Machine.htlbAllocCostNs)
        // With __GFP_THISNODE a nodemask holding the node changes nothing: skip building it.
        let mask2: Set<Int>? =
            (nodemask == nil || (gfp.contains(.thisnode) && nodemask!.contains(nid))) ? nil : Set(nodemask!)
        let page = allocPages(order: hugetlb.hstates[hi].order, gfp: mask, node: nid, kind: .hugetlb, nodemask: mask2)
        if page != nil { vmstat.htlbBuddyAllocSuccess += 1 } else { vmstat.htlbBuddyAllocFail += 1 }
        if let noretry {
            if page != nil && !tryHard { noretry.pointee.remove(nid) }
            if page == nil && tryHard { noretry.pointee.insert(nid) }
        }
        return page
    }

    /// `alloc_gigantic_page` → `alloc_contig_pages`: the first free-or-migratable aligned
    /// range in the zones the mask allows (never ZONE_MOVABLE for GFP_HIGHUSER).
    func allocGiganticPage(_ hi: Int, gfp: GFP, node nid: Int, nodemask: [Int]?) -> PFN? {
        let nr = hugetlb.hstates[hi].pages
        advance(nanoseconds: Machine.htlbGiganticCostNs)
        var list = zonelist(gfp: gfp, node: nodes.indices.contains(nid) ? nid : 0)
        if let mask = nodemask { list = list.filter { mask.contains(zones[$0].node) } }
        for z in list where zones[z].spannedPages > 0 {
            var pfn = roundUp(zones[z].startPFN, nr)
            while pfn + nr <= zones[z].endPFN {
                if pfnRangeValidContig(z, PFNRange(start: pfn, count: nr)) {
                    if (try? allocContigRange(
                        PFNRange(start: pfn, count: nr), kind: .hugetlb,
                        compoundOrder: hugetlb.hstates[hi].order, gfp: gfp)) != nil
                    {
                        return pfn
                    }
                }
                pfn += nr
            }
        }
        return nil
    }

    /// `pfn_range_valid_contig`: all present, in zone `z`, not reserved, no HugeTLB page.
    func pfnRangeValidContig(_ z: Int, _ range: PFNRange) -> Bool {
        var pfn = range.start
        if let k = Optional(memmap.kind(pfn)), k == .tail || k == .buddyTail {
            let h = memmap.head(of: pfn)
            if memmap.kind(h) == .hugetlb { return false }
        }
        while pfn < range.end {
            guard zoneIndex(ofPFN: pfn) == z else { return false }
            let k = memmap.kind(pfn)
            switch k {
            case .absent, .offline, .reserved, .hugetlb: return false
            case .tail, .buddyTail: pfn += 1
            default: pfn += 1 << memmap.order(pfn)
            }
        }
        return true
    }

    /// `prep_new_huge_page`: optimize the vmemmap (HVO), then count the page.
    func prepNewHugePage(_ hi: Int, _ head: PFN) {
        setHPFlags(head, .head)
        hugetlbVmemmapOptimize(hi, head)
        let nid = nodeOf(head)
        hugetlb.hstates[hi].nrHugePages += 1
        hugetlb.hstates[hi].nrHugePagesNode[nid] += 1
    }

    /// `alloc_pool_huge_page`: one fresh page on the next node of the round robin that has
    /// one, freed into the pool.
    func allocPoolHugePage(_ hi: Int, nodesAllowed: [Int], noretry: inout Set<Int>) -> Bool {
        let gfp = htlbAllocMask(hi).union(.thisnode)
        var page: PFN?
        withUnsafeMutablePointer(to: &noretry) { nr in
            for _ in 0..<nodesAllowed.count {
                let nid = nextNodeToAlloc(hi, nodesAllowed)
                page = allocFreshHugePage(hi, gfp: gfp, node: nid, nodemask: nodesAllowed, noretry: nr)
                if page != nil { break }
            }
        }
        guard let p = page else { return false }
        freeHugePage(p)
        return true
    }

    // MARK: Freeing

    /// `free_huge_page`: the last reference is gone. A temporary page leaves the pool, a
    /// page on a node with surplus pages is freed as surplus, any other joins the free list.
    /// Frees to the buddy of optimized pages are deferred to a worker in the kernel; the
    /// model runs the worker at once (the counters are transiently one lower in between).
    func freeHugePage(_ head: PFN) {
        guard let hi = hstateIndex(ofOrder: memmap.order(head)) else { return }
        if !hugetlb.mapped.isEmpty { hugetlb.mapped[head] = nil }
        let nid = nodeOf(head)
        var f = hpFlags(head)
        if f.contains(.restoreReserve) {
            hugetlb.hstates[hi].resvHugePages += 1
            f.remove(.restoreReserve)
            setHPFlags(head, f)
        }
        if f.contains(.temporary) {
            removeHugetlbPage(hi, head, adjustSurplus: false)
            noteSurplusOvercount(hi, node: nid)
            updateAndFreePage(hi, head)
        } else if hugetlb.hstates[hi].surplusHugePagesNode[nid] > 0 {
            removeHugetlbPage(hi, head, adjustSurplus: true)
            updateAndFreePage(hi, head)
        } else {
            enqueueHugePage(hi, head)
        }
    }

    /// `update_and_free_page` / `__update_and_free_page`: restore the vmemmap and give the
    /// page to the buddy allocator. If the restore fails the page stays in the pool as a
    /// free surplus page (seed cases 1 and 2). Returns whether the page was freed.
    @discardableResult
    func updateAndFreePage(_ hi: Int, _ head: PFN) -> Bool {
        if !hugetlbVmemmapRestore(hi, head) {
            addHugetlbPage(hi, head, adjustSurplus: true)
            return false
        }
        releaseHugePageToBuddy(hi, head)
        return true
    }

    /// The page's memory goes back to the buddy allocator (`__free_pages` or
    /// `free_contig_range`).
    func releaseHugePageToBuddy(_ hi: Int, _ head: PFN) {
        setHPFlags(head, [])
        let h = hugetlb.hstates[hi]
        if !h.isGigantic {
            freePages(head, order: h.order)
            return
        }
        let z = zoneIndex(ofPFN: head)!
        zones[z].kindPages[Int(PageKind.hugetlb.rawValue)] -= h.pages
        let top = Geometry.maxOrder - 1
        var pfn = head
        while pfn < head + h.pages {
            memmap.setKind(pfn, .buddyTail)
            markBuddyTails(pfn, order: top)
            freeOneBlock(z, pfn, order: top, mt: pageblockMigrateType(pfn))
            pfn += 1 << top
        }
    }

    // MARK: set_max_huge_pages

    /// `set_max_huge_pages`: grow by converting surplus pages and then allocating fresh ones
    /// round robin over `nodesAllowed` (partial success is success); shrink by freeing free
    /// pages (never below in-use + reserved) and turning the rest into surplus. A write never
    /// fails because pages could not be allocated or freed.
    ///
    /// - Parameters:
    ///   - count: the requested number, an unsigned long as the kernel's.
    ///   - node: a node-specific request (`nodeN/hugepages/.../nr_hugepages`).
    ///   - deadline: virtual time at which a pending signal stops the growth.
    public func setMaxHugePages(
        hstate hi: Int, count requested: UInt64, node nid: Int? = nil,
        nodesAllowed: [Int]? = nil, deadline: UInt64? = nil
    ) {
        enterKernel()
        defer { exitToUserMode() }
        guard hugetlb.hstates.indices.contains(hi) else { return }
        // unsigned long arithmetic throughout, as the kernel's: `persistent` wraps when 6.1's
        // dissolve has left more surplus than pages, and then every comparison below sees a
        // huge pool (nothing grows, no free page is kept back, no page can turn surplus).
        var count = requested
        let allowed: [Int] = nid.map { [$0] } ?? (nodesAllowed ?? nodesWithMemory())
        func persistent() -> UInt64 { hugetlb.hstates[hi].persistentHugePages }
        if let nid {
            let extra = UInt64(hugetlb.hstates[hi].nrHugePages - hugetlb.hstates[hi].nrHugePagesNode[nid])
            let (sum, overflow) = count.addingReportingOverflow(extra)
            count = overflow ? UInt64.max : sum
        }
        // Grow: surplus pages become persistent first.
        while hugetlb.hstates[hi].surplusHugePages > 0 && count > persistent() {
            if !adjustPoolSurplus(hi, allowed, delta: -1) { break }
        }
        var noretry = Set<Int>()
        while count > persistent() {
            if !allocPoolHugePage(hi, nodesAllowed: allowed, noretry: &noretry) {
                htlbExplain(
                    "growing \(hugetlb.hstates[hi].name) stopped at \(persistent()) of \(count) pages: no node of \(allowed) could allocate a \(hugetlb.hstates[hi].sizeString) page"
                )
                break
            }
            if let deadline, clock >= deadline {
                htlbExplain(
                    "growing \(hugetlb.hstates[hi].name) interrupted by a signal at \(persistent()) pages"
                )
                break
            }
        }
        if count >= persistent() {
            hugetlb.hstates[hi].maxHugePages = Int(truncatingIfNeeded: persistent())
            return
        }
        // Shrink: free pages first (never below what is in use or reserved).
        let h = hugetlb.hstates[hi]
        let minCount = Swift.max(count, UInt64(h.resvHugePages + h.nrHugePages - h.freeHugePages))
        var removed: [PFN] = []
        while minCount < persistent() {
            guard let p = removePoolHugePage(hi, allowed, acctSurplus: false) else { break }
            removed.append(p)
        }
        // Collected with list_add onto page_list, freed from its head by
        // update_and_free_pages_bulk: the last page taken off the pool is freed first.
        var kept = 0
        for p in removed.reversed() where !updateAndFreePage(hi, p) { kept += 1 }
        if kept > 0 {
            htlbExplain(
                "shrinking \(h.name) to \(count): \(kept) of \(removed.count) pages could not get their vmemmap back and stay as surplus pages"
            )
        }
        while count < persistent() {
            if !adjustPoolSurplus(hi, allowed, delta: 1) { break }
        }
        if hugetlb.hstates[hi].surplusHugePages > hugetlb.hstates[hi].nrHugePages {
            htlbExplain(
                "\(h.name): \(hugetlb.hstates[hi].surplusHugePages) surplus pages counted of \(hugetlb.hstates[hi].nrHugePages): persistent_huge_pages() wraps, so this write could neither grow nor shrink the pool (6.1's dissolve_free_huge_page left the surplus count behind)"
            )
        }
        hugetlb.hstates[hi].maxHugePages = Int(truncatingIfNeeded: persistent())
    }

    /// `adjust_pool_surplus`: move one page between persistent and surplus, round robin.
    func adjustPoolSurplus(_ hi: Int, _ allowed: [Int], delta: Int) -> Bool {
        for _ in 0..<allowed.count {
            let nid = delta < 0 ? nextNodeToAlloc(hi, allowed) : nextNodeToFree(hi, allowed)
            let h = hugetlb.hstates[hi]
            let ok = delta < 0 ? h.surplusHugePagesNode[nid] > 0 : h.surplusHugePagesNode[nid] < h.nrHugePagesNode[nid]
            if ok {
                hugetlb.hstates[hi].surplusHugePages += delta
                hugetlb.hstates[hi].surplusHugePagesNode[nid] += delta
                return true
            }
        }
        return false
    }

    /// `remove_pool_huge_page`: take a free page off the next node (only nodes with surplus
    /// pages when `acctSurplus`).
    func removePoolHugePage(_ hi: Int, _ allowed: [Int], acctSurplus: Bool) -> PFN? {
        for _ in 0..<allowed.count {
            let nid = nextNodeToFree(hi, allowed)
            if (!acctSurplus || hugetlb.hstates[hi].surplusHugePagesNode[nid] > 0),
                let p = hugetlb.hstates[hi].freeLists.head(nid)
            {
                removeHugetlbPage(hi, p, adjustSurplus: acctSurplus)
                // A shrink once persistent_huge_pages() has wrapped takes every free page
                // without adjusting surplus: 6.1's own overcount grows.
                if !acctSurplus { noteSurplusOvercount(hi, node: nid) }
                return p
            }
        }
        return nil
    }

    /// `nr_overcommit_hugepages` store (sysfs and sysctl): EINVAL for gigantic sizes.
    public func setOvercommitHugePages(hstate hi: Int, _ value: UInt64) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard hugetlb.hstates.indices.contains(hi) else { throw KernelError(.invalidArgument) }
        guard !hugetlb.hstates[hi].isGigantic else {
            htlbExplain(
                "\(hugetlb.hstates[hi].name): gigantic pages are never surplus, nr_overcommit_hugepages cannot be set")
            throw KernelError(.invalidArgument, "gigantic pages cannot be overcommitted")
        }
        hugetlb.hstates[hi].nrOvercommitHugePages = value > UInt64(Int.max) ? Int.max : Int(value)
    }

    // MARK: demote

    /// `demote_store`: split up to `count` free unreserved pages of a gigantic hstate into
    /// pages of its demote size. ENOMEM when a vmemmap restore fails.
    public func demoteHugePages(hstate hi: Int, count: UInt64, node nid: Int? = nil) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard hugetlb.hstates.indices.contains(hi) else { throw KernelError(.invalidArgument) }
        let allowed = nid.map { [$0] } ?? nodesWithMemory()
        var left = count
        while left > 0 {
            let h = hugetlb.hstates[hi]
            let avail = (nid.map { h.freeHugePagesNode[$0] } ?? h.freeHugePages) - h.resvHugePages
            if avail <= 0 { break }
            guard h.demoteOrder > 0, let ti = hstateIndex(ofOrder: h.demoteOrder) else {
                log("HugeTLB: NULL demote order passed to demote_pool_huge_page.")
                throw KernelError(.invalidArgument)
            }
            var page: PFN?
            for _ in 0..<allowed.count {
                let n = nextNodeToFree(hi, allowed)
                if let p = hugetlb.hstates[hi].freeLists.head(n) { page = p; break }
            }
            guard let head = page else { throw KernelError(.resourceBusy) }
            removeHugetlbPage(hi, head, adjustSurplus: false)
            if !hugetlbVmemmapRestore(hi, head) {
                addHugetlbPage(hi, head, adjustSurplus: false)
                throw KernelError(.noMemory, "vmemmap restore failed while demoting the page at pfn \(hex(head))")
            }
            setHPFlags(head, [])
            let z = zoneIndex(ofPFN: head)!
            let small = hugetlb.hstates[ti]
            var p = head
            while p < head + h.pages {
                memmap.setKind(p, .hugetlb)
                memmap.setOrder(p, small.order)
                memmap.setOwner(p, 0)
                p += small.pages
            }
            _ = z
            p = head
            while p < head + h.pages {
                prepNewHugePage(ti, p)
                freeHugePage(p)
                p += small.pages
            }
            noteSurplusOvercount(hi, node: nodeOf(head))
            hugetlb.hstates[hi].maxHugePages &-= 1
            hugetlb.hstates[ti].maxHugePages &+= h.pages / small.pages
            left -= 1
        }
    }

    /// `demote_size` store: the size must be an existing smaller hstate of at least 2 MiB.
    public func setDemoteSize(hstate hi: Int, bytes: UInt64) throws {
        guard let ti = hugetlb.hstates.firstIndex(where: { UInt64($0.sizeBytes) == bytes }) else {
            throw KernelError(.invalidArgument, "no hstate of \(bytes) bytes")
        }
        let o = hugetlb.hstates[ti].order
        guard o >= Geometry.pageblockOrder, o < hugetlb.hstates[hi].order else { throw KernelError(.invalidArgument) }
        hugetlb.hstates[hi].demoteOrder = o
    }

    // MARK: Reports

    /// `hugetlb_report_meminfo`'s values.
    public func hugetlbMeminfo() -> HugeTLBMeminfo {
        var m = HugeTLBMeminfo()
        guard let d = hugetlb.defaultHState else { return m }
        m.total = d.nrHugePages
        m.free = d.freeHugePages
        m.rsvd = d.resvHugePages
        m.surp = d.surplusHugePages
        m.hugepagesizeKB = d.sizeBytes >> 10
        m.hugetlbKB = hugetlb.hstates.reduce(0) { $0 + ($1.nrHugePages * $1.sizeBytes >> 10) }
        return m
    }

    /// `hugetlb_report_node_meminfo`: the three lines of `nodeN/meminfo`.
    public func hugetlbNodeMeminfoLines(node nid: Int) -> [String] {
        guard let d = hugetlb.defaultHState, d.nrHugePagesNode.indices.contains(nid) else { return [] }
        return [
            "Node \(nid) HugePages_Total: \(pad(d.nrHugePagesNode[nid], 5))",
            "Node \(nid) HugePages_Free:  \(pad(d.freeHugePagesNode[nid], 5))",
            "Node \(nid) HugePages_Surp:  \(pad(d.surplusHugePagesNode[nid], 5))"
        ]
    }

    /// `hugetlb_total_pages`: base pages held by every pool (what meminfo's MemAvailable and
    /// the OOM report subtract).
    public var hugetlbTotalPages: Int { hugetlb.hstates.reduce(0) { $0 + $1.nrHugePages * $1.pages } }

    // MARK: Invariants

    /// The pool counters equal what the memmap holds: heads of each order per node, free
    /// pages on the lists at their recorded positions, surplus within the total, flags only
    /// on heads.
    func verifyHugeTLB() throws {
        func fail(_ s: String) throws -> Never { throw InvariantViolation(description: "hugetlb: " + s) }
        guard hugetlb.initialized else { return }
        let hs = hugetlb.hstates
        var nr = hs.map { _ in [Int](repeating: 0, count: nodes.count) }
        var free = nr
        var pfn = 0
        while pfn < memmap.pfnCount {
            let k = memmap.kind(pfn)
            if k == .hugetlb {
                let o = memmap.order(pfn)
                guard let hi = hstateIndex(ofOrder: o) else {
                    try fail("pfn \(pfn): huge page of order \(o) without hstate")
                }
                let nid = nodeOf(pfn)
                let f = hpFlags(pfn)
                guard f.contains(.head) else { try fail("pfn \(pfn): head without flags") }
                nr[hi][nid] += 1
                if f.contains(.freed) {
                    free[hi][nid] += 1
                    guard hugetlb.hstates[hi].freeLists.pfn(ofNode: memmap.link(pfn)) == pfn else {
                        try fail("pfn \(pfn): its free-list node does not hold it")
                    }
                }
                pfn += 1 << o
                continue
            }
            if pfn & (Geometry.pageblockPages - 1) == 0, hugetlb.flags[pfn >> Geometry.pageblockOrder] != 0 {
                try fail("pfn \(pfn): flags \(hugetlb.flags[pfn >> Geometry.pageblockOrder]) on a \(k) page")
            }
            if k == .absent || k == .tail || k == .buddyTail || k == .reserved || k == .offline {
                pfn += 1
                // The rest of a summarized chunk is no hugetlb head: check its pageblocks' flags.
                if let run = memmap.uniformRun(from: pfn), run.kind != .hugetlb {
                    var pb = (pfn + Geometry.pageblockPages - 1) >> Geometry.pageblockOrder
                    while pb << Geometry.pageblockOrder < run.end {
                        if hugetlb.flags[pb] != 0 {
                            try fail("pageblock \(pb): flags \(hugetlb.flags[pb]) on a \(run.kind) page")
                        }
                        pb += 1
                    }
                    pfn = run.end
                }
            } else {
                pfn += 1 << memmap.order(pfn)
            }
        }
        for (hi, h) in hs.enumerated() {
            for n in nodes.indices {
                guard nr[hi][n] == h.nrHugePagesNode[n] else {
                    try fail("\(h.name) node \(n): nr \(h.nrHugePagesNode[n]) != counted \(nr[hi][n])")
                }
                guard free[hi][n] == h.freeHugePagesNode[n] else {
                    try fail("\(h.name) node \(n): free \(h.freeHugePagesNode[n]) != counted \(free[hi][n])")
                }
                guard h.freeLists.count(n) == h.freeHugePagesNode[n], h.freeLists[n].count == h.freeLists.count(n)
                else {
                    try fail("\(h.name) node \(n): list length")
                }
                // 6.1 can count more surplus pages than a node has (see surplusOvercountNode);
                // only as far as its own removals took it.
                guard h.surplusHugePagesNode[n] >= 0,
                    h.surplusHugePagesNode[n] <= h.nrHugePagesNode[n] + h.surplusOvercountNode[n]
                else {
                    try fail(
                        "\(h.name) node \(n): surplus \(h.surplusHugePagesNode[n]) of \(h.nrHugePagesNode[n]) (6.1's dissolve/demote allow \(h.surplusOvercountNode[n]) more)"
                    )
                }
            }
            guard h.nrHugePages == h.nrHugePagesNode.reduce(0, +), h.freeHugePages == h.freeHugePagesNode.reduce(0, +),
                h.surplusHugePages == h.surplusHugePagesNode.reduce(0, +)
            else { try fail("\(h.name): global != sum of nodes") }
            guard h.resvHugePages >= 0, h.resvHugePages <= h.freeHugePages else {
                try fail("\(h.name): resv \(h.resvHugePages) with \(h.freeHugePages) free")
            }
        }
        for (head, ref) in hugetlb.mapped {
            guard memmap.kind(head) == .hugetlb, let m = hugetlb.mappings[ref.mapping], Int(m.pages[ref.index]) == head
            else {
                try fail("mapped page \(head) not where its mapping says")
            }
        }
    }
}
