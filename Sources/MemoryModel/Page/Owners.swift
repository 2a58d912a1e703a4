/// Who holds allocated memory. Every allocated block belongs to an owner — a process's
/// anonymous memory, a file's page cache, a slab cache, boot-time kernel memory — so it can
/// later be freed, reclaimed or migrated. The memmap keeps the owner id and the block's
/// position in the owner's list, so each of those is O(1).
public struct Owner: Sendable {
    public let id: Int
    public let name: String
    public internal(set) var kind: PageKind
    /// The node allocations prefer (a cpuset or mempolicy binding when `bound`).
    public var node: Int
    /// Restrict allocations to `node` (a cpuset), as the captures' fillers do.
    public var bound: Bool
    public var gfp: GFP
    /// Head pfns of the blocks held, each of `order`.
    public internal(set) var blocks = PFNList()
    public let order: Int
    /// Pages reclaim may free without swap: clean page cache, reclaimable slab.
    public var reclaimable: Bool
    /// init's memory (pid 1): `oom_unkillable_task()` (mm/oom_kill.c) never selects it.
    public internal(set) var oomUnkillable = false
    /// The owner of this file's page-cache index slabs (PageCacheXArray), 0 for none.
    public internal(set) var xarrayOwner = 0
    /// Built by the first `reclaim` that scans this owner, kept up to date from then on.
    var zoneSummary: BlockZoneSummary?

    public var pages: Int { blocks.count << order }
}

public struct OwnerTable: Sendable {
    /// Slot 0 is never used: memmap owner 0 means "no owner".
    public internal(set) var slots: [Owner?] = [nil]
    var freeSlots: [Int] = []
    public internal(set) var byName: [String: Int] = [:]
    /// Bumped whenever a reclaimable owner gains a block in some zone (attach, migration):
    /// the only events that can give `reclaim` something to free where it found nothing.
    var reclaimableGeneration: UInt64 = 0
    /// The zones (by index) where `reclaim` last scanned every reclaimable block and freed
    /// nothing, at that generation: the allocator's slow path calls reclaim for each page
    /// under a kernel-memory filler, and the rescan would find nothing again.
    var reclaimFoundNothing: (generation: UInt64, zones: [Bool])?
    /// Tests turn the shortcuts off (this one and the zone summaries' skips) to compare
    /// against full rescans.
    var reclaimShortcut = true
    /// Blocks `reclaim` looked at (freed or passed over): tests count them to show a scan
    /// no longer revisits blocks outside its zones.
    var reclaimVisited = 0
    public subscript(id: Int) -> Owner? { slots.indices.contains(id) ? slots[id] : nil }
    public var all: [Owner] { slots.compactMap { $0 } }
}

extension PageKind {
    /// The GFP mask the kernel allocates this kind of memory with.
    public var defaultGFP: GFP {
        switch self {
        case .anon, .pageCache, .shmem: .highuserMovable
        // ramfs maps with GFP_HIGHUSER; FOLL_LONGTERM pins migrate out of ZONE_MOVABLE first.
        case .ramfs, .pinned: .highuser
        case .slabReclaimable: [.kernel, .reclaimable]
        case .memmap: [.kernel, .retryMayfail, .nowarn]
        default: .kernel
        }
    }
}

extension Machine {
    /// Create an owner. Names are unique; `bound` confines it to `node`.
    public func createOwner(
        name: String, kind: PageKind, node: Int = 0, bound: Bool = false,
        order: Int = 0, gfp: GFP? = nil, reclaimable: Bool? = nil
    ) throws -> Int {
        guard kind.isAllocated, kind != .hugetlb else {
            throw KernelError(.invalidArgument, "cannot own pages of kind \(kind)")
        }
        guard owners.byName[name] == nil else { throw KernelError(.fileExists, "owner \(name) exists") }
        guard nodes.indices.contains(node), nodes[node].exists else {
            throw KernelError(.operationNotSupportedByDevice, "no node \(node)")
        }
        guard order >= 0 && order < Geometry.maxOrder else { throw KernelError(.invalidArgument, "order \(order)") }
        let id: Int
        if let slot = owners.freeSlots.popLast() {
            id = slot
        } else {
            guard owners.slots.count <= Int(UInt16.max) else { throw KernelError(.noSpace, "too many owners") }
            id = owners.slots.count; owners.slots.append(nil)
        }
        owners.slots[id] = Owner(
            id: id, name: name, kind: kind, node: node, bound: bound,
            gfp: gfp ?? kind.defaultGFP, order: order,
            reclaimable: reclaimable ?? (kind == .pageCache || kind == .slabReclaimable))
        owners.byName[name] = id
        return id
    }

    public func ownerID(named name: String) -> Int? { owners.byName[name] }

    /// Allocate `count` blocks for an owner. Returns how many were allocated: fewer when
    /// memory ran out (the kernel's allocation failed; OOM handling as the flags allow).
    ///
    /// The OOM killer may choose the allocating owner itself (`out_of_memory` picks the
    /// largest task, which can be current): on Linux the task dies with a fatal signal and
    /// its memory is freed on exit, the page it was faulting in included; the count so far
    /// is returned.
    @discardableResult
    public func allocate(owner id: Int, blocks count: Int) -> Int {
        enterKernel()
        defer { exitToUserMode() }
        // Only the scalars: a copy of the Owner would share its block list, and the first
        // append below would then copy the whole list (quadratic over one-page calls).
        guard let (order, gfp, node, kind, bound) = owners[id].map({ ($0.order, $0.gfp, $0.node, $0.kind, $0.bound) })
        else { return 0 }
        let list = zonelist(gfp: gfp, node: node, nodemask: bound ? [node] : nil)
        var done = 0
        while done < count {
            guard owners[id] != nil,  // an OOM kill may have taken this owner
                let (pfn, zone) = allocPages(order: order, gfp: gfp, zonelist: list, kind: kind)
            else { break }
            // The OOM killer may have picked this very owner inside allocPages: the victim
            // exits and its memory, this page included, goes back (no owner to attach to).
            guard owners[id] != nil else { freePages(pfn, order: order); break }
            attach(pfn, to: id)
            done += 1
            // The same zone's pcp list serves the next ones exactly as single calls would.
            if let z = zone {
                let pz = list.first { zones[$0].managedPages > 0 }
                done += allocFromPCPRun(z, order: order, gfp: gfp, kind: kind, max: count - done, preferredZone: pz) {
                    attach($0, to: id)
                }
            }
        }
        return done
    }

    /// Record an allocated head in the owner's list. The owner must exist (callers check).
    func attach(_ pfn: PFN, to id: Int) {
        // Invariant: every caller has just checked (or created) `owners[id]`.
        memmap.setOwner(pfn, id)
        let pos = owners.slots[id]!.blocks.count
        memmap.setLink(pfn, pos)
        owners.slots[id]!.blocks.append(pfn)
        owners.slots[id]!.zoneSummary?.mark(pos, BlockZoneSummary.bit(zoneIndex(ofPFN: pfn)))
        if owners.slots[id]!.reclaimable { owners.reclaimableGeneration &+= 1 }
    }

    /// Remove an allocated head from its owner's list (swap-remove; O(1)).
    func detach(_ pfn: PFN) {
        let id = memmap.owner(pfn)
        let pos = memmap.link(pfn)
        // Invariant: a head's memmap owner is a live slot (destroyOwner releases every block,
        // clearing its memmap owner, before it empties the slot).
        let last = owners.slots[id]!.blocks.removeLast()
        if last != pfn {
            owners.slots[id]!.blocks[pos] = last
            owners.slots[id]!.zoneSummary?.mark(pos, BlockZoneSummary.bit(zoneIndex(ofPFN: last)))
            memmap.setLink(last, pos)
        }
    }

    /// Free up to `count` of an owner's blocks (all when nil), newest first.
    @discardableResult
    public func release(owner id: Int, blocks count: Int? = nil) -> Int {
        enterKernel()
        defer { exitToUserMode() }
        // No Owner copy held across the removals (it would make removeLast copy the list).
        guard let (order, held) = owners[id].map({ ($0.order, $0.blocks.count) }) else { return 0 }
        let n = Swift.min(count ?? held, held)
        // Invariant: `owners[id]` was checked above and freePages never destroys an owner.
        for _ in 0..<n {
            let pfn = owners.slots[id]!.blocks.removeLast()
            memmap.setOwner(pfn, 0)
            freePages(pfn, order: order)
        }
        return n
    }

    /// Free everything an owner holds and forget it.
    public func destroyOwner(_ id: Int) {
        enterKernel()
        defer { exitToUserMode() }
        guard let (name, xa) = owners[id].map({ ($0.name, $0.xarrayOwner) }) else { return }
        release(owner: id)
        owners.byName[name] = nil
        owners.slots[id] = nil
        owners.freeSlots.append(id)
        if xa != 0 { destroyOwner(xa) }
    }

    /// Move an owner's block from `old` to `new` (migration): the new block takes the old
    /// one's place in the owner's list; the old block is left for the caller to free.
    func transferBlock(from old: PFN, to new: PFN) {
        let id = memmap.owner(old)
        let pos = memmap.link(old)
        // Invariant: as in detach, an allocated head's memmap owner is a live slot.
        owners.slots[id]!.blocks[pos] = new
        owners.slots[id]!.zoneSummary?.mark(pos, BlockZoneSummary.bit(zoneIndex(ofPFN: new)))
        if owners.slots[id]!.reclaimable { owners.reclaimableGeneration &+= 1 }
        memmap.setOwner(new, id)
        memmap.setLink(new, pos)
        memmap.setOwner(old, 0)
    }
}
