#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One free block on a zone's free lists (the kernel's `page->buddy_list`): its neighbours'
/// node indices (`FreeNodes.none` at either end) and its pfn's low 32 bits; bits 32-39 live in
/// the pool's `hi` once a pfn at or above 2^32 (16 TiB) was stored, so smaller machines keep
/// 12 bytes a free block.
@usableFromInline struct FreeNode {
    @usableFromInline var prev: UInt32
    @usableFromInline var next: UInt32
    @usableFromInline var lo: UInt32
}

/// `free_area[order].free_list[mt]`'s list_head and `nr_free`: the first (head, where
/// allocation takes from) and last (tail) node.
@usableFromInline struct FreeListHead {
    @usableFromInline var first = FreeNodes.none
    @usableFromInline var last = FreeNodes.none
    @usableFromInline var count = 0
}

/// The nodes of all of one zone's free lists in one malloc'd buffer: as many as the zone has
/// had free blocks at once (a removed block's node is reused, chained through `next`).
@usableFromInline struct FreeNodes {
    @usableFromInline static let none = UInt32.max
    @usableFromInline var buf: UnsafeMutablePointer<FreeNode>? = nil
    @usableFromInline var hi: UnsafeMutablePointer<UInt8>? = nil
    @usableFromInline var cap = 0
    @usableFromInline var used = 0
    @usableFromInline var spare = FreeNodes.none
}

/// A growable ring buffer of pfns (a pcp list): capacity a power of two; pfns as wide as FreeNode's.
@usableFromInline struct PFNRing {
    @usableFromInline var buf: UnsafeMutablePointer<UInt32>? = nil
    @usableFromInline var hi: UnsafeMutablePointer<UInt8>? = nil
    @usableFromInline var head = 0
    @usableFromInline var count = 0
    @usableFromInline var cap = 0
}

/// Pointers to one zone's free lists and pcp lists (plain values: reading them from the
/// `zones` array costs no retain). The buffers are owned by the zone's `ZoneLists`.
@usableFromInline struct ZoneListsRef: @unchecked Sendable {
    @usableFromInline let free: UnsafeMutablePointer<FreeListHead>
    @usableFromInline let nodes: UnsafeMutablePointer<FreeNodes>
    @usableFromInline let pcp: UnsafeMutablePointer<PFNRing>

    // MARK: Free lists (doubly linked, as the kernel's list_head: order kept on every removal)

    @inline(__always) func freeCount(_ li: Int) -> Int { free[li].count }
    /// The head of a free list (`get_page_from_free_area`), or nil.
    @inline(__always) func freeFirst(_ li: Int) -> PFN? {
        let n = free[li].first
        return n == FreeNodes.none ? nil : nodePFN(n)
    }
    @inline(__always) func nodePFN(_ n: UInt32) -> PFN {
        let p = nodes.pointee
        let l = Int(p.buf![Int(n)].lo)
        return p.hi == nil ? l : l | Int(p.hi![Int(n)]) << 32
    }
    /// `add_to_free_list` (head) or `add_to_free_list_tail`; returns the block's node, which
    /// the caller keeps in the memmap's `link`.
    @inline(__always) func freeAdd(_ li: Int, _ pfn: PFN, tail: Bool) -> Int {
        let n = newNode(pfn)
        linkNode(li, n, tail: tail)
        return Int(n)
    }
    /// `del_page_from_free_list`: unlink the block whose node is `node`.
    @inline(__always) func freeRemove(_ li: Int, node: Int) {
        let n = UInt32(truncatingIfNeeded: node)
        unlinkNode(li, n)
        nodes.pointee.buf![node].next = nodes.pointee.spare
        nodes.pointee.spare = n
    }
    /// `move_to_free_list` (6.1: `list_move_tail`): to the tail of list `to`, same node.
    @inline(__always) func freeMoveTail(_ from: Int, node: Int, to: Int) {
        let n = UInt32(truncatingIfNeeded: node)
        unlinkNode(from, n)
        linkNode(to, n, tail: true)
    }
    @inline(__always) func newNode(_ pfn: PFN) -> UInt32 {
        let p = nodes
        var n = p.pointee.spare
        if n != FreeNodes.none {
            p.pointee.spare = p.pointee.buf![Int(n)].next
        } else {
            if p.pointee.used == p.pointee.cap { growNodes() }
            n = UInt32(truncatingIfNeeded: p.pointee.used)
            p.pointee.used += 1
        }
        p.pointee.buf![Int(n)].lo = UInt32(truncatingIfNeeded: pfn)
        if pfn >> 32 != 0 || p.pointee.hi != nil { setHigh(&p.pointee.hi, p.pointee.cap, Int(n), pfn) }
        return n
    }
    @inline(__always) func linkNode(_ li: Int, _ n: UInt32, tail: Bool) {
        let h = free + li
        let b = nodes.pointee.buf!
        if tail {
            let last = h.pointee.last
            b[Int(n)].prev = last
            b[Int(n)].next = FreeNodes.none
            if last == FreeNodes.none { h.pointee.first = n } else { b[Int(last)].next = n }
            h.pointee.last = n
        } else {
            let first = h.pointee.first
            b[Int(n)].prev = FreeNodes.none
            b[Int(n)].next = first
            if first == FreeNodes.none { h.pointee.last = n } else { b[Int(first)].prev = n }
            h.pointee.first = n
        }
        h.pointee.count += 1
    }
    @inline(__always) func unlinkNode(_ li: Int, _ n: UInt32) {
        let h = free + li
        let b = nodes.pointee.buf!
        let prev = b[Int(n)].prev, next = b[Int(n)].next
        if prev == FreeNodes.none { h.pointee.first = next } else { b[Int(prev)].next = next }
        if next == FreeNodes.none { h.pointee.last = prev } else { b[Int(next)].prev = prev }
        precondition(h.pointee.count > 0, "free list underflow")
        h.pointee.count -= 1
    }
    @inline(never) func growNodes() {
        let p = nodes
        let cap = Swift.max(p.pointee.cap * 2, 64)
        precondition(cap <= Int(FreeNodes.none), "more free blocks than 32-bit node indices")
        p.pointee.buf = realloc(p.pointee.buf, cap * MemoryLayout<FreeNode>.stride)!.assumingMemoryBound(
            to: FreeNode.self)
        if let h = p.pointee.hi { p.pointee.hi = realloc(h, cap)!.assumingMemoryBound(to: UInt8.self) }
        p.pointee.cap = cap
    }
    /// The first pfn at or above 2^32 in a list: allocate its high bytes (zero so far).
    @inline(never) func setHigh(_ hi: inout UnsafeMutablePointer<UInt8>?, _ cap: Int, _ pos: Int, _ pfn: PFN) {
        precondition(pfn >= 0 && pfn >> 40 == 0, "pfn \(pfn) beyond 40 bits")
        if hi == nil { hi = calloc(cap, 1)!.assumingMemoryBound(to: UInt8.self) }
        hi![pos] = UInt8(truncatingIfNeeded: pfn >> 32)
    }
    /// Each block of a free list from head to tail: its node and pfn.
    func forEachFree(_ li: Int, _ body: (_ node: Int, _ pfn: PFN) throws -> Void) rethrows {
        var n = free[li].first
        while n != FreeNodes.none {
            try body(Int(n), nodePFN(n))
            n = nodes.pointee.buf![Int(n)].next
        }
    }
    /// The pfns of a free list, head (next allocated) first.
    func freePFNs(_ li: Int) -> [PFN] {
        var out: [PFN] = []
        out.reserveCapacity(free[li].count)
        forEachFree(li) { out.append($1) }
        return out
    }

    // MARK: Pcp lists (Deque semantics: prepend/removeFirst at the head, append/removeLast at the tail)

    @inline(__always) func pcpCount(_ li: Int) -> Int { pcp[li].count }
    @inline(__always) func pcpStore(_ r: UnsafeMutablePointer<PFNRing>, _ i: Int, _ pfn: PFN) {
        r.pointee.buf![i] = UInt32(truncatingIfNeeded: pfn)
        if pfn >> 32 != 0 || r.pointee.hi != nil { setHigh(&r.pointee.hi, r.pointee.cap, i, pfn) }
    }
    @inline(__always) func pcpLoad(_ r: UnsafeMutablePointer<PFNRing>, _ i: Int) -> PFN {
        let l = Int(r.pointee.buf![i])
        return r.pointee.hi == nil ? l : l | Int(r.pointee.hi![i]) << 32
    }
    @inline(__always) func pcpPrepend(_ li: Int, _ pfn: PFN) {
        let r = pcp + li
        if r.pointee.count == r.pointee.cap { growRing(r) }
        let h = (r.pointee.head &- 1) & (r.pointee.cap - 1)
        pcpStore(r, h, pfn)
        r.pointee.head = h
        r.pointee.count += 1
    }
    @inline(__always) func pcpAppend(_ li: Int, _ pfn: PFN) {
        let r = pcp + li
        if r.pointee.count == r.pointee.cap { growRing(r) }
        pcpStore(r, (r.pointee.head + r.pointee.count) & (r.pointee.cap - 1), pfn)
        r.pointee.count += 1
    }
    @inline(__always) func pcpRemoveFirst(_ li: Int) -> PFN {
        let r = pcp + li
        precondition(r.pointee.count > 0, "pcp list underflow")
        let v = pcpLoad(r, r.pointee.head)
        r.pointee.head = (r.pointee.head + 1) & (r.pointee.cap - 1)
        r.pointee.count -= 1
        return v
    }
    @inline(__always) func pcpRemoveLast(_ li: Int) -> PFN {
        let r = pcp + li
        precondition(r.pointee.count > 0, "pcp list underflow")
        r.pointee.count -= 1
        return pcpLoad(r, (r.pointee.head + r.pointee.count) & (r.pointee.cap - 1))
    }
    @inline(never) func growRing(_ r: UnsafeMutablePointer<PFNRing>) {
        let old = r.pointee
        let cap = Swift.max(old.cap * 2, 16)
        let nb = malloc(cap * 4)!.assumingMemoryBound(to: UInt32.self)
        for i in 0..<old.count { nb[i] = old.buf![(old.head + i) & (old.cap - 1)] }
        var nh: UnsafeMutablePointer<UInt8>? = nil
        if let oh = old.hi {
            nh = calloc(cap, 1)!.assumingMemoryBound(to: UInt8.self)
            for i in 0..<old.count { nh![i] = oh[(old.head + i) & (old.cap - 1)] }
            Glibc_free(oh)
        }
        Glibc_free(old.buf)
        r.pointee = PFNRing(buf: nb, hi: nh, head: 0, count: old.count, cap: cap)
    }
    var pcpEntries: Int { (0..<PerCPUPages.listCount).reduce(0) { $0 + pcp[$1].count } }
}

/// The hot storage of one zone's free lists and pcp lists: flat unsafe buffers, so the
/// allocator's fast paths do no copy-on-write checks. Shared by copies of the `Zone` value
/// (the lists are the zone's identity, not a snapshot); `freeArea` reads it.
public final class ZoneLists: @unchecked Sendable {
    public static let freeListCount = Geometry.maxOrder * MigrateType.allCases.count
    @usableFromInline let ref: ZoneListsRef

    init() {
        let free = UnsafeMutablePointer<FreeListHead>.allocate(capacity: ZoneLists.freeListCount)
        free.initialize(repeating: FreeListHead(), count: ZoneLists.freeListCount)
        let nodes = UnsafeMutablePointer<FreeNodes>.allocate(capacity: 1)
        nodes.initialize(to: FreeNodes())
        let pcp = UnsafeMutablePointer<PFNRing>.allocate(capacity: PerCPUPages.listCount)
        pcp.initialize(repeating: PFNRing(), count: PerCPUPages.listCount)
        ref = ZoneListsRef(free: free, nodes: nodes, pcp: pcp)
    }
    deinit {
        Glibc_free(ref.nodes.pointee.buf); Glibc_free(ref.nodes.pointee.hi)
        for i in 0..<PerCPUPages.listCount { Glibc_free(ref.pcp[i].buf); Glibc_free(ref.pcp[i].hi) }
        ref.free.deallocate(); ref.nodes.deallocate(); ref.pcp.deallocate()
    }
    func freeCount(_ li: Int) -> Int { ref.freeCount(li) }
    /// The pfns of a free list, head (next allocated) first.
    public func freePFNs(_ li: Int) -> [PFN] { ref.freePFNs(li) }
    /// Host bytes of the free-list nodes (proportional to the most free blocks held at once).
    public var freeNodeBytes: Int {
        ref.nodes.pointee.cap * (MemoryLayout<FreeNode>.stride + (ref.nodes.pointee.hi == nil ? 0 : 1))
    }
    /// Entries on all pcp lists.
    public var pcpEntries: Int { ref.pcpEntries }
}

@inline(__always) func Glibc_free(_ p: UnsafeMutableRawPointer?) { free(p) }

/// One free list of one order and migratetype: the free buddy heads in the kernel's list
/// order (a doubly linked list; the memmap's `link` of each head names its node, so removal
/// from anywhere is O(1) and keeps the others' order). A read-only view of the zone's
/// `ZoneLists`.
public struct FreeList: Sendable {
    let store: ZoneLists
    let index: Int
    public var count: Int { store.freeCount(index) }
    /// Head (what `__rmqueue_smallest` takes next) to tail.
    public var pfns: [PFN] { store.freePFNs(index) }
    /// The head, or nil.
    public var first: PFN? { store.ref.freeFirst(index) }
}

/// free_area[order].free_list[migratetype] of one zone, indexed order * 5 + migratetype.
public struct FreeArea: RandomAccessCollection, Sendable {
    let store: ZoneLists
    public var startIndex: Int { 0 }
    public var endIndex: Int { ZoneLists.freeListCount }
    public subscript(position: Int) -> FreeList { FreeList(store: store, index: position) }
}

/// Per-cpu page lists (`struct per_cpu_pages`) of one zone. 6.1 keeps orders 0–3 per
/// pcp migratetype plus two lists for pageblock order (THP; NR_PCP_THP is 2 in Debian's 6.1
/// source, include/linux/mmzone.h), one for movable blocks and one for unmovable and
/// reclaimable ones: 14 lists in all. The lists themselves live in the zone's `ZoneLists`.
public struct PerCPUPages: Sendable {
    public static let listCount = 14
    /// Pages on all lists.
    public var count = 0
    public var high = 0
    public var batch = 1
    /// Doubles the pages freed at each consecutive drain without an allocation in between.
    public var freeFactor = 0
    /// `zone_pcp_disable` depth: while > 0 the lists stay empty (high 0, batch 1) and
    /// recomputed limits go to `pagesetHigh`/`pagesetBatch`, restored by the last enable.
    public var disabled = 0
    /// `zone->pageset_high` / `zone->pageset_batch`: the limits in force when enabled.
    public var pagesetHigh = 0, pagesetBatch = 1

    public init() {}

    /// `order_to_pindex`: which list holds pages of this order and migratetype. Pageblock
    /// order goes to NR_LOWORDER_PCP_LISTS (12) + movable: a movable THP or huge page never
    /// takes the unmovable block a vmemmap or slab refill left on the list.
    @inlinable public static func index(order: Int, migrateType: MigrateType) -> Int? {
        if order <= 3 { return order * 3 + Int(migrateType.rawValue) }
        if order == Geometry.pageblockOrder { return migrateType == .movable ? 13 : 12 }
        return nil
    }
    /// `pindex_to_order`.
    @inlinable public static func order(ofIndex index: Int) -> Int { index >= 12 ? Geometry.pageblockOrder : index / 3 }
}

/// `struct zone`: the pages of one node in one zone type.
public struct Zone: Sendable {
    public let node: Int
    public let type: ZoneType
    /// zone_start_pfn and spanned_pages: the span grows on online and shrinks on offline,
    /// and may contain holes and other zones' pages.
    public var startPFN: PFN = 0
    public var spannedPages = 0
    public var presentPages = 0
    /// Present pages that were there at boot (`present_early_pages`, for auto-movable).
    public var presentEarlyPages = 0
    public var managedPages = 0
    /// NR_FREE_PAGES: pages in the buddy free lists (not the pcp lists).
    public var freePages = 0
    public var watermark = Watermarks()
    /// `lowmem_reserve[]` by the zone index of the allocation (the zoneinfo "protection").
    public var lowmemReserve = [Int](repeating: 0, count: ZoneType.allCases.count)
    /// The free lists' and pcp lists' storage (shared by copies of this value).
    public let store: ZoneLists
    /// `store`'s buffers, for the allocator's fast paths.
    @usableFromInline let fast: ZoneListsRef
    /// free_area[order].free_list[migratetype], indexed order * 5 + migratetype.
    public var freeArea: FreeArea { FreeArea(store: store) }
    public var pcp = PerCPUPages()
    public var nrIsolatePageblock = 0
    /// ZONE_RECLAIM_ACTIVE: kswapd is in `balance_pgdat` on the zone's node (Kswapd.swift).
    public var reclaimActive = false
    /// ZONE_BOOSTED_WATERMARK: a fallback steal boosted the watermark during this `rmqueue`;
    /// the allocator tests and clears it after the call (WatermarkBoost.swift).
    public var boostedWatermark = false
    /// Allocated pages by PageKind raw value (zone vmstat counters).
    public var kindPages = [Int](repeating: 0, count: PageKind.allCases.count)
    /// NUMA allocation events (`zone_statistics`, NumaEvents.swift).
    public var numaEvents = NumaEvents()
    /// Of the zone's shmem pages, those on the active anon LRU (`LRUCounters`): the
    /// initramfs pages the guest's programs use, activated at boot.
    public var activeShmem = 0

    public init(node: Int, type: ZoneType) {
        self.node = node; self.type = type
        store = ZoneLists(); fast = store.ref
    }

    public var endPFN: PFN { startPFN + spannedPages }
    public var span: PFNRange { PFNRange(start: startPFN, count: spannedPages) }
    public var isPopulated: Bool { presentPages > 0 }
    public var isManaged: Bool { managedPages > 0 }
    public func intersects(_ range: PFNRange) -> Bool { spannedPages > 0 && span.intersects(range) }

    @inlinable static func listIndex(_ order: Int, _ mt: MigrateType) -> Int { order * 5 + Int(mt.rawValue) }
    /// Free blocks of `order` over every migratetype (one /proc/buddyinfo column).
    public func freeBlocks(order: Int) -> Int {
        (0..<MigrateType.allCases.count).reduce(0) { $0 + freeArea[order * 5 + $1].count }
    }
    public func freeBlocks(order: Int, migrateType: MigrateType) -> Int {
        freeArea[Zone.listIndex(order, migrateType)].count
    }
}
