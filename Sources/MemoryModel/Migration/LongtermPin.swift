/// FOLL_LONGTERM pinning of a process's anonymous pages (mm/gup.c `__gup_longterm_locked`,
/// `check_and_migrate_movable_pages`): pages the kernel may not pin for long (in ZONE_MOVABLE:
/// `is_longterm_pinnable_page`; its CMA and MIGRATE_ISOLATE test is compiled only with
/// CONFIG_CMA, which Debian's 6.1 leaves unset) are migrated first, to
/// targets allocated with GFP_USER (no __GFP_MOVABLE: unmovable pageblocks, no ZONE_MOVABLE);
/// everything else is pinned where it is. A pinned page holds an extra reference that
/// migration cannot drop, so offlining its block retries until a signal.
extension Machine {
    /// `is_longterm_pinnable_page` for an anonymous page without CONFIG_CMA (no device memory
    /// in the model): anything outside ZONE_MOVABLE.
    func isLongtermPinnable(_ pfn: PFN) -> Bool {
        guard let z = zoneIndex(ofPFN: pfn) else { return false }
        return zones[z].type != .movable
    }

    /// Pin the blocks of `owner` at list positions `range` (`pin_user_pages` with
    /// FOLL_WRITE | FOLL_LONGTERM over already faulted-in pages). Unpinnable pages move first
    /// (`migrate_longterm_unpinnable_pages`: `alloc_migration_target` on the page's node with
    /// GFP_USER | __GFP_NOWARN, plus __GFP_HIGHMEM for a ZONE_MOVABLE source); a target that
    /// cannot be allocated fails the pin with ENOMEM (the pages moved so far stay moved).
    /// The caller retypes the owner to `.pinned` once the whole registration succeeded.
    public func pinLongterm(owner id: Int, blocks range: Range<Int>) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard let (order, count) = owners[id].map({ ($0.order, $0.blocks.count) }) else {
            throw KernelError(.badAddress, "no mapping to pin")
        }
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw KernelError(.badAddress, "pin beyond the mapping")
        }
        var migrated = 0
        defer { vmstat.pgmigrateSuccess += migrated }
        for pos in range {
            // Invariant: `owners[id]` was checked above; migration keeps the owner.
            let pfn = owners.slots[id]!.blocks[pos]
            guard !isLongtermPinnable(pfn), let z = zoneIndex(ofPFN: pfn) else { continue }
            var gfp: GFP = [.user, .nowarn]
            if zones[z].type == .movable { gfp.insert(.highmem) }
            let kind = memmap.kind(pfn)
            let list = zonelist(gfp: gfp, node: zones[z].node)
            guard let target = allocMigrationTarget(order: order, gfp: gfp, zonelist: list, kind: kind) else {
                throw KernelError(.noMemory, "no target to migrate pfn \(hex(pfn)) before a long-term pin")
            }
            transferBlock(from: pfn, to: target)
            freePages(pfn, order: order)
            migrated += 1 << order
        }
    }

    /// Change what an owner's pages are (anonymous pages becoming long-term pinned, and back
    /// when they are unpinned): the memmap kind of every head and the zones' counts.
    public func retype(owner id: Int, to kind: PageKind) {
        guard let (old, order, n) = owners[id].map({ ($0.kind, $0.order, $0.blocks.count) }), old != kind else {
            return
        }
        precondition(kind.isAllocated && kind != .hugetlb, "retype to \(kind)")
        for pos in 0..<n {
            // Invariant: checked above.
            let pfn = owners.slots[id]!.blocks[pos]
            memmap.setKind(pfn, kind)
            if let z = zoneIndex(ofPFN: pfn) {
                zones[z].kindPages[Int(old.rawValue)] -= 1 << order
                zones[z].kindPages[Int(kind.rawValue)] += 1 << order
            }
        }
        owners.slots[id]!.kind = kind
    }
}
