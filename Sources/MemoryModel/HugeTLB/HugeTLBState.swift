/// HugeTLB's state: hstates with their pools and counters (mm/hugetlb.c globals), the
/// per-huge-page flags, and what HVO (mm/hugetlb_vmemmap.c) changed in the vmemmap.
///
/// Everything per huge page lives in flat arrays indexed by `pfn >> 9` (one byte per 2 MiB
/// of physical memory) or in the memmap itself: a huge page head is a `.hugetlb` page of
/// order 9 or 18 whose `link` is its position in its node's free list while it is free.
public struct HugeTLBState: Sendable {
    /// Which kernel's vmemmap optimization to model.
    public enum VmemmapProfile: Sendable, Equatable {
        /// 5.18–6.1: keep one vmemmap page, free 7 per 2 MiB page (4095 per 1 GiB); the
        /// `vm.hugetlb_optimize_vmemmap` sysctl exists.
        case linux61
        /// 5.14–5.17: keep two (head and first tail), free 6 per 2 MiB page (4094 per 1 GiB);
        /// no sysctl, the boot parameter alone decides.
        case linux514

        /// vmemmap pages kept per huge page (`HUGETLB_VMEMMAP_RESERVE_SIZE` / `RESERVE_VMEMMAP_NR`).
        public var keptPages: Int { self == .linux61 ? 1 : 2 }
    }

    /// HPG_* flags of a huge page head (`page->private`), one byte per 2 MiB chunk.
    public struct PageFlags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// HPG_freed: on a free list.
        public static let freed = PageFlags(rawValue: 1)
        /// HPG_vmemmap_optimized.
        public static let vmemmapOptimized = PageFlags(rawValue: 2)
        /// HPG_temporary: a migration target allocated outside the pool's accounting.
        public static let temporary = PageFlags(rawValue: 4)
        /// HPG_restore_reserve: freeing it gives a reservation back.
        public static let restoreReserve = PageFlags(rawValue: 8)
        /// Marks a head (so the byte is never 0 for a live huge page).
        public static let head = PageFlags(rawValue: 0x80)
    }

    public var profile: VmemmapProfile = .linux61
    public internal(set) var hstates: [HState] = []
    /// Index of the default hstate (`default_hstate_idx`), what /proc/sys/vm and meminfo show.
    public internal(set) var defaultIndex = 0
    /// `hugetlb_init` has run.
    public internal(set) var initialized = false
    /// `vmemmap_optimize_enabled`: `hugetlb_free_vmemmap=` at boot, the sysctl afterwards.
    public internal(set) var optimizeVmemmap = false

    /// Per 2 MiB chunk: the flags of the huge page whose head is at the chunk's start.
    var flags: [UInt8] = []
    /// In-use huge pages mapped by a consumer: head pfn → (mapping, index in the mapping).
    var mapped: [Int: MapRef] = [:]
    public internal(set) var mappings: [Int: HugeTLBMapping] = [:]
    var nextMappingID = 1
    public internal(set) var stats = HVOStats()

    public init() {}

    public var defaultHState: HState? { hstates.indices.contains(defaultIndex) ? hstates[defaultIndex] : nil }
    /// The hstate of a page size, as `size_to_hstate`.
    public func index(ofSizeBytes size: Int) -> Int? { hstates.firstIndex { $0.sizeBytes == size } }
    /// Whether any hstate can be optimized (the sysctl is registered only then). With a
    /// 64-byte struct page every size of at least 2 MiB can.
    public var anyOptimizable: Bool { profile == .linux61 && !hstates.isEmpty }

    struct MapRef: Sendable { var mapping: Int; var index: Int }
}

/// `struct hstate`: one huge page size with its pool.
public struct HState: Sendable {
    public let order: Int
    public var pages: Int { 1 << order }
    public var sizeBytes: Int { pages << Geometry.pageShift }
    /// The sysfs directory name, `hugepages-2048kB`.
    public var name: String { "hugepages-\(sizeBytes >> 10)kB" }
    /// Larger than the buddy allocator's biggest block: allocated as a contiguous range.
    public var isGigantic: Bool { order >= Geometry.maxOrder }

    /// `max_huge_pages`, an `unsigned long` in the kernel: kept as its bit pattern (6.1's
    /// dissolve and demote decrement it without a floor, so it can wrap; the sysctl prints
    /// it with `%lu`, see `maxHugePagesULong`).
    public internal(set) var maxHugePages = 0
    /// Boot-time per-node request (`max_huge_pages_node`), used once by hugetlb_init.
    public internal(set) var maxHugePagesNode: [Int]
    public internal(set) var nrHugePages = 0
    public internal(set) var freeHugePages = 0
    public internal(set) var resvHugePages = 0
    public internal(set) var surplusHugePages = 0
    public internal(set) var nrOvercommitHugePages = 0
    public internal(set) var nrHugePagesNode: [Int]
    public internal(set) var freeHugePagesNode: [Int]
    public internal(set) var surplusHugePagesNode: [Int]
    /// The most a node's surplus count has exceeded its pages through 6.1's own accounting
    /// (`dissolve_free_huge_page` and `demote_free_huge_page` remove a free page without
    /// adjusting surplus, so a node whose pages were all surplus keeps counting them; fixed
    /// upstream after 6.1 by `adjust_surplus` in `dissolve_free_hugetlb_folio`). `verify()`
    /// allows this much and no more.
    var surplusOvercountNode: [Int]
    /// `hugepage_freelists[nid]`, in the kernel's list order.
    var freeLists: HugePageFreeLists
    var nextNidToAlloc = 0
    var nextNidToFree = 0
    /// Order of the hstate `demote` splits into (0: none).
    public internal(set) var demoteOrder = 0

    init(order: Int, nodeCount: Int) {
        self.order = order
        maxHugePagesNode = Array(repeating: 0, count: nodeCount)
        nrHugePagesNode = Array(repeating: 0, count: nodeCount)
        freeHugePagesNode = Array(repeating: 0, count: nodeCount)
        surplusHugePagesNode = Array(repeating: 0, count: nodeCount)
        surplusOvercountNode = Array(repeating: 0, count: nodeCount)
        freeLists = HugePageFreeLists(nodeCount: nodeCount)
    }

    /// `persistent_huge_pages(h)`: `nr_huge_pages - surplus_huge_pages` in unsigned long,
    /// which wraps to a huge number once 6.1's dissolve has left more surplus than pages
    /// (then no `nr_hugepages` write can grow or shrink the pool: `set_max_huge_pages`).
    public var persistentHugePages: UInt64 { UInt64(bitPattern: Int64(nrHugePages &- surplusHugePages)) }
    /// `max_huge_pages` as the kernel's unsigned long (what /proc/sys/vm/nr_hugepages shows).
    public var maxHugePagesULong: UInt64 { UInt64(bitPattern: Int64(maxHugePages)) }
    /// `available_huge_pages(h)`: free pages not backing a reservation.
    public var availableHugePages: Int { freeHugePages - resvHugePages }
    /// `string_get_size(size, 1, STRING_UNITS_2)`: "2.00 MiB", "1.00 GiB".
    public var sizeString: String {
        sizeBytes >= 1 << 30 ? "\(sizeBytes >> 30).00 GiB" : "\(sizeBytes >> 20).00 MiB"
    }
}

/// What HVO did, for reports and the bench: pages given back and taken again.
public struct HVOStats: Sendable, Equatable {
    /// Huge pages optimized / restored, and restores that failed.
    public var optimized = 0, restored = 0, restoreFailures = 0
    /// vmemmap pages freed to the buddy allocator / allocated again.
    public var vmemmapPagesFreed = 0, vmemmapPagesAllocated = 0
    /// Of the pages freed, those that were memblock memory (they raised MemTotal).
    public var bootmemPagesFreed = 0
    /// Page-table pages spent on vmemmap PMD splits.
    public var pmdSplits = 0
}

/// `/proc/meminfo`'s hugetlb lines (`hugetlb_report_meminfo`), values as printed.
public struct HugeTLBMeminfo: Sendable, Equatable {
    public var total = 0, free = 0, rsvd = 0, surp = 0
    /// Default page size in kB.
    public var hugepagesizeKB = 0
    /// All hstates' pages, in kB.
    public var hugetlbKB = 0

    /// The six lines exactly as 6.1 prints them.
    public var lines: [String] {
        [
            "HugePages_Total:   \(pad(total, 5))",
            "HugePages_Free:    \(pad(free, 5))",
            "HugePages_Rsvd:    \(pad(rsvd, 5))",
            "HugePages_Surp:    \(pad(surp, 5))",
            "Hugepagesize:   \(pad(hugepagesizeKB, 8)) kB",
            "Hugetlb:        \(pad(hugetlbKB, 8)) kB"
        ]
    }
}

/// `%Nlu`: right-aligned in a field of `width`.
func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
}
