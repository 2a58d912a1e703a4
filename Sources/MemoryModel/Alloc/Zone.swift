#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable stack of pfns in one malloc'd buffer (a free list; the end is the head): the
/// low 32 bits of each pfn, and bits 32-39 in `hi` once a pfn at or above 2^32 (16 TiB) was
/// stored, so smaller machines keep 4 bytes an entry (see PFNList).
@usableFromInline struct PFNStack {
    @usableFromInline var buf: UnsafeMutablePointer<UInt32>? = nil
    @usableFromInline var hi: UnsafeMutablePointer<UInt8>? = nil
    @usableFromInline var count = 0
    @usableFromInline var cap = 0
}

/// A growable ring buffer of pfns (a pcp list): capacity a power of two; wide as PFNStack.
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
    @usableFromInline let free: UnsafeMutablePointer<PFNStack>
    @usableFromInline let pcp: UnsafeMutablePointer<PFNRing>

    // MARK: Free lists

    @inline(__always) func freeCount(_ li: Int) -> Int { free[li].count }
    /// The head (last pushed) pfn of a free list, or nil.
    @inline(__always) func freeTop(_ li: Int) -> PFN? {
        let s = free + li
        return s.pointee.count > 0 ? freeAt(li, s.pointee.count - 1) : nil
    }
    /// Push at the head; returns the position.
    @inline(__always) func freePush(_ li: Int, _ pfn: PFN) -> Int {
        let s = free + li
        if s.pointee.count == s.pointee.cap { growFree(s, to: s.pointee.count + 1) }
        let pos = s.pointee.count
        freeSet(li, pos, pfn)
        s.pointee.count = pos + 1
        return pos
    }
    @inline(__always) func freePopLast(_ li: Int) -> PFN {
        let s = free + li
        let n = s.pointee.count - 1
        precondition(n >= 0, "free list underflow")
        s.pointee.count = n
        return freeAt(li, n)
    }
    @inline(__always) func freeSet(_ li: Int, _ pos: Int, _ pfn: PFN) {
        let s = free + li
        s.pointee.buf![pos] = UInt32(truncatingIfNeeded: pfn)
        if pfn >> 32 != 0 || s.pointee.hi != nil { setHigh(&s.pointee.hi, s.pointee.cap, pos, pfn) }
    }
    @inline(__always) func freeAt(_ li: Int, _ pos: Int) -> PFN {
        let s = free + li
        let l = Int(s.pointee.buf![pos])
        return s.pointee.hi == nil ? l : l | Int(s.pointee.hi![pos]) << 32
    }
    @inline(never) func growFree(_ s: UnsafeMutablePointer<PFNStack>, to n: Int) {
        var cap = Swift.max(s.pointee.cap * 2, 16)
        while cap < n { cap *= 2 }
        s.pointee.buf = realloc(s.pointee.buf, cap * 4)!.assumingMemoryBound(to: UInt32.self)
        if let h = s.pointee.hi { s.pointee.hi = realloc(h, cap)!.assumingMemoryBound(to: UInt8.self) }
        s.pointee.cap = cap
    }
    /// The first pfn at or above 2^32 in a list: allocate its high bytes (zero so far).
    @inline(never) func setHigh(_ hi: inout UnsafeMutablePointer<UInt8>?, _ cap: Int, _ pos: Int, _ pfn: PFN) {
        precondition(pfn >= 0 && pfn >> 40 == 0, "pfn \(pfn) beyond 40 bits")
        if hi == nil { hi = calloc(cap, 1)!.assumingMemoryBound(to: UInt8.self) }
        hi![pos] = UInt8(truncatingIfNeeded: pfn >> 32)
    }
    /// The pfns of a free list, tail first (the array's end is the head).
    func freePFNs(_ li: Int) -> [PFN] { (0..<free[li].count).map { freeAt(li, $0) } }
    /// Replace a free list's contents (positions are the caller's to fix in the memmap).
    func setFreeList(_ li: Int, _ pfns: [PFN]) {
        let s = free + li
        if pfns.count > s.pointee.cap { growFree(s, to: pfns.count) }
        for (i, p) in pfns.enumerated() { freeSet(li, i, p) }
        s.pointee.count = pfns.count
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
        let free = UnsafeMutablePointer<PFNStack>.allocate(capacity: ZoneLists.freeListCount)
        free.initialize(repeating: PFNStack(), count: ZoneLists.freeListCount)
        let pcp = UnsafeMutablePointer<PFNRing>.allocate(capacity: PerCPUPages.listCount)
        pcp.initialize(repeating: PFNRing(), count: PerCPUPages.listCount)
        ref = ZoneListsRef(free: free, pcp: pcp)
    }
    deinit {
        for i in 0..<ZoneLists.freeListCount { Glibc_free(ref.free[i].buf); Glibc_free(ref.free[i].hi) }
        for i in 0..<PerCPUPages.listCount { Glibc_free(ref.pcp[i].buf); Glibc_free(ref.pcp[i].hi) }
        ref.free.deallocate(); ref.pcp.deallocate()
    }
    func freeCount(_ li: Int) -> Int { ref.freeCount(li) }
    func freeAt(_ li: Int, _ pos: Int) -> PFN { ref.freeAt(li, pos) }
    /// The pfns of a free list, tail first (the array's end is the head).
    public func freePFNs(_ li: Int) -> [PFN] { ref.freePFNs(li) }
    /// Replace a free list's contents (positions are the caller's to fix in the memmap).
    public func setFreeList(_ li: Int, _ pfns: [PFN]) { ref.setFreeList(li, pfns) }
    /// Entries on all pcp lists.
    public var pcpEntries: Int { ref.pcpEntries }
}

@inline(__always) func Glibc_free(_ p: UnsafeMutableRawPointer?) { free(p) }

/// One free list of one order and migratetype: pfns of free buddy heads. The position of a
/// pfn in the list is kept in the memmap's `link`, so removal from the middle is O(1). The
/// end of `pfns` is the list's head: the kernel allocates from the head and usually frees
/// to it, so the model is LIFO like the kernel. A read-only view of the zone's `ZoneLists`.
public struct FreeList: Sendable {
    let store: ZoneLists
    let index: Int
    public var count: Int { store.freeCount(index) }
    public var pfns: [PFN] { store.freePFNs(index) }
    public subscript(position: Int) -> PFN { store.freeAt(index, position) }
}

/// free_area[order].free_list[migratetype] of one zone, indexed order * 5 + migratetype.
public struct FreeArea: RandomAccessCollection, Sendable {
    let store: ZoneLists
    public var startIndex: Int { 0 }
    public var endIndex: Int { ZoneLists.freeListCount }
    public subscript(position: Int) -> FreeList { FreeList(store: store, index: position) }
}

/// Per-cpu page lists (`struct per_cpu_pages`) of one zone. 6.1 keeps orders 0–3 per
/// pcp migratetype plus one list for pageblock order (THP), 13 lists in all. The lists
/// themselves live in the zone's `ZoneLists`.
public struct PerCPUPages: Sendable {
    public static let listCount = 13
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

    /// `order_to_pindex`: which list holds pages of this order and migratetype.
    @inlinable public static func index(order: Int, migrateType: MigrateType) -> Int? {
        if order <= 3 { return order * 3 + Int(migrateType.rawValue) }
        if order == Geometry.pageblockOrder { return 12 }
        return nil
    }
    @inlinable public static func order(ofIndex index: Int) -> Int { index == 12 ? Geometry.pageblockOrder : index / 3 }
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
