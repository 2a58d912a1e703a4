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

/// Per-pfn state in flat arrays (struct of arrays), 8 bytes a page: the kernel spends 64.
///
/// `link` is a union as in `struct page`: for a free buddy head it is the position in its
/// free list, for an allocated head the position in its owner's page list.
public final class MemMap: @unchecked Sendable {
    public let pfnCount: Int
    @usableFromInline let kinds: UnsafeMutablePointer<UInt8>
    @usableFromInline let orders: UnsafeMutablePointer<UInt8>
    @usableFromInline let owners: UnsafeMutablePointer<UInt16>
    @usableFromInline let links: UnsafeMutablePointer<UInt32>

    /// Bytes of model state per page frame.
    public static let bytesPerPage = 1 + 1 + 2 + 4

    /// All frames start `absent`. The buffers come from calloc, so untouched frames (holes,
    /// the unplugged hotplug range) cost no memory.
    public init(pfnCount: Int) {
        precondition(pfnCount >= 0 && pfnCount < Int(UInt32.max), "pfn space too large")
        self.pfnCount = pfnCount
        let n = max(pfnCount, 1)
        kinds = MemMap.zeroed(n, 1).assumingMemoryBound(to: UInt8.self)
        orders = MemMap.zeroed(n, 1).assumingMemoryBound(to: UInt8.self)
        owners = MemMap.zeroed(n, 2).assumingMemoryBound(to: UInt16.self)
        links = MemMap.zeroed(n, 4).assumingMemoryBound(to: UInt32.self)
    }

    /// Zeroed memory straight from the kernel (calloc of a large size is an anonymous
    /// mapping), asking for transparent huge pages so a terabyte memmap faults in 2 MiB steps.
    private static func zeroed(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer {
        let bytes = count * size
        let p = calloc(count, size)!
        #if os(Linux)
        if bytes >= 1 << 21 {
            // Best effort: only whole 2 MiB pages inside the allocation can be huge.
            let start = (Int(bitPattern: p) + (1 << 21) - 1) & ~((1 << 21) - 1)
            let end = (Int(bitPattern: p) + bytes) & ~((1 << 21) - 1)
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, 14 /* MADV_HUGEPAGE */) }
        }
        #endif
        return p
    }

    deinit { free(kinds); free(orders); free(owners); free(links) }

    @inlinable public func kind(_ pfn: PFN) -> PageKind { PageKind(rawValue: kinds[pfn])! }
    @inlinable public func setKind(_ pfn: PFN, _ kind: PageKind) { kinds[pfn] = kind.rawValue }
    @inlinable public func order(_ pfn: PFN) -> Int { Int(orders[pfn]) }
    @inlinable public func setOrder(_ pfn: PFN, _ order: Int) { orders[pfn] = UInt8(order) }
    @inlinable public func owner(_ pfn: PFN) -> Int { Int(owners[pfn]) }
    @inlinable public func setOwner(_ pfn: PFN, _ owner: Int) { owners[pfn] = UInt16(owner) }
    @inlinable public func link(_ pfn: PFN) -> Int { Int(links[pfn]) }
    @inlinable public func setLink(_ pfn: PFN, _ link: Int) { links[pfn] = UInt32(truncatingIfNeeded: link) }

    /// Set the frames of `range` to `kind`, order 0, no owner. `kindOnly` leaves order and
    /// owner alone (boot: they are still zero from the allocation).
    public func fill(_ range: PFNRange, kind: PageKind, kindOnly: Bool = false) {
        guard !range.isEmpty else { return }
        memset(kinds + range.start, Int32(kind.rawValue), range.count)
        if kindOnly { return }
        memset(orders + range.start, 0, range.count)
        memset(owners + range.start, 0, range.count * 2)
    }

    /// The head of the allocation or buddy block that `pfn` belongs to: heads are aligned to
    /// their order, so look at each aligned candidate below.
    public func head(of pfn: PFN) -> PFN {
        let k = kinds[pfn]
        if k != PageKind.tail.rawValue && k != PageKind.buddyTail.rawValue { return pfn }
        var order = 1
        while order <= 18 {
            let candidate = pfn & ~((1 << order) - 1)
            let ck = kinds[candidate]
            if ck != PageKind.tail.rawValue && ck != PageKind.buddyTail.rawValue && Int(orders[candidate]) >= order {
                return candidate
            }
            order += 1
        }
        return pfn
    }
}
