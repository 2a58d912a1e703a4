import SystemPackage

/// The calls other subsystems make into HugeTLB:
///
/// - memory offlining: `dissolveFreeHugePages(_:)` (`dissolve_free_huge_pages`) after the
///   migration phase, `hugePageInUseMigratable(_:)` (`HPageMigratable`, what
///   `scan_movable_pages` reports) and `migrateHugePage(at:avoidingNode:)` (migrating an
///   in-use huge page out of the range, as `do_migrate_range` does with
///   `alloc_migration_target`);
/// - virtio-mem, CMA-like users and gigantic page allocation: `allocContigRange(_:...)`
///   (`alloc_contig_range`), whose HugeTLB step is `isolate_or_dissolve_huge_page`:
///   a free huge page is replaced by a fresh one on the same node and dissolved (seed case 4).
///
/// Sections' memmaps are not HugeTLB's: hotplug populates and frees them through
/// SparseVmemmap/ (`populateSectionMemmap`, `vmemmapFreeSection`), which HVO also uses.
extension Machine {
    // MARK: dissolve (seed case 3)

    /// `dissolve_free_huge_pages(start, end)`: dissolve every free huge page with a page in
    /// the range, in steps of the smallest huge page size. The first error stops the walk;
    /// pages dissolved before it stay dissolved.
    /// Throws EBUSY (a page in use, or every free page backs a reservation) or ENOMEM (the
    /// HVO vmemmap restore failed: the page stays in the pool).
    public func dissolveFreeHugePages(_ range: PFNRange) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard hugetlb.initialized, !hugetlb.hstates.isEmpty else { return }
        let step = 1 << (hugetlb.hstates.map(\.order).min() ?? Geometry.pageblockOrder)
        var pfn = range.start
        while pfn < range.end {
            try dissolveFreeHugePage(pfn)
            pfn += step
        }
    }

    /// `dissolve_free_huge_page`: 0 for a non-huge page, EBUSY for an in-use or reserved one,
    /// ENOMEM when its vmemmap cannot be restored (then `max_huge_pages` is given back too).
    /// As in 6.1 the page leaves the pool without adjusting the surplus count
    /// (`remove_hugetlb_page(h, head, false)`): dissolving a free surplus page (one whose
    /// restore failed earlier, or a reserved one while other free pages are available) leaves
    /// its node counting more surplus pages than it has, and `max_huge_pages` can wrap.
    /// Later kernels pass `adjust_surplus` when the node has surplus pages; 6.1.192 does not.
    public func dissolveFreeHugePage(_ pfn: PFN) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard let head = hugePageHead(containing: pfn), let hi = hstateIndex(ofOrder: memmap.order(head)) else {
            return
        }
        let h = hugetlb.hstates[hi]
        let what = "the \(h.sizeString) page at pfn \(hex(head)) (node \(nodeOf(head)))"
        guard hpFlags(head).contains(.freed) else {
            htlbExplain("cannot dissolve \(what): it is in use")
            throw KernelError(.resourceBusy, "\(what) is in use")
        }
        guard h.availableHugePages > 0 else {
            htlbExplain("cannot dissolve \(what): all \(h.freeHugePages) free \(h.name) pages back reservations")
            throw KernelError(.resourceBusy, "\(what) backs a reservation")
        }
        let nid = nodeOf(head)
        removeHugetlbPage(hi, head, adjustSurplus: false)
        hugetlb.hstates[hi].maxHugePages &-= 1
        if !hugetlbVmemmapRestore(hi, head) {
            addHugetlbPage(hi, head, adjustSurplus: false)
            hugetlb.hstates[hi].maxHugePages &+= 1
            let why = explain.last?.message ?? "vmemmap restore failed"
            throw KernelError(.noMemory, why)
        }
        releaseHugePageToBuddy(hi, head)
        noteSurplusOvercount(hi, node: nid)
        let after = hugetlb.hstates[hi]
        if after.surplusHugePagesNode[nid] > after.nrHugePagesNode[nid] {
            htlbExplain(
                "dissolved \(what); node \(nid) still counts \(after.surplusHugePagesNode[nid]) surplus pages of \(after.nrHugePagesNode[nid]) (6.1's dissolve does not adjust surplus)"
            )
        }
    }

    // MARK: migration of in-use pages

    /// `HPageMigratable`: an in-use huge page mapped by a user (what offlining migrates).
    public func hugePageInUseMigratable(_ head: PFN) -> Bool {
        memmap.kind(head) == .hugetlb && !hpFlags(head).contains(.freed) && hugetlb.mapped[head] != nil
    }

    /// Migrate the in-use huge page containing `pfn` for memory offlining: the target is a
    /// free pool page or a fresh temporary page on any node with memory except
    /// `avoidingNode` (or on it, when it is the only one), as `do_migrate_range` asks.
    /// The old page is then freed: dropped from the pool if it was the temporary one or its
    /// node has surplus pages (its vmemmap restore may fail, leaving a free surplus page),
    /// else put on the free list for `dissolveFreeHugePages`. Returns false when no target
    /// could be found (the kernel's -ENOMEM/-EBUSY from migrate_pages; offlining retries).
    public func migrateHugePage(at pfn: PFN, avoidingNode: Int?) -> Bool {
        enterKernel()
        defer { exitToUserMode() }
        guard let head = hugePageHead(containing: pfn) else { return false }
        var targets = nodesWithMemory()
        if let a = avoidingNode, targets.count > 1 { targets.removeAll { $0 == a } }
        return migrateHugePage(head, targetNodes: targets, preferred: nodeOf(head))
    }

    /// `migrate_pages` of one huge page with `alloc_huge_page_nodemask(h, preferred, nodes)`.
    func migrateHugePage(_ head: PFN, targetNodes: [Int], preferred: Int) -> Bool {
        guard hugePageInUseMigratable(head), let hi = hstateIndex(ofOrder: memmap.order(head)),
            let ref = hugetlb.mapped[head]
        else { return false }
        let h = hugetlb.hstates[hi]
        let gfp = htlbAllocMask(hi)
        var target: PFN?
        if h.availableHugePages > 0 {
            let order = zonelist(gfp: gfp, node: preferred).map { zones[$0].node }
            var seen = Set<Int>()
            for n in order where targetNodes.contains(n) && seen.insert(n).inserted {
                if let p = dequeueHugePageNodeExact(hi, node: n, avoidIsolated: true) { target = p; break }
            }
        }
        var temporary = false
        if target == nil && !h.isGigantic {
            // alloc_migrate_huge_page: a fresh page outside the pool's persistent count.
            if let p = allocFreshHugePage(hi, gfp: gfp, node: preferred, nodemask: targetNodes, noretry: nil) {
                target = p
                temporary = true
            }
        }
        guard let new = target else {
            htlbExplain(
                "no target for migrating the in-use \(h.sizeString) page at pfn \(hex(head)) to nodes \(targetNodes)")
            return false
        }
        // The mapping now points at the copy.
        hugetlb.mapped[head] = nil
        hugetlb.mapped[new] = ref
        // Invariant: a `mapped` entry names a live mapping (munmapHugePages frees every page,
        // which clears its `mapped` entry, before it drops the mapping).
        hugetlb.mappings[ref.mapping]!.pages[ref.index] = new
        if temporary {
            // move_hugetlb_state: the temporary status moves to the old page.
            insertHPFlags(head, .temporary)
            let oldNid = nodeOf(head), newNid = nodeOf(new)
            if oldNid != newNid && hugetlb.hstates[hi].surplusHugePagesNode[oldNid] > 0 {
                hugetlb.hstates[hi].surplusHugePagesNode[oldNid] -= 1
                hugetlb.hstates[hi].surplusHugePagesNode[newNid] += 1
                noteSurplusOvercount(hi, node: newNid)
            }
        }
        vmstat.pgmigrateSuccess += h.pages
        advance(nanoseconds: Machine.htlbAllocCostNs * 4)
        freeHugePage(head)
        return true
    }

    // MARK: alloc_contig_range (seed case 4)

    /// `alloc_contig_range(start, end, MIGRATE_MOVABLE, gfp)`: isolate the pageblocks, migrate
    /// LRU pages and in-use huge pages away, replace-and-dissolve free huge pages, then take
    /// every page of the range. On success the range is allocated as order-0 pages of `kind`
    /// (what virtio-mem's fake offlining holds), or as one block of `compoundOrder`.
    ///
    /// Errors: EINVAL (not pageblock aligned, holes, several zones), EBUSY (an unmovable page,
    /// a page that would not migrate, or a huge page still there because its vmemmap restore
    /// failed), ENOMEM (a gigantic page in the range, or no replacement for a free huge page).
    public func allocContigRange(
        _ range: PFNRange, kind: PageKind = .kernel, compoundOrder: Int? = nil,
        gfp: GFP = .kernel
    ) throws {
        enterKernel()
        defer { exitToUserMode() }
        let subject = "alloc_contig_range"
        func fail(_ e: Errno, _ why: String) -> KernelError {
            explain.add(time: clock, subject, "\(range): \(why)")
            return KernelError(e, why)
        }
        guard !range.isEmpty, range.start % Geometry.pageblockPages == 0, range.end % Geometry.pageblockPages == 0,
            range.end <= memmap.pfnCount
        else { throw fail(.invalidArgument, "range is not pageblock aligned") }
        if let o = compoundOrder {
            guard range.count == 1 << o, range.start % (1 << o) == 0 else {
                throw fail(.invalidArgument, "range does not fit order \(o)")
            }
        }
        guard let z = zoneIndex(ofPFN: range.start) else {
            throw fail(.invalidArgument, "pfn \(hex(range.start)) is not present")
        }
        var pb = range.start
        while pb < range.end {
            guard zoneIndex(ofPFN: pb) == z else { throw fail(.invalidArgument, "range spans zones") }
            pb += Geometry.pageblockPages
        }
        // Free blocks larger than a pageblock must not straddle the range's edges.
        splitFreeBlockStraddling(range.start, zone: z)
        splitFreeBlockStraddling(range.end, zone: z)
        if let bad = startIsolatePageRange(range, zone: z) {
            throw fail(.resourceBusy, "pfn \(hex(bad)) is \(unmovableDescription(bad)): failure to isolate")
        }
        drainPCP(zone: z)
        defer { undoIsolatePageRange(range, zone: z) }

        // __alloc_contig_migrate_range: isolate_migratepages_range + migrate_pages.
        let source = zones[z].node
        var mgfp: GFP = [.user, .movable, .retryMayfail]
        if zones[z].type == .movable { mgfp.insert(.highmem) }
        let mlist = zonelist(gfp: mgfp, node: source)
        var pfn = range.start
        while pfn < range.end {
            let k = memmap.kind(pfn)
            if k == .hugetlb {
                let order = memmap.order(pfn)
                try isolateOrDissolveHugePage(pfn, fail: fail)
                pfn += 1 << order
            } else if k == .tail {
                let h = memmap.head(of: pfn)
                if memmap.kind(h) == .hugetlb {
                    try isolateOrDissolveHugePage(h, fail: fail)
                } else if memmap.kind(h).isLRU {
                    _ = migrateLRUPage(h, order: memmap.order(h), kind: memmap.kind(h), gfp: mgfp, zonelist: mlist)
                }
                pfn = Swift.max(pfn + 1, h + (1 << memmap.order(h)))
            } else if k.isLRU {
                let order = memmap.order(pfn)
                if migrateLRUPage(pfn, order: order, kind: k, gfp: mgfp, zonelist: mlist) == .failed {
                    vmstat.pgmigrateFail += 1 << order
                } else {
                    vmstat.pgmigrateSuccess += 1 << order
                }
                pfn += 1 << order
            } else if k == .buddy || k == .pcp || k.isAllocated {
                pfn += 1 << memmap.order(pfn)
            } else {
                pfn += 1
            }
        }
        drainPCP(zone: z)
        if let busy = testPagesIsolated(range) {
            let what =
                hugePageHead(containing: busy).map { "a huge page (pfn \(hex($0))) still in the pool" }
                ?? "\(memmap.kind(busy))"
            throw fail(.resourceBusy, "pfn \(hex(busy)) is not free: \(what)")
        }
        // isolate_freepages_range: take the pages out of the buddy allocator.
        pfn = range.start
        while pfn < range.end {
            let o = memmap.order(pfn)
            removeFromFreeList(z, pfn)
            pfn += 1 << o
        }
        if let o = compoundOrder {
            memmap.fill(range, kind: .tail)
            memmap.setKind(range.start, kind)
            memmap.setOrder(range.start, o)
        } else {
            memmap.fill(range, kind: kind)
        }
        zones[z].kindPages[Int(kind.rawValue)] += range.count
    }

    /// `free_contig_range` for a range `allocContigRange` returned as order-0 pages.
    public func freeContigRange(_ range: PFNRange) {
        enterKernel()
        defer { exitToUserMode() }
        for p in range.start..<range.end where memmap.kind(p).isAllocated { freePages(p, order: 0) }
    }

    /// `isolate_or_dissolve_huge_page` for the head of a huge page inside the range.
    func isolateOrDissolveHugePage(_ head: PFN, fail: (Errno, String) -> KernelError) throws {
        guard let hi = hstateIndex(ofOrder: memmap.order(head)) else { return }
        let h = hugetlb.hstates[hi]
        if h.isGigantic {
            throw fail(.noMemory, "a gigantic page at pfn \(hex(head)) is in the range")
        }
        if !hpFlags(head).contains(.freed) {
            // In use: isolate for migration (a failure is -EBUSY, "skip", found later).
            _ = migrateHugePage(head, targetNodes: nodesWithMemory(), preferred: nodeOf(head))
            return
        }
        try allocAndDissolveHugePage(hi, head, fail: fail)
    }

    /// `alloc_and_dissolve_huge_page`: allocate a replacement on the old page's node (its own
    /// HVO gives vmemmap pages back first), swap it into the pool, free the old page. If the
    /// old page's restore fails it stays as a free surplus page and this still succeeds.
    func allocAndDissolveHugePage(_ hi: Int, _ old: PFN, fail: (Errno, String) -> KernelError) throws {
        let nid = nodeOf(old)
        guard
            let new = allocBuddyHugePage(
                hi, gfp: htlbAllocMask(hi).union(.thisnode), node: nid, nodemask: nil, noretry: nil)
        else {
            throw fail(
                .noMemory,
                "no replacement \(hugetlb.hstates[hi].sizeString) page on node \(nid) for the free page at pfn \(hex(old))"
            )
        }
        setHPFlags(new, .head)
        hugetlbVmemmapOptimize(hi, new)
        removeHugetlbPage(hi, old, adjustSurplus: false)
        hugetlb.hstates[hi].nrHugePages += 1
        hugetlb.hstates[hi].nrHugePagesNode[nodeOf(new)] += 1
        enqueueHugePage(hi, new)
        if !updateAndFreePage(hi, old) {
            htlbExplain(
                "the free \(hugetlb.hstates[hi].sizeString) page at pfn \(hex(old)) was replaced by pfn \(hex(new)) but stays as a surplus page: its vmemmap could not be restored"
            )
        }
    }

    /// Split a free buddy block of more than a pageblock that crosses `boundary`, so that
    /// isolating pageblocks on one side leaves the other side's pages alone.
    func splitFreeBlockStraddling(_ boundary: PFN, zone z: Int) {
        guard boundary > 0, boundary < memmap.pfnCount else { return }
        for order in stride(from: Geometry.maxOrder - 1, to: Geometry.pageblockOrder, by: -1) {
            let head = boundary & ~((1 << order) - 1)
            guard head != boundary, memmap.kind(head) == .buddy, memmap.order(head) == order,
                zoneIndex(ofPFN: head) == z
            else { continue }
            removeFromFreeList(z, head)
            var p = head
            while p < head + (1 << order) {
                memmap.setKind(p, .buddy)
                addToFreeList(z, p, order: Geometry.pageblockOrder, mt: pageblockMigrateType(p))
                p += Geometry.pageblockPages
            }
            return
        }
    }
}
