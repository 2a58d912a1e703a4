#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a page frame is used for: the model's compressed `struct page` flags.
///
/// Free pages come in three forms, as in the kernel: the head of a buddy block (`buddy`,
/// with its order), the other pages of that block (`buddyTail`), and pages parked on a
/// per-cpu list (`pcp`), which NR_FREE_PAGES does not count.
public enum PageKind: UInt8, CaseIterable, Sendable {
    /// No memory: a hole, or a section that was never added or was removed.
    case absent = 0
    /// Present, but the block is offline: not managed by any zone.
    case offline
    /// PageReserved: memblock allocations at boot, a self-hosted memmap.
    case reserved
    case buddy
    case buddyTail
    case pcp
    /// A non-head page of an allocation of order > 0 (a compound or multi-page allocation).
    case tail
    // Allocated pages, by what holds them.
    case anon
    case pageCache
    case shmem
    case ramfs
    case slabReclaimable
    case slabUnreclaimable
    case pageTable
    case kernelStack
    /// Other unmovable kernel memory (vmalloc, driver buffers, ...).
    case kernel
    /// Long-term pinned (FOLL_LONGTERM): never migrates.
    case pinned
    /// memmap (vmemmap) pages allocated from the buddy allocator.
    case memmap
    /// Head of a HugeTLB page (order 9 or 18); its tails are `tail`.
    case hugetlb
    /// A kmalloc larger than KMALLOC_MAX_CACHE_SIZE: compound pages straight from the buddy
    /// allocator (`__kmalloc_large_node`), without PG_slab but counted in SUnreclaim.
    case kmallocLarge

    public var isFree: Bool { self == .buddy || self == .buddyTail || self == .pcp }
    /// Pages on an LRU list or otherwise movable by migration (what `scan_movable_pages` finds).
    public var isMigratable: Bool {
        switch self {
        case .anon, .pageCache, .shmem: true
        default: false
        }
    }
    /// The kinds a caller can allocate for an owner.
    public var isAllocated: Bool { rawValue >= PageKind.anon.rawValue }
}

/// One page's model state, 8 bytes (the kernel's `struct page` is 64).
///
/// `link` is a union as in `struct page`: for a free buddy head it is the position in its
/// free list, for an allocated head the position in its owner's page list. `owner` holds the
/// migratetype of a free head. Only heads' order, owner and link mean anything.
@usableFromInline struct PageEntry: Sendable {
    @usableFromInline var kind: UInt8
    @usableFromInline var order: UInt8
    @usableFromInline var owner: UInt16
    @usableFromInline var link: UInt32
    @inlinable init(kind: UInt8, order: UInt8 = 0, owner: UInt16 = 0, link: UInt32 = 0) {
        self.kind = kind; self.order = order; self.owner = owner; self.link = link
    }
}

/// Per-pfn state, sparse: per-page entries only where pages differ from their surroundings.
///
/// The pfn space is cut into chunks of a pageblock (`pageblock_nr_pages`: 512 pages, 2 MiB). A
/// chunk is either *summarized* — its first page's entry plus one kind for the other 511 pages
/// (order, owner and link 0): a hole, an offline range, a half of a free order-10 buddy block, a
/// 2 MiB huge page or THP and its tails — or *dense*: 512 entries of 8 bytes in an arena the host
/// commits on first touch. A write that the summary cannot express materializes the chunk; a fill
/// that covers a chunk folds it back (an offline or a removal also returns its host memory). So a
/// terabyte machine's free memory costs 10 bytes a chunk, not 8 a page, booting it touches almost
/// nothing, and a 2 MiB page is allocated and freed without writing its 511 tails.
public final class MemMap: @unchecked Sendable {
    public let pfnCount: Int
    /// A chunk is a pageblock: a 2 MiB page (the pool's, a THP) is one summary, and so is each
    /// half of a free MAX_ORDER block.
    public static let chunkShift = Geometry.pageblockOrder
    public static let chunkPages = 1 << chunkShift
    @usableFromInline static let chunkMask = chunkPages - 1
    /// Dense entries, `chunkCount * chunkPages` of them (virtual; committed where touched).
    @usableFromInline let pages: UnsafeMutablePointer<PageEntry>
    /// Per chunk: 1 when `pages` holds its entries.
    @usableFromInline let dense: UnsafeMutablePointer<UInt8>
    /// Per summarized chunk: its first page's entry, and the other pages' kind.
    @usableFromInline let heads: UnsafeMutablePointer<PageEntry>
    @usableFromInline let tails: UnsafeMutablePointer<UInt8>
    @usableFromInline let chunkCount: Int
    /// The PageOffline page type and its refcount, for the few pages a driver holds
    /// logically offline (sparse; see PageOfflinePages).
    @exclusivity(unchecked) public var pageOffline = PageOfflinePages()
    let arenaBytes: Int

    /// Bytes of model state per page frame where it is materialized.
    public static let bytesPerPage = MemoryLayout<PageEntry>.stride

    /// All frames start `absent`: every chunk summarized as a hole.
    public init(pfnCount: Int) {
        precondition(pfnCount >= 0 && pfnCount >> 40 == 0, "pfn space too large")
        // `fill` writes kind, order and owner as one little-endian word.
        precondition(
            MemoryLayout<PageEntry>.stride == 8 && MemoryLayout<PageEntry>.offset(of: \.order) == 1
                && MemoryLayout<PageEntry>.offset(of: \.owner) == 2, "PageEntry layout")
        self.pfnCount = pfnCount
        chunkCount = max((pfnCount + MemMap.chunkPages - 1) >> MemMap.chunkShift, 1)
        arenaBytes = chunkCount * MemMap.chunkPages * MemMap.bytesPerPage
        pages = MemMap.reserve(arenaBytes).assumingMemoryBound(to: PageEntry.self)
        dense = calloc(chunkCount, 1)!.assumingMemoryBound(to: UInt8.self)
        heads = calloc(chunkCount, MemMap.bytesPerPage)!.assumingMemoryBound(to: PageEntry.self)
        tails = calloc(chunkCount, 1)!.assumingMemoryBound(to: UInt8.self)
    }

    /// Address space for the dense entries: an anonymous private mapping without swap
    /// reservation, zero-filled by the host on first touch.
    private static func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        precondition(p != MAP_FAILED, "cannot reserve \(bytes) bytes of address space for the memmap")
        return p!
        #else
        return calloc(bytes, 1)!
        #endif
    }

    deinit {
        #if os(Linux)
        munmap(pages, arenaBytes)
        #else
        free(pages)
        #endif
        free(dense); free(heads); free(tails)
    }

    // MARK: Reading

    @inlinable @inline(__always) func entry(_ pfn: PFN) -> PageEntry {
        let c = pfn &>> MemMap.chunkShift
        if dense[c] != 0 { return pages[pfn] }
        return pfn & MemMap.chunkMask == 0 ? heads[c] : PageEntry(kind: tails[c])
    }
    @inlinable @inline(__always) public func kind(_ pfn: PFN) -> PageKind {
        let c = pfn &>> MemMap.chunkShift
        let raw = dense[c] != 0 ? pages[pfn].kind : (pfn & MemMap.chunkMask == 0 ? heads[c].kind : tails[c])
        // Only PageKind raw values are ever stored, and a raw-value enum's tag is its raw value
        // here (declared in order from 0): skip the failable init's switch on the hottest read.
        assert(PageKind(rawValue: raw) != nil, "memmap holds kind \(raw)")
        return unsafeBitCast(raw, to: PageKind.self)
    }
    @inlinable @inline(__always) public func order(_ pfn: PFN) -> Int { Int(entry(pfn).order) }
    @inlinable @inline(__always) public func owner(_ pfn: PFN) -> Int { Int(entry(pfn).owner) }
    @inlinable @inline(__always) public func link(_ pfn: PFN) -> Int { Int(entry(pfn).link) }

    // MARK: Writing

    /// The entry `pfn`'s write goes to: the dense one, the summary's head, or (a write the
    /// summary cannot express) the dense one after materializing the chunk. `same` says
    /// whether the new value equals a summarized tail's, so no write is needed at all.
    @inlinable @inline(__always) func slot(_ pfn: PFN, tailUnchanged same: (UInt8) -> Bool) -> UnsafeMutablePointer<
        PageEntry
    >? {
        let c = pfn &>> MemMap.chunkShift
        if dense[c] != 0 { return pages + pfn }
        if pfn & MemMap.chunkMask == 0 { return heads + c }
        if same(tails[c]) { return nil }
        materialize(c)
        return pages + pfn
    }
    @inlinable @inline(__always) public func setKind(_ pfn: PFN, _ kind: PageKind) {
        slot(pfn) { $0 == kind.rawValue }?.pointee.kind = kind.rawValue
    }
    @inlinable @inline(__always) public func setOrder(_ pfn: PFN, _ order: Int) {
        slot(pfn) { _ in order == 0 }?.pointee.order = UInt8(order)
    }
    @inlinable @inline(__always) public func setOwner(_ pfn: PFN, _ owner: Int) {
        slot(pfn) { _ in owner == 0 }?.pointee.owner = UInt16(owner)
    }
    @inlinable @inline(__always) public func setLink(_ pfn: PFN, _ link: Int) {
        slot(pfn) { _ in link == 0 }?.pointee.link = UInt32(truncatingIfNeeded: link)
    }

    /// A head's kind, order and owner in one write (`setKind`, `setOrder`, `setOwner` in one
    /// look-up of the chunk; the link is left alone). Materializes exactly when they would.
    @inlinable @inline(__always) public func setHead(_ pfn: PFN, kind: PageKind, order: Int, owner: Int) {
        guard let e = slot(pfn, tailUnchanged: { $0 == kind.rawValue && order == 0 && owner == 0 }) else { return }
        e.pointee.kind = kind.rawValue
        e.pointee.order = UInt8(order)
        e.pointee.owner = UInt16(owner)
    }
    /// `setHead` and `setLink` in one look-up.
    @inlinable @inline(__always) public func setEntry(_ pfn: PFN, kind: PageKind, order: Int, owner: Int, link: Int) {
        guard
            let e = slot(pfn, tailUnchanged: { $0 == kind.rawValue && order == 0 && owner == 0 && link == 0 })
        else { return }
        e.pointee = PageEntry(
            kind: kind.rawValue, order: UInt8(order), owner: UInt16(owner), link: UInt32(truncatingIfNeeded: link))
    }

    /// `setKind` over a range (order, owner and link untouched; PageOffline bits too, unlike
    /// `fill`): the tails of a block being freed whole.
    public func setKinds(_ range: PFNRange, _ kind: PageKind) {
        var pfn = range.start
        while pfn < range.end {
            let c = pfn &>> MemMap.chunkShift
            let end = Swift.min(range.end, (c + 1) << MemMap.chunkShift)
            if dense[c] != 0 {
                var e = UnsafeMutableRawPointer(pages + pfn)
                let stop = UnsafeMutableRawPointer(pages + end)
                while e < stop { e.storeBytes(of: kind.rawValue, as: UInt8.self); e += MemMap.bytesPerPage }
                pfn = end
            } else {
                setKind(pfn, kind)
                pfn += 1
            }
        }
    }

    /// Write a summarized chunk out as `chunkPages` entries.
    @usableFromInline func materialize(_ c: Int) {
        let base = pages + (c << MemMap.chunkShift)
        base.pointee = heads[c]
        (base + 1).initialize(repeating: PageEntry(kind: tails[c]), count: MemMap.chunkPages - 1)
        dense[c] = 1
    }

    /// Summarize a dense chunk whose pages after the first are all `tail` (order, owner and
    /// link of non-heads carry nothing). `release` gives the entries' host memory back.
    @usableFromInline func fold(_ c: Int, tail: UInt8, release: Bool) {
        heads[c] = pages[c << MemMap.chunkShift]
        tails[c] = tail
        dense[c] = 0
        if release { releaseChunks(c..<c + 1) }
    }

    /// Give the entries of `chunks` (summarized) back to the host: one call for a run of them.
    func releaseChunks(_ chunks: Range<Int>) {
        #if os(Linux)
        guard !chunks.isEmpty else { return }
        madvise(
            pages + (chunks.lowerBound << MemMap.chunkShift), chunks.count * MemMap.chunkPages * MemMap.bytesPerPage,
            MADV_DONTNEED)
        #endif
    }

    /// A free block at `pfn` that covers its chunk (head `.buddy`, tails `.buddyTail`): the
    /// chunk is one head and buddy tails again. Not called on the allocator's merge path: a block
    /// rebuilt by `__free_one_page` is likely to split again at once, and re-materializing its
    /// entries on every split costs the hot paths 1.5-4x (measured); fills that cover a chunk
    /// (a block's tails marked, an offline, a removal) fold instead.
    @inlinable public func foldFreeBlock(_ pfn: PFN) {
        let c = pfn &>> MemMap.chunkShift
        if dense[c] != 0 && pfn & MemMap.chunkMask == 0 { fold(c, tail: PageKind.buddyTail.rawValue, release: false) }
    }

    /// Set the frames of `range` to `kind`, order 0, no owner. `kindOnly` leaves order and
    /// owner alone (boot: they are still zero). Whole chunks become summaries, and with
    /// `release` give their host memory back (not on the allocator's paths, where the chunk is
    /// likely to be written again soon); the first page of a chunk keeps its link.
    public func fill(_ range: PFNRange, kind: PageKind, kindOnly: Bool = false, release: Bool = true) {
        guard !range.isEmpty else { return }
        pageOffline.clear(range)
        // Folded chunks to give back, a run at a time (an offline folds thousands in a row).
        var released = 0..<0
        defer { releaseChunks(released) }
        var pfn = range.start
        while pfn < range.end {
            let c = pfn >> MemMap.chunkShift
            let chunkStart = c << MemMap.chunkShift
            let chunkEnd = chunkStart + MemMap.chunkPages
            let end = Swift.min(range.end, chunkEnd)
            let coversTails = pfn <= chunkStart + 1 && end == chunkEnd
            if coversTails && (dense[c] == 0 || !kindOnly) {
                if dense[c] != 0 {
                    fold(c, tail: kind.rawValue, release: false)
                    if release {
                        if released.upperBound != c {
                            releaseChunks(released)
                            released = c..<c
                        }
                        released = released.lowerBound..<c + 1
                    }
                }
                tails[c] = kind.rawValue
                if pfn == chunkStart {
                    heads[c].kind = kind.rawValue
                    if !kindOnly { heads[c].order = 0; heads[c].owner = 0 }
                }
            } else if dense[c] == 0 && tails[c] == kind.rawValue && pfn > chunkStart {
                // Tails already of this kind (order and owner 0): nothing to write.
            } else {
                if dense[c] == 0 { materialize(c) }
                // A tight loop over the entries (the allocator marks 511 tails per huge page).
                var e = UnsafeMutableRawPointer(pages + pfn)
                let stop = UnsafeMutableRawPointer(pages + end)
                if kindOnly {
                    while e < stop { e.storeBytes(of: kind.rawValue, as: UInt8.self); e += MemMap.bytesPerPage }
                } else {
                    // kind, order 0, owner 0: the entry's first four bytes (little-endian).
                    let word = UInt32(kind.rawValue)
                    while e < stop { e.storeBytes(of: word, as: UInt32.self); e += MemMap.bytesPerPage }
                }
            }
            pfn = end
        }
    }

    /// The head of the allocation or buddy block that `pfn` belongs to: heads are aligned to
    /// their order, so look at each aligned candidate below.
    public func head(of pfn: PFN) -> PFN {
        let k = kind(pfn)
        if k != .tail && k != .buddyTail { return pfn }
        var order = 1
        while order <= 18 {
            let candidate = pfn & ~((1 << order) - 1)
            let e = entry(candidate)
            if e.kind != PageKind.tail.rawValue && e.kind != PageKind.buddyTail.rawValue && Int(e.order) >= order {
                return candidate
            }
            order += 1
        }
        return pfn
    }

    /// When `pfn`'s chunk is summarized and `pfn` is not its first page: the kind every page
    /// from `pfn` to the chunk's end has (order, owner and link 0), and that end. Lets whole-
    /// machine walks (verify) skip summarized memory instead of reading it page by page.
    @inlinable public func uniformRun(from pfn: PFN) -> (kind: PageKind, end: PFN)? {
        guard pfn < pfnCount else { return nil }
        let c = pfn &>> MemMap.chunkShift
        guard dense[c] == 0, pfn & MemMap.chunkMask != 0 else { return nil }
        return (PageKind(rawValue: tails[c])!, Swift.min((c + 1) << MemMap.chunkShift, pfnCount))
    }

    /// The first pfn of `range` whose kind is `kind`, or nil. A summarized chunk costs two
    /// reads, so scanning a terabyte of summarized memory is cheap (boot's hole check).
    public func firstPFN(of kind: PageKind, in range: PFNRange) -> PFN? {
        let k = kind.rawValue
        var pfn = range.start
        while pfn < range.end {
            let c = pfn &>> MemMap.chunkShift
            let stop = Swift.min((c + 1) << MemMap.chunkShift, range.end)
            if dense[c] != 0 {
                while pfn < stop {
                    if pages[pfn].kind == k { return pfn }
                    pfn += 1
                }
                continue
            }
            if pfn & MemMap.chunkMask == 0 {
                if heads[c].kind == k { return pfn }
                pfn += 1
            }
            if pfn < stop && tails[c] == k { return pfn }
            pfn = stop
        }
        return nil
    }

    /// Chunks with per-page entries, and all chunks (`memhp bench` reports the ratio).
    public var denseChunks: Int { (0..<chunkCount).reduce(0) { $0 + Int(dense[$1]) } }
    public var totalChunks: Int { chunkCount }
}
