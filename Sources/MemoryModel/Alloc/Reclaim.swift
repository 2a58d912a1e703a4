/// The allocator's slow path (`__alloc_pages_slowpath`): min watermark, direct reclaim of
/// what can be reclaimed without swap (clean page cache, reclaimable slab), and the OOM killer.
/// Compaction is not modelled; `should_reclaim_retry`'s estimate (free + reclaimable pages at
/// the min watermark) is not needed for order 0: the model's reclaim frees every eligible
/// reclaimable page it reaches, so a round without progress leaves none to count.
extension Machine {
    static let swapClusterMax = 32
    static let costlyOrder = 3

    func allocPagesSlowpath(order: Int, gfp: GFP, zonelist: [Int], kind: PageKind) -> PFN? {
        let highest = gfp.highestZone
        // kswapd (Kswapd.swift): woken on every node that is not balanced; it runs when this
        // task gives up the CPU: after the allocation, or at direct reclaim's cond_resched.
        if gfp.contains(.kswapdReclaim) { wakeAllKswapds(order: order, highest: highest, zonelist: zonelist) }
        if let (pfn, z) = getPageFromFreelist(order: order, gfp: gfp, zonelist: zonelist, level: .min) {
            markAllocated(pfn, order: order, kind: kind, z: z)
            runKswapds()
            return pfn
        }
        guard gfp.contains(.directReclaim) else {
            runKswapds()
            return allocFailed(order: order, gfp: gfp)
        }
        var noProgressLoops = 0
        while true {
            // __perform_reclaim: cond_resched() first.
            runKswapds()
            if highest == .movable { vmstat.allocstallMovable += 1 } else { vmstat.allocstallNormal += 1 }
            let progress = directReclaim(order: order, zonelist: zonelist)
            if let (pfn, z) = directReclaimRetry(order: order, gfp: gfp, zonelist: zonelist, progress: progress) {
                markAllocated(pfn, order: order, kind: kind, z: z); return pfn
            }
            if gfp.contains(.noretry) { return allocFailed(order: order, gfp: gfp) }
            // `costly_order && !__GFP_RETRY_MAYFAIL`: nopage after this one round, whatever
            // reclaim freed (a pool's huge page on a node that already failed during the
            // resize: alloc_buddy_huge_page drops __GFP_RETRY_MAYFAIL there).
            if order > Machine.costlyOrder && !gfp.contains(.retryMayfail) {
                return allocFailed(order: order, gfp: gfp)
            }
            if progress > 0 { continue }
            // A costly __GFP_RETRY_MAYFAIL allocation (a pool's huge page) goes back to `retry:`
            // until `no_progress_loops` passes MAX_RECLAIM_RETRIES, waking kswapd each time:
            // 17 direct reclaims and 16 failed kswapd passes, after which the node is hopeless
            // (pool-grow-until-fail-1g on 6.1.0-57: allocstall_movable 17, node_unreclaimable 1).
            if order > Machine.costlyOrder && gfp.contains(.retryMayfail) && noProgressLoops < Machine.maxReclaimRetries
            {
                noProgressLoops += 1
                if gfp.contains(.kswapdReclaim) {
                    wakeAllKswapds(order: order, highest: highest, zonelist: zonelist)
                }
                if let (pfn, z) = getPageFromFreelist(order: order, gfp: gfp, zonelist: zonelist, level: .min) {
                    markAllocated(pfn, order: order, kind: kind, z: z)
                    runKswapds()
                    return pfn
                }
                continue
            }
            // The model is deterministic: otherwise, with no progress a retry changes nothing.
            // `__alloc_pages_may_oom` leaves out costly orders, __GFP_RETRY_MAYFAIL and
            // __GFP_THISNODE, and lowmem requests ("The OOM killer does not needlessly kill
            // tasks for lowmem": `ac->highest_zoneidx < ZONE_NORMAL`, GFP_DMA and GFP_DMA32).
            if gfp.contains(.retryMayfail) || gfp.contains(.thisnode) || order > Machine.costlyOrder
                || highest < .normal
            {
                return allocFailed(order: order, gfp: gfp)
            }
            guard oomKill(zonelist: zonelist) else { return allocFailed(order: order, gfp: gfp) }
        }
    }

    /// `try_to_free_pages` → `do_try_to_free_pages`: the model's reclaim takes what it can
    /// at once; the priorities DEF_PRIORITY down to 0 run the shrinkers (`shrink_slab` in
    /// every `shrink_node`) until enough was reclaimed. The allocating task gives the CPU up
    /// here first, so a kvfree_rcu grace period's work can run. Progress on a node resets its
    /// `kswapd_failures`.
    func directReclaim(order: Int, zonelist: [Int]) -> Int {
        kvfreeRCUGracePeriodEnds()
        let target = Swift.max(Machine.swapClusterMax, 1 << order)
        let progress = reclaim(pages: target, zonelist: zonelist)
        vmstat.pgstealDirect += progress
        var priority = Machine.defPriority
        while priority >= 0 {
            shrinkSlab(priority: priority)
            if progress >= target { break }
            priority -= 1
        }
        if progress > 0 { reclaimProgress(zonelist: zonelist) }
        return progress
    }

    /// The retry in `__alloc_pages_direct_reclaim`: after reclaim made progress, try the
    /// freelists; if that fails, `drain_all_pages(NULL)` empties every zone's pcp lists into
    /// the buddy ("pages are pinned on the per-cpu lists") and tries once more. Under a
    /// kernel-memory filler this is what makes the order-0 pages a caller just freed to the
    /// pcp lists (the vmemmap pages HVO gave back for a replacement huge page, order-9 huge
    /// page frees on the Movable pcp) count as free again. Without progress the kernel skips
    /// both tries; the model keeps its plain retry there (its reclaim is all-or-nothing).
    func directReclaimRetry(order: Int, gfp: GFP, zonelist: [Int], progress: Int) -> (PFN, Int)? {
        if let r = getPageFromFreelist(order: order, gfp: gfp, zonelist: zonelist, level: .min) { return r }
        guard progress > 0 else { return nil }
        drainAllPCP()
        return getPageFromFreelist(order: order, gfp: gfp, zonelist: zonelist, level: .min)
    }

    /// warn_alloc() reports a failure unless __GFP_NOWARN, at most once per 10 s
    /// (`DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1)`): an offline retrying migration for a
    /// minute logs a handful of these, not one per attempt.
    func allocFailed(order: Int, gfp: GFP) -> PFN? {
        vmstat.allocFailures += 1
        // warn_alloc: __GFP_NOWARN, then the ratelimit (its suppressed count is logged when
        // the next interval starts, whether or not that call prints).
        if !gfp.contains(.nowarn) {
            let r = nopageRatelimit.check(now: clock)
            if r.suppressed > 0 { log("<4>warn_alloc: \(r.suppressed) callbacks suppressed") }
            if r.pass { log("<4>page allocation failure: order:\(order), mode:\(gfp)") }
        }
        return nil
    }

    /// Free up to `pages` reclaimable pages in the given zones, oldest owners first; each
    /// owner's blocks from the end of its list, passing over those in other zones. Returns
    /// the pages freed.
    ///
    /// The owner's zone summary lets the scan jump over runs of blocks outside the zones
    /// without looking at them: the same blocks are freed in the same order (a block passed
    /// over changes nothing), but a list whose newest blocks are all elsewhere is no longer
    /// walked again by every allocation that reclaims.
    @discardableResult
    func reclaim(pages target: Int, zonelist: [Int]) -> Int {
        var eligible = [Bool](repeating: false, count: zones.count)
        var zoneBits: UInt64 = 0
        for z in zonelist {
            eligible[z] = true
            zoneBits |= BlockZoneSummary.bit(z)
        }
        // Nothing reclaimable has landed anywhere since a full scan of a superset of these
        // zones freed nothing: this scan would free nothing too.
        if target > 0, owners.reclaimShortcut, let last = owners.reclaimFoundNothing,
            last.generation == owners.reclaimableGeneration,
            zonelist.allSatisfy({ last.zones[$0] })
        {
            return 0
        }
        var freed = 0
        for id in owners.slots.indices where freed < target {
            // Scalars only: an Owner copy held across detach() would copy its block list.
            guard let (order, held, reclaimable) = owners[id].map({ ($0.order, $0.blocks.count, $0.reclaimable) }),
                reclaimable
            else { continue }
            let skip = owners.reclaimShortcut
            if skip && owners.slots[id]!.zoneSummary == nil { buildZoneSummary(owner: id) }
            var i = held - 1
            // Invariant: `owners[id]` was checked above; detach and freePages never destroy
            // an owner (only the OOM killer and Boot do).
            while i >= 0 && freed < target {
                if skip {
                    i = owners.slots[id]!.zoneSummary!.candidate(atOrBelow: i, zones: zoneBits)
                    if i < 0 { break }
                }
                owners.reclaimVisited += 1
                let pfn = Int(owners.slots[id]!.blocks[i])
                if let z = zoneIndex(ofPFN: pfn), eligible[z] {
                    detach(pfn)
                    memmap.setOwner(pfn, 0)
                    freePages(pfn, order: order)
                    freed += 1 << order
                }
                // Every block of this word has now been looked at (a scan enters a word at
                // its top): its mask can drop the zones whose blocks were freed.
                if skip && i & 63 == 0 { refineZoneSummary(owner: id, word: i >> BlockZoneSummary.wordShift) }
                i = Swift.min(i - 1, owners.slots[id]!.blocks.count - 1)
            }
        }
        if target > 0 && freed == 0 {
            owners.reclaimFoundNothing = (owners.reclaimableGeneration, eligible)
        }
        return freed
    }

    /// The exact summary of an owner's blocks (once; attach, detach and migration keep it).
    func buildZoneSummary(owner id: Int) {
        var s = BlockZoneSummary()
        let count = owners.slots[id]!.blocks.count
        for p in 0..<count { s.mark(p, BlockZoneSummary.bit(zoneIndex(ofPFN: owners.slots[id]!.blocks[p]))) }
        owners.slots[id]!.zoneSummary = s
    }

    /// Recompute one word of an owner's zone summary from the blocks it holds now.
    func refineZoneSummary(owner id: Int, word w: Int) {
        let count = owners.slots[id]!.blocks.count
        var mask: UInt64 = 0
        var p = w << BlockZoneSummary.wordShift
        let end = Swift.min(count, p + (1 << BlockZoneSummary.wordShift))
        while p < end {
            mask |= BlockZoneSummary.bit(zoneIndex(ofPFN: owners.slots[id]!.blocks[p]))
            p += 1
        }
        owners.slots[id]!.zoneSummary!.setWord(w, mask, count: count)
    }

    /// `out_of_memory` → `select_bad_process`: kill the largest process (anonymous memory
    /// owner) with pages in these zones, never init (`oom_unkillable_task`:
    /// `is_global_init`). Returns false when there is nothing to kill (the kernel then
    /// panics, "Out of memory and no killable processes..."; the model fails the allocation)
    /// or when the victim is a process the model does not track (`untrackedOOMVictim`).
    func oomKill(zonelist: [Int]) -> Bool {
        let eligible = Set(zonelist.map { zones[$0].node })
        guard
            let victim = owners.all.filter({
                $0.kind == .anon && !$0.oomUnkillable && eligible.contains($0.node) && $0.pages > 0
            })
            .max(by: { $0.pages < $1.pages })
        else { return killUntrackedProcess() }
        vmstat.oomKill += 1
        log("Out of memory: Killed process (\(victim.name)) total-vm:\(victim.pages * 4)kB")
        explain.add(time: clock, "oom", "killed \(victim.name) holding \(victim.pages) pages")
        destroyOwner(victim.id)
        return true
    }

    /// No tracked owner to kill: the victim is `untrackedOOMVictim` if there is one. Its
    /// pages are not in the model, so the allocation still fails (false) either way.
    func killUntrackedProcess() -> Bool {
        guard let name = untrackedOOMVictim else { return false }
        untrackedOOMVictim = nil
        vmstat.oomKill += 1
        log("Out of memory: Killed process (\(name))")
        explain.add(time: clock, "oom", "killed \(name), a process whose pages the model does not track")
        return false
    }
}
