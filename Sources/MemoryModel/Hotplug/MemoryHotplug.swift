import SystemPackage

/// Memory hotplug in the kernel's step order: adding memory and creating its blocks
/// (`add_memory_resource`), onlining a block (`memory_block_online` → `online_pages`),
/// offlining it (`memory_block_offline` → `offline_pages`) and removing it
/// (`try_remove_memory`), with the sysfs entry points' semantics (`state_store`,
/// `online_store` → `device_online`/`device_offline`).
///
/// Costs are O(block) per operation; nothing walks all of memory.
extension Machine {
    static let pluggableEndBytes = 1 << 46  // MAX_PHYSMEM_BITS on 4-level paging

    func devpath(_ id: Int) -> String { "/devices/system/memory/memory\(id)" }

    func emitUevent(_ action: Uevent.Action, block id: Int) {
        hotplug.uevents.append(Uevent(action: action, devpath: devpath(id), time: clock))
    }

    /// `echo 'file mm/memory_hotplug.c +p' > /proc/dynamic_debug/control` (what the kernel
    /// runner's guest does before the first step): pr_debug lines also go to kmsg.
    public var dynamicDebug: Bool {
        get { hotplug.dynamicDebug }
        set { hotplug.dynamicDebug = newValue }
    }

    /// A pr_debug line: in the explanation always, in kmsg only with dynamic debug on.
    func prDebug(_ subject: String, _ line: String) {
        explain.add(time: clock, subject, line)
        if hotplug.dynamicDebug { log("<7>" + line) }
    }

    func kernelError(_ errno: Int) -> KernelError {
        KernelError(Errno(rawValue: Int32(-errno)), "notifier returned \(errno)")
    }

    // MARK: Boot blocks

    /// `memory_dev_init` → `add_boot_memory_block` for every block with present memory, each
    /// online with `mem->zone` from `early_node_zone_for_memory_block` (nil when the block's
    /// range intersects several populated zones' spans or belongs to several nodes). Also
    /// remembers which boot blocks contain holes. Call once after boot memory is set up.
    public func registerBootMemoryBlocks() {
        let bp = blockPages
        let nBlocks = (memmap.pfnCount + bp - 1) / bp
        for id in 0..<nBlocks where blocks[id] == nil {
            let range = PFNRange(start: id * bp, end: Swift.min((id + 1) * bp, memmap.pfnCount))
            var nodesSeen = Set<Int>()
            var pb = range.start
            var lastNode = -1
            while pb < range.end {
                if let z = zoneIndex(ofPFN: pb), zones[z].node != lastNode {
                    lastNode = zones[z].node
                    nodesSeen.insert(lastNode)
                }
                pb += Geometry.pageblockPages
            }
            guard let node = nodesSeen.min() else { continue }
            var zone: ZoneType?
            if nodesSeen.count == 1 {
                let matches = ZoneType.allCases.filter { t in
                    let zz = zones[zoneIndex(node: node, type: t)]
                    return zz.isPopulated && zz.intersects(PFNRange(start: id * bp, count: bp))
                }
                zone = matches.count == 1 ? matches[0] : nil
            }
            var mem = MemoryBlock(
                id: id, startPFN: id * bp, pages: bp, state: .online, zone: zone, node: node, isBoot: true)
            mem.onlineType = .offline
            blocks[id] = mem
            if range.count < bp || firstHole(in: range) != nil { hotplug.holeBlocks.insert(id) }
        }
    }

    /// The first pfn of the range that is not System RAM (absent), or nil.
    func firstHole(in range: PFNRange) -> PFN? { memmap.firstPFN(of: .absent, in: range) }

    // MARK: Groups

    /// `memory_group_register_static`: one ACPI memory device.
    public func registerStaticMemoryGroup(node: Int, maxPages: Int) throws -> Int {
        guard maxPages > 0, nodes.indices.contains(node), nodes[node].exists else {
            throw KernelError(.invalidArgument, "bad static memory group")
        }
        let id = hotplug.nextGroupID
        hotplug.nextGroupID += 1
        hotplug.groups[id] = MemoryGroup(id: id, node: node, isDynamic: false, maxPages: maxPages, unitPages: 0)
        return id
    }

    /// `memory_group_register_dynamic`: one virtio-mem device, added in units of `unitPages`.
    public func registerDynamicMemoryGroup(node: Int, unitPages: Int) throws -> Int {
        guard unitPages >= blockPages, unitPages.nonzeroBitCount == 1, nodes.indices.contains(node), nodes[node].exists
        else {
            throw KernelError(.invalidArgument, "bad dynamic memory group")
        }
        let id = hotplug.nextGroupID
        hotplug.nextGroupID += 1
        hotplug.groups[id] = MemoryGroup(id: id, node: node, isDynamic: true, maxPages: 0, unitPages: unitPages)
        return id
    }

    /// `memory_group_unregister`: EBUSY while blocks still belong to it.
    public func unregisterMemoryGroup(_ id: Int) throws {
        guard hotplug.groups[id] != nil else { throw KernelError(.invalidArgument) }
        if blocks.values.contains(where: { $0.group == id }) { throw KernelError(.resourceBusy) }
        hotplug.groups[id] = nil
    }

    // MARK: Adding memory

    /// `mhp_supports_memmap_on_memory(size)`: enabled, exactly one block, whole PMDs of
    /// memmap and whole pageblocks left over.
    public func supportsMemmapOnMemory(sizeBytes: Int) -> Bool {
        let vmemmapBytes = (sizeBytes >> Geometry.pageShift) * Geometry.structPageSize
        return params.memmapOnMemory && sizeBytes == blockPages << Geometry.pageShift
            && vmemmapBytes % (2 << 20) == 0
            && (sizeBytes - vmemmapBytes) % (Geometry.pageblockPages << Geometry.pageShift) == 0
    }

    /// `__add_memory` → `add_memory_resource`: claim the range, create its memmap (from the
    /// buddy allocator of the node's kernel zones, or from the range itself with
    /// memmap_on_memory), create the blocks offline (KOBJ_ADD each), then auto-online them as
    /// `auto_online_blocks` says, stopping at the first failure (whose error is ignored).
    /// Returns the new block ids.
    @discardableResult
    public func addMemory(
        node nid: Int, startBytes: Int, sizeBytes: Int, group: Int? = nil,
        memmapOnMemory: Bool = false, device: String? = nil, booting: Bool = false
    ) throws -> [Int] {
        enterKernel()
        defer { exitToUserMode() }
        let blockBytes = blockPages << Geometry.pageShift
        // register_memory_resource
        guard sizeBytes > 0, startBytes >= 0, startBytes + sizeBytes <= Machine.pluggableEndBytes,
            (startBytes + sizeBytes) >> Geometry.pageShift <= memmap.pfnCount
        else {
            throw KernelError(.argListTooLong, "range outside the pluggable range")
        }
        if booting, let max = layout?.maxMemSizeBytes, startBytes + sizeBytes > max {
            throw KernelError(.argListTooLong, "range above mem=")
        }
        let range = PFNRange(start: startBytes >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift)
        if busyResource(range) {
            prDebug(
                "hotplug",
                "Unable to reserve System RAM region: \(hex(startBytes, width: 16, prefix: false))->\(hex(startBytes + sizeBytes, width: 16, prefix: false))"
            )
            throw KernelError(.fileExists, "range already in use")
        }
        // check_hotplug_memory_range
        guard startBytes % blockBytes == 0, sizeBytes % blockBytes == 0 else {
            log(
                "Block size [\(hex(blockBytes))] unaligned hotplug range: start \(hex(startBytes)), size \(hex(sizeBytes))"
            )
            throw KernelError(.invalidArgument, "unaligned hotplug range")
        }
        var node = nid
        if let gid = group {
            guard let g = hotplug.groups[gid] else { throw KernelError(.invalidArgument, "no memory group \(gid)") }
            node = g.node
        }
        guard nodes.indices.contains(node), nodes[node].exists else {
            log("node \(node) was absent from the node_possible_map")
            throw KernelError(.invalidArgument, "node \(node) not possible")
        }
        if memmapOnMemory && !supportsMemmapOnMemory(sizeBytes: sizeBytes) {
            throw KernelError(.invalidArgument, "memmap_on_memory not supported for this size")
        }
        // arch_add_memory → __add_pages → sparse_add_section, one section at a time: the
        // section's memmap (64 bytes per page, 2 MiB per 128 MiB section) is populated from the
        // buddy allocator of the node (vmemmap_populate), or from the range itself with
        // memmap_on_memory (the altmap).
        let vmemmapPerBlock = memmapOnMemory ? blockPages * Geometry.structPageSize / Geometry.pageSize : 0
        if !memmapOnMemory {
            var populated: [Int] = []
            var section = range.start / Geometry.pagesPerSection
            while section * Geometry.pagesPerSection < range.end {
                guard populateSectionMemmap(section, node: node) else {
                    // The kernel leaves the sections populated before the failure behind
                    // (__add_pages stops, add_memory_resource does not depopulate them); the
                    // model gives their memmap back so that a later add can succeed.
                    for s in populated.reversed() { vmemmapFreeSection(s) }
                    throw KernelError(
                        .noMemory, "cannot allocate the memmap of section \(section) on node \(node) or elsewhere")
                }
                populated.append(section)
                section += 1
            }
        }
        memmap.fill(range, kind: .offline)
        // arch_add_memory → add_pages → update_end_of_memory_vars.
        hotplug.addedEndPFN = Swift.max(hotplug.addedEndPFN, range.end)
        hotplug.resources.append(
            HotplugResource(
                range: range, node: node, group: group, memmapOnMemory: memmapOnMemory,
                device: device))
        var ids: [Int] = []
        var pfn = range.start
        while pfn < range.end {
            let id = pfn / blockPages
            blocks[id] = MemoryBlock(
                id: id, startPFN: pfn, pages: blockPages, state: .offline, zone: nil, node: node,
                group: group, vmemmapPages: vmemmapPerBlock, isBoot: false, device: device)
            emitUevent(.add, block: id)
            ids.append(id)
            pfn += blockPages
            condResched()
        }
        advance(nanoseconds: HotplugCost.addBlock * UInt64(ids.count))
        // Auto-online: errors are not reported to the caller, and the walk stops at the first.
        // Invariant for `blocks[id]!`: the blocks were created just above, and only
        // removeMemory drops one, which no onlining path calls.
        if params.autoOnline != .offline {
            for id in ids {
                blocks[id]!.onlineType = params.autoOnline
                do { _ = try deviceOnline(id) } catch { break }
            }
        }
        return ids
    }

    /// Whether any part of the range is already a busy resource: boot RAM or added memory.
    func busyResource(_ range: PFNRange) -> Bool {
        var id = range.start / blockPages
        while id * blockPages < range.end {
            if blocks[id] != nil { return true }
            id += 1
        }
        return hotplug.resources.contains { $0.range.intersects(range) }
    }

    // MARK: Onlining

    /// `device_online` of a memory block. Returns false when it was online already (the
    /// kernel's 1, which `state` turns into EINVAL and `online` into success).
    @discardableResult
    public func deviceOnline(_ id: Int) throws -> Bool {
        enterKernel()
        defer { exitToUserMode() }
        guard let mem = blocks[id] else { throw KernelError(.noSuchFileOrDirectory, "no memory block \(id)") }
        if mem.state == .online { return false }
        // Invariant for the `blocks[id]!` here and in memoryBlockOnline (its only caller is
        // this): checked by the guard above; only removeMemory drops a block, and it runs
        // under device_hotplug_lock, which this online holds (no onlining path calls it).
        // memory_subsys_online: no online_type configured means MMOP_ONLINE.
        if mem.onlineType == .offline { blocks[id]!.onlineType = .online }
        defer { blocks[id]?.onlineType = .offline }
        guard mem.state == .offline else { throw KernelError(.invalidArgument, "block \(id) is \(mem.state.name)") }
        try memoryBlockOnline(id)
        blocks[id]!.state = .online
        emitUevent(.online, block: id)
        return true
    }

    /// `memory_block_online`.
    func memoryBlockOnline(_ id: Int) throws {
        let mem = blocks[id]!
        let zt = zoneForPFNRange(mem.onlineType, node: mem.node, group: mem.group, range: mem.range)
        let z = zoneIndex(node: mem.node, type: zt)
        let vm = mem.vmemmapPages
        if vm > 0 { initMemmapOnMemory(PFNRange(start: mem.startPFN, count: vm), zone: z) }
        do {
            try onlinePages(
                PFNRange(start: mem.startPFN + vm, end: mem.range.end), zone: z, group: mem.group, early: mem.isBoot,
                block: id)
        } catch {
            if vm > 0 { deinitMemmapOnMemory(PFNRange(start: mem.startPFN, count: vm), zone: z) }
            throw error
        }
        if vm > 0 { adjustPresentPages(z, group: mem.group, early: mem.isBoot, by: vm) }
        blocks[id]!.zone = zt
    }

    /// `mhp_init_memmap_on_memory`: the self-hosted memmap joins the zone as reserved,
    /// MIGRATE_UNMOVABLE pages that are never given to the buddy allocator.
    func initMemmapOnMemory(_ range: PFNRange, zone z: Int) {
        growZoneSpan(z, range)
        setPageblockZone(range, zone: z)
        var pb = range.start
        while pb < range.end { setPageblockMigrateType(pb, .unmovable); pb += Geometry.pageblockPages }
        memmap.fill(range, kind: .reserved)
    }

    /// `mhp_deinit_memmap_on_memory`.
    func deinitMemmapOnMemory(_ range: PFNRange, zone z: Int) {
        memmap.fill(range, kind: .offline)
        setPageblockZone(range, zone: nil)
        shrinkZoneSpan(z, removed: range)
    }

    /// `adjust_present_page_count`: zone (and early pages for boot memory) and memory group.
    func adjustPresentPages(_ z: Int, group: Int?, early: Bool, by n: Int) {
        zones[z].presentPages += n
        if early { zones[z].presentEarlyPages += n }
        if let g = group {
            if zones[z].type == .movable {
                hotplug.groups[g]?.presentMovablePages += n
            } else {
                hotplug.groups[g]?.presentKernelPages += n
            }
        }
    }

    /// `resize_zone_range`, after `init_currently_empty_zone` for an empty zone.
    func growZoneSpan(_ z: Int, _ range: PFNRange) {
        if zones[z].spannedPages == 0 {
            zones[z].startPFN = range.start
            zones[z].spannedPages = range.count
            return
        }
        let end = Swift.max(range.end, zones[z].endPFN)
        if range.start < zones[z].startPFN { zones[z].startPFN = range.start }
        zones[z].spannedPages = end - zones[z].startPFN
    }

    /// `shrink_zone_span`: when the removed range was the zone's first (or last) part, move
    /// the start (end) to the next subsection still online in this zone, or empty the span.
    func shrinkZoneSpan(_ z: Int, removed: PFNRange) {
        let step = Geometry.pageblockPages  // PAGES_PER_SUBSECTION
        if zones[z].startPFN == removed.start {
            var pfn = removed.end
            let end = zones[z].endPFN
            while pfn < end {
                if zoneIndex(ofPFN: pfn) == z {
                    zones[z].spannedPages = end - pfn
                    zones[z].startPFN = pfn
                    return
                }
                pfn += step
            }
            zones[z].startPFN = 0
            zones[z].spannedPages = 0
        } else if zones[z].endPFN == removed.end {
            var pfn = removed.start - 1
            while pfn >= zones[z].startPFN {
                if zoneIndex(ofPFN: pfn) == z {
                    zones[z].spannedPages = pfn - zones[z].startPFN + 1
                    return
                }
                pfn -= step
            }
            zones[z].startPFN = 0
            zones[z].spannedPages = 0
        }
    }

    /// `node_states_check_changes_online` / `_offline`: which node states the operation flips.
    func nodeStateChanges(zone z: Int, pages: Int, online: Bool) -> (memory: Int?, normal: Int?) {
        let nid = zones[z].node
        var nodePresent = 0, kernelPresent = 0
        for t in ZoneType.allCases {
            let p = zones[zoneIndex(node: nid, type: t)].presentPages
            nodePresent += p
            if t <= .normal { kernelPresent += p }
        }
        let isKernel = zones[z].type <= .normal
        if online {
            return (nodePresent == 0 ? nid : nil, isKernel && kernelPresent == 0 ? nid : nil)
        }
        return (nodePresent == pages ? nid : nil, isKernel && kernelPresent == pages ? nid : nil)
    }

    /// `online_pages`: join the zone (span grows), ask the notifier chain, give the pages to
    /// the buddy allocator in MAX_ORDER-1 chunks and make them allocatable. The chunks end up
    /// at the tail of the MIGRATE_MOVABLE free lists, lowest pfn first, as freeing into
    /// isolated pageblocks and undoing the isolation leaves them, so existing free memory is
    /// used before the new memory.
    func onlinePages(_ range: PFNRange, zone z: Int, group: Int?, early: Bool, block id: Int) throws {
        guard range.count > 0, range.start % Geometry.pageblockPages == 0, range.end % Geometry.pagesPerSection == 0
        else {
            throw KernelError(.invalidArgument, "misaligned online range")
        }
        let wasPopulated = zones[z].isPopulated
        // move_pfn_range_to_zone(..., MIGRATE_ISOLATE)
        growZoneSpan(z, range)
        setPageblockZone(range, zone: z)
        var pb = range.start
        while pb < range.end { setPageblockMigrateType(pb, .isolate); pb += Geometry.pageblockPages }
        let changes = nodeStateChanges(zone: z, pages: range.count, online: true)
        let arg = MemoryNotify(
            event: .goingOnline, startPFN: range.start, nrPages: range.count,
            statusChangeNid: changes.memory, statusChangeNidNormal: changes.normal)
        let r = memoryNotify(.goingOnline, arg)
        if r != 0 {
            prDebug("memory\(id)", "online_pages \(range) failed")
            memoryNotify(.cancelOnline, arg)
            setPageblockZone(range, zone: nil)
            shrinkZoneSpan(z, removed: range)
            throw kernelError(r)
        }
        // online_pages_range + undo_isolate_page_range(MIGRATE_MOVABLE)
        memmap.fill(range, kind: .buddyTail)
        var pfn = range.start
        while pfn < range.end {
            var order = Swift.min(Geometry.maxOrder - 1, pfn.trailingZeroBitCount)
            while pfn + (1 << order) > range.end { order -= 1 }
            addToFreeList(z, pfn, order: order, mt: .movable, tail: true)
            pfn += 1 << order
        }
        pb = range.start
        while pb < range.end { setPageblockMigrateType(pb, .movable); pb += Geometry.pageblockPages }
        zones[z].managedPages += range.count
        adjustPresentPages(z, group: group, early: early, by: range.count)
        if !wasPopulated { buildZonelists() }
        initPerZoneWmarkMin()
        advance(nanoseconds: HotplugCost.onlineBlock)
        memoryNotify(.online, arg)
        if !wasPopulated { kernelActivityAfterNewFirstZone(z) }
    }

    /// A kernel zone that was empty and is now the first zone of GFP_KERNEL's zonelist on the
    /// CPU's node (node 0) gets the kernel's next unmovable allocations: they steal the
    /// pageblock at the head of its free lists, i.e. its lowest pfn (c-movablecore: the slab
    /// page at pfn 0x30000 that makes memory6's offline EBUSY). A zone behind another
    /// populated kernel zone (another node's, or below Normal) sees none of them. They come
    /// with what the guest does next, not with the online itself (`kernelActivityRuns`).
    func kernelActivityAfterNewFirstZone(_ z: Int) {
        guard zones[z].type <= .normal, nodes.indices.contains(0), nodes[0].exists,
            zonelist(gfp: .kernel, node: 0).first(where: { zones[$0].managedPages > 0 }) == z
        else { return }
        hotplug.slabAfterOnlinePending = true
    }

    /// The kernel's next slab pages after `kernelActivityAfterNewFirstZone`, from wherever
    /// GFP_KERNEL's zonelist on node 0 leads now. Since 3e3bb38 only three callers run it: a
    /// read whose text fills seq_read_iter's first page (KernelFS `show`: the retry's 8 KiB
    /// kvmalloc takes kmalloc-8k's order-3 slab), the scenario runner's `dump blocks` (a
    /// burst of opens whose filp objects are freed by call_rcu) and the guest's next user
    /// memory (a hold's page tables or a file's XArray nodes, a fill). Small sysfs/procfs
    /// reads take none (held-out seed 246's traces: settle's state reads took nothing from the
    /// new zone). Writes take none: campaign seeds 147, 151 and 155 online a block, write
    /// sysfs files and eject it (the kernel offlines it); seeds 2, 5 and 90 read or hold memory
    /// in between and the kernel's slab pages make the offline EBUSY. Seed 138 has 147's steps
    /// after a pool of 275 grown and shrunk, and the kernel's slab lands there in every run
    /// (not modelled). Returns whether it changed the machine (KernelFS journals such a read).
    @discardableResult
    public func kernelActivityRuns() -> Bool {
        enterKernel()
        defer { exitToUserMode() }
        guard hotplug.slabAfterOnlinePending else { return false }
        hotplug.slabAfterOnlinePending = false
        // Dentries and inodes of the files the guest looks up (SLAB_RECLAIM_ACCOUNT caches:
        // __GFP_RECLAIMABLE), so the first of them steals the zone's head block as
        // MIGRATE_RECLAIMABLE: a 6.1.0-57 probe (offline-pinned-timeout's online_kernel of
        // memory32-33, then a read) showed Normal with 2 Reclaimable pageblocks, 0 Unmovable.
        // In use, as the boot's SReclaimable: reclaim does not free them.
        let name = "kernel:slab_after_online"
        guard
            let id = ownerID(named: name)
                ?? (try? createOwner(name: name, kind: .slabReclaimable, node: 0, reclaimable: false))
        else {
            return true
        }
        allocate(owner: id, blocks: Machine.slabPagesAfterOnline)
        if let z = zonelist(gfp: .kernel, node: 0).first(where: { zones[$0].managedPages > 0 }) {
            explain.add(
                time: clock, "zone \(zones[z].type.name)",
                "node 0's GFP_KERNEL allocations start in zone \(zones[z].type.name) (node \(zones[z].node)): the guest's first read or memory since the online takes the kernel's next \(Machine.slabPagesAfterOnline) slab pages from its lowest pageblock"
            )
        }
        return true
    }

    // MARK: Offlining

    /// `device_offline` of a memory block. Returns false when it was offline already.
    /// `deadline` is the virtual time at which a signal interrupts the offline (nil: the
    /// model's default timeout, see `HotplugState.defaultOfflineTimeout`).
    /// `signals: false` is a kernel thread's offline (the ACPI hotplug worker): nothing
    /// interrupts offline_pages(), so where it would retry forever it throws `OfflineSpins`
    /// instead (the range is given back, the caller decides how to wait).
    @discardableResult
    public func deviceOffline(_ id: Int, deadline: UInt64? = nil, signals: Bool = true) throws -> Bool {
        enterKernel()
        defer { exitToUserMode() }
        guard let mem = blocks[id] else { throw KernelError(.noSuchFileOrDirectory, "no memory block \(id)") }
        if mem.state == .offline { return false }
        // memory_block_change_state(MEM_OFFLINE, MEM_ONLINE)
        guard mem.state == .online else { throw KernelError(.invalidArgument, "block \(id) is \(mem.state.name)") }
        // Invariant for the `blocks[id]!` here and in memoryBlockOffline (called only from
        // here): checked by the guard above; removeMemory, the only remover, needs
        // device_hotplug_lock, held through the offline even while it yields the machine lock.
        blocks[id]!.state = .goingOffline
        condResched()
        do {
            // A caller waiting in real time is only stopped by its signal.
            let limit = deadline ?? (offlineRetryWait != nil ? .max : clock &+ hotplug.defaultOfflineTimeout)
            try memoryBlockOffline(id, deadline: signals ? limit : .max, signals: signals)
        } catch {
            blocks[id]!.state = .online
            throw error
        }
        blocks[id]!.state = .offline
        emitUevent(.offline, block: id)
        return true
    }

    /// `memory_block_offline`.
    func memoryBlockOffline(_ id: Int, deadline: UInt64, signals: Bool = true) throws {
        let mem = blocks[id]!
        guard let zt = mem.zone else {
            explain.add(
                time: clock, "memory\(id)",
                "memory\(id) spans several zones or nodes (valid_zones: none): mem->zone is NULL, offline is EINVAL")
            throw KernelError(.invalidArgument, "block spans zones or nodes")
        }
        let z = zoneIndex(node: mem.node, type: zt)
        let vm = mem.vmemmapPages
        if vm > 0 { adjustPresentPages(z, group: mem.group, early: mem.isBoot, by: -vm) }
        do {
            try offlinePages(
                PFNRange(start: mem.startPFN + vm, end: mem.range.end), zone: z, group: mem.group,
                early: mem.isBoot, block: id, deadline: deadline, signals: signals)
        } catch {
            if vm > 0 { adjustPresentPages(z, group: mem.group, early: mem.isBoot, by: vm) }
            throw error
        }
        if vm > 0 { deinitMemmapOnMemory(PFNRange(start: mem.startPFN, count: vm), zone: z) }
        blocks[id]!.zone = nil
    }

    /// `offline_pages`, step by step; see the reasons in the kernel's failure message.
    func offlinePages(
        _ range: PFNRange, zone z: Int, group: Int?, early: Bool, block id: Int, deadline: UInt64, signals: Bool = true
    ) throws {
        let subject = "memory\(id)"
        func failure(_ errno: Errno, _ reason: String, _ why: String) -> KernelError {
            let line = "memory offlining \(range) failed due to \(reason)"
            prDebug(subject, line)
            explain.add(time: clock, subject, why)
            return KernelError(errno, line)
        }
        guard range.count > 0, range.start % Geometry.pageblockPages == 0, range.end % Geometry.pagesPerSection == 0
        else {
            throw KernelError(.invalidArgument, "misaligned offline range")
        }
        // walk_system_ram_range: the block must be System RAM throughout.
        if early || hotplug.holeBlocks.contains(id),
            let hole = firstHole(in: range) ?? (range.end > memmap.pfnCount ? memmap.pfnCount : nil)
        {
            throw failure(
                .invalidArgument, "memory holes",
                "pfn \(hex(hole)) in block \(id) is not System RAM (a hole in the firmware memory map)")
        }
        guard zoneIndex(ofPFN: range.start) == z, zoneIndex(ofPFN: range.end - 1) == z else {
            throw failure(
                .invalidArgument, "multizone range", "block \(id) has pages outside zone \(zones[z].type.name)")
        }
        zonePCPDisable(z)
        func pcpEnable() { zonePCPEnable(z) }

        if let bad = startIsolatePageRange(range, zone: z, memoryOffline: true) {
            pcpEnable()
            dumpPage(bad, zone: z, reason: "unmovable page")
            throw failure(
                .resourceBusy, "failure to isolate range",
                "pfn \(hex(bad)) is \(unmovableDescription(bad)) in block \(id) (zone \(zones[z].type.name))")
        }
        let changes = nodeStateChanges(zone: z, pages: range.count, online: false)
        let arg = MemoryNotify(
            event: .goingOffline, startPFN: range.start, nrPages: range.count,
            statusChangeNid: changes.memory, statusChangeNidNormal: changes.normal)
        func undo() {
            undoIsolatePageRange(range, zone: z)
            memoryNotify(.cancelOffline, arg)
            pcpEnable()
        }
        let r = memoryNotify(.goingOffline, arg)
        if r != 0 {
            undo()
            throw failure(Errno(rawValue: Int32(-r)), "notifier failure", "a MEM_GOING_OFFLINE notifier returned \(r)")
        }
        // The retry loop, repeated until the range is free, an error, or a signal. A pass that
        // changes nothing would repeat forever: a caller waiting in real time sleeps between
        // such passes until its signal (`offlineRetryWait`); otherwise the model is
        // deterministic and skips virtual time to the deadline.
        func spinUntilSignal() -> Bool {
            if let wait = offlineRetryWait { return wait() }
            clock = Swift.max(clock, deadline)
            return true
        }
        retry: while true {
            var pfn = range.start
            condResched()
            while let movable = scanMovablePages(from: pfn, end: range.end) {
                if clock >= deadline {
                    undo()
                    throw failure(
                        .interrupted, "signal backoff",
                        "a signal arrived while page \(hex(movable)) was still being migrated")
                }
                let (migrated, failed) = doMigrateRange(PFNRange(start: movable, end: range.end), zone: z)
                advance(
                    nanoseconds: HotplugCost.offlinePass + UInt64(range.end - movable) * HotplugCost.perPageScanned
                        + UInt64(migrated) * HotplugCost.perMigration)
                if migrated == 0 && failed > 0 {
                    if !signals {
                        undo()
                        throw OfflineSpins(block: id, pfn: movable, kind: memmap.kind(movable))
                    }
                    guard spinUntilSignal() else { continue retry }
                    undo()
                    let k = memmap.kind(movable)
                    throw failure(
                        .interrupted, "signal backoff",
                        "pfn \(hex(movable)) is \(k) in block \(id) and never migrates (\(neverMigratesWhy(k))); offline_pages() retried until the signal"
                    )
                }
                pfn = movable
                condResched()
            }
            do {
                try dissolveFreeHugePages(range)
            } catch let e as KernelError {
                undo()
                throw failure(
                    e.errno, "failure to dissolve huge pages",
                    e.reason.isEmpty ? "a free huge page in block \(id) could not be dissolved" : e.reason)
            }
            guard let busy = testPagesIsolated(range, memoryOffline: true) else { break }
            // Nothing movable is left, yet not everything is free: only another thread can
            // change that (a real-time caller), else no later pass can differ.
            if !signals {
                undo()
                throw OfflineSpins(block: id, pfn: busy, kind: memmap.kind(busy))
            }
            guard spinUntilSignal() else { continue retry }
            undo()
            throw failure(
                .interrupted, "signal backoff",
                "pfn \(hex(busy)) is \(memmap.kind(busy)) in block \(id): not free, not migratable; offline_pages() retried until the signal"
            )
        }
        // __offline_isolated_pages: take every free page out of the buddy allocator; the
        // PageOffline pages a driver let go of are not in it.
        var pfn = range.start
        while pfn < range.end {
            if memmap.kind(pfn) != .buddy { pfn += 1; continue }
            let o = memmap.order(pfn)
            removeFromFreeList(z, pfn)
            pfn += 1 << o
        }
        memmap.fill(range, kind: .offline)
        setPageblockZone(range, zone: nil)
        zones[z].nrIsolatePageblock -= range.count / Geometry.pageblockPages
        pcpEnable()
        zones[z].managedPages -= range.count
        adjustPresentPages(z, group: group, early: early, by: -range.count)
        initPerZoneWmarkMin()
        if !zones[z].isPopulated {
            zones[z].pcp = PerCPUPages()
            buildZonelists()
        }
        memoryNotify(.offline, arg)
        shrinkZoneSpan(z, removed: range)
        prDebug(subject, "Offlined Pages \(range.count)")
    }

    func neverMigratesWhy(_ k: PageKind) -> String {
        switch k {
        case .pinned: "long-term pinned: the extra reference makes migration fail with -EAGAIN"
        case .ramfs:
            "ramfs page on the unevictable LRU: dirty, no writeback and no migrate_folio, migration fails with -EINVAL"
        default: "no migration target could be allocated"
        }
    }

    /// `dump_page(page, reason)` as the kernel log shows it (pr_warn level).
    func dumpPage(_ pfn: PFN, zone z: Int, reason: String) {
        let k = memmap.kind(pfn)
        let flag: String
        switch k {
        case .reserved: flag = "reserved"
        case .slabReclaimable, .slabUnreclaimable: flag = "slab"
        default: flag = ""
        }
        log("page:(____ptrval____) refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:\(hex(pfn))")
        log("flags: (\(flag)\(flag.isEmpty ? "" : "|")node=\(zones[z].node)|zone=\(zones[z].type.rawValue))")
        log("page dumped because: \(reason)")
    }

    // MARK: sysfs entry points

    /// `state_store` after parsing: online* sets `mem->online_type` and onlines (EINVAL when
    /// already online: the type stays recorded, as in the kernel); offline offlines (EINVAL
    /// when already offline). Under device_hotplug_lock (`lockDeviceHotplugSysfs`).
    public func storeState(block id: Int, _ type: OnlineType, deadline: UInt64? = nil) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard blocks[id] != nil else { throw KernelError(.noSuchFileOrDirectory) }
        try lockDeviceHotplugSysfs()
        let changed: Bool
        if type == .offline {
            changed = try deviceOffline(id, deadline: deadline)
        } else {
            blocks[id]!.onlineType = type  // checked by the guard above
            changed = try deviceOnline(id)
        }
        if !changed {
            throw KernelError(.invalidArgument, "block \(id) is already \(type == .offline ? "offline" : "online")")
        }
    }

    /// `online_store` after kstrtobool: already in the requested state is success.
    public func storeOnline(block id: Int, _ online: Bool, deadline: UInt64? = nil) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard blocks[id] != nil else { throw KernelError(.noSuchFileOrDirectory) }
        try lockDeviceHotplugSysfs()
        if online { try deviceOnline(id) } else { try deviceOffline(id, deadline: deadline) }
    }

    // MARK: Removal

    /// `try_remove_memory`: every block must be offline (EBUSY otherwise), memmap_on_memory
    /// blocks only with their add granularity; then the block devices go (KOBJ_REMOVE), the
    /// memmap pages are freed and the range is no longer present.
    public func removeMemory(startBytes: Int, sizeBytes: Int) throws {
        enterKernel()
        defer { exitToUserMode() }
        let blockBytes = blockPages << Geometry.pageShift
        guard sizeBytes > 0, startBytes % blockBytes == 0, sizeBytes % blockBytes == 0 else {
            throw KernelError(.invalidArgument, "unaligned remove range")
        }
        let range = PFNRange(start: startBytes >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift)
        let hit = blocks.filter { $0.value.range.intersects(range) }.sorted { $0.key < $1.key }
        let ids = hit.map(\.key)
        for (id, b) in hit where b.state != .offline {
            let s = Geometry.address(ofPFN: b.startPFN), e = Geometry.address(ofPFN: b.range.end) - 1
            log("removing memory fails, because memory [\(hex(s, width: 18))-\(hex(e, width: 18))] is onlined")
            throw KernelError(.resourceBusy, "memory block \(id) is online")
        }
        if hit.contains(where: { $0.value.vmemmapPages > 0 }) && sizeBytes != blockBytes {
            log("Refuse to remove \(hex(startBytes)) - \(hex(startBytes + sizeBytes - 1)),wrong granularity")
            throw KernelError(.invalidArgument, "memmap_on_memory range removed with the wrong granularity")
        }
        for id in ids {
            emitUevent(.remove, block: id)
            blocks[id] = nil
        }
        // arch_remove_memory → sparse_remove_section → vmemmap_free, section by section: the
        // memmap (the order-9 block, or its base pages and their PTE table), with any page
        // HVO's restores put in.
        var section = range.start / Geometry.pagesPerSection
        while section * Geometry.pagesPerSection < range.end { vmemmapFreeSection(section); section += 1 }
        var kept: [HotplugResource] = []
        for var res in hotplug.resources {
            guard res.range.intersects(range) else { kept.append(res); continue }
            let gone = res.range.clamped(to: range).count
            if gone < res.range.count {
                // Keep the part that stays (removal of a prefix or suffix of the add).
                if range.start <= res.range.start {
                    res.range = PFNRange(start: range.end, end: res.range.end)
                } else {
                    res.range = PFNRange(start: res.range.start, end: range.start)
                }
                kept.append(res)
            }
        }
        hotplug.resources = kept
        memmap.fill(range, kind: .absent)
    }

    /// `offline_and_remove_memory`: offline every block (remembering its zone), remove, and on
    /// any failure online again what was offlined, with the zone type it had.
    public func offlineAndRemoveMemory(startBytes: Int, sizeBytes: Int, deadline: UInt64? = nil) throws {
        enterKernel()
        defer { exitToUserMode() }
        let range = PFNRange(start: startBytes >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift)
        let ids = blocks.filter { $0.value.range.intersects(range) }.map(\.key).sorted()
        var offlined: [(Int, OnlineType)] = []
        var failure: Error?
        for id in ids {
            // Offlining a block removes none, so every id is still there.
            let wasMovable = blocks[id]?.zone == .movable
            do {
                if try deviceOffline(id, deadline: deadline) {
                    offlined.append((id, wasMovable ? .onlineMovable : .onlineKernel))
                }
            } catch { failure = error; break }
        }
        if failure == nil {
            do { try removeMemory(startBytes: startBytes, sizeBytes: sizeBytes); return } catch { failure = error }
        }
        for (id, type) in offlined {
            blocks[id]?.onlineType = type
            _ = try? deviceOnline(id)
        }
        throw failure!  // set on every path that did not return above
    }
}

// MARK: Tunables (sysfs stores after parsing)
extension Machine {
    /// `auto_online_blocks` (mhp_default_online_type): applies to memory added later. No lock.
    public func setAutoOnlineBlocks(_ type: OnlineType) { params.autoOnline = type }
    /// `memory_hotplug.online_policy`.
    public func setOnlinePolicy(_ policy: KernelParameters.OnlinePolicy) { params.onlinePolicy = policy }
    /// `memory_hotplug.auto_movable_ratio` (percent MOVABLE:KERNEL).
    public func setAutoMovableRatio(_ ratio: UInt32) { params.autoMovableRatio = Int(ratio) }
    /// `memory_hotplug.auto_movable_numa_aware`.
    public func setAutoMovableNumaAware(_ on: Bool) { params.autoMovableNumaAware = on }

    /// A uevent written to a block's `uevent` file (`kobject_synth_uevent`).
    public func synthesizeUevent(_ action: Uevent.Action, block id: Int) {
        emitUevent(action, block: id)
    }

    /// A synthetic uevent `kobject_synth_uevent` refused: its pr_warn with the kobject's path
    /// and `reason`, then `uevent_store`'s dev_err with the error. `block` nil is the memory
    /// subsystem's root device, which has no bus or class (dev_driver_string is empty).
    public func synthUeventRefused(block: Int?, reason: String, errno: Int32) {
        let devpath = "/devices/system/memory" + (block.map { "/memory\($0)" } ?? "")
        log("<4>synth uevent: \(devpath): \(reason)")
        let device = block.map { "memory memory\($0)" } ?? " memory"
        log("<3>\(device): uevent: failed to send synthetic uevent: -\(errno)")
    }

    /// `probe_store` after parsing (CONFIG_ARCH_MEMORY_PROBE): add one memory block at
    /// `address` on the node `memory_add_physaddr_to_nid` finds (the SRAT range holding it,
    /// else node 0), without memmap_on_memory.
    public func probeMemory(address: UInt64) throws {
        enterKernel()
        defer { exitToUserMode() }
        let blockBytes = UInt64(blockPages << Geometry.pageShift)
        guard address % blockBytes == 0 else { throw KernelError(.invalidArgument, "probe address not block aligned") }
        try lockDeviceHotplugSysfs()
        guard address < UInt64(Machine.pluggableEndBytes) else { throw KernelError(.argListTooLong) }
        let a = Int(address)
        let node = layout?.srat.first { a >= $0.start && a < $0.end }?.node ?? 0
        try addMemory(node: node, startBytes: a, sizeBytes: Int(blockBytes))
    }

    /// Nodes with memory (N_MEMORY) and with kernel-zone memory (N_NORMAL_MEMORY).
    public func nodesWithMemory(normalOnly: Bool = false) -> [Int] {
        var out = Set<Int>()
        for z in zones.indices where zones[z].presentPages > 0 && (!normalOnly || zones[z].type <= .normal) {
            out.insert(zones[z].node)
        }
        return out.sorted()
    }
}
