/// What a page frame holds, as /proc/kpageflags (+ /proc/kpagecount) shows it, reduced to
/// what decides a memory offline (mm/page_isolation.c: has_unmovable_pages; mm/memory_hotplug.c:
/// scan_movable_pages, do_migrate_range, dissolve_free_huge_pages). Raw values are the file
/// format: never renumber, only append.
public enum CensusKind: UInt8, CaseIterable, Sendable, Codable {
    /// KPF_NOPAGE: no online memmap (a hole, an offline section, beyond max_pfn).
    case noPage = 0
    /// KPF_BUDDY: in a free buddy block (orders are recovered on load: buddies always merge).
    case free = 1
    /// Free on a per-cpu list. Not produced from kpageflags (a pcp page has no flag and
    /// kpagecount is the mapcount, 0 for kernel memory too: see `flagless`); kept for the format.
    case freePCP = 2
    /// LRU, anonymous (KPF_ANON), evictable: migrates.
    case anon = 3
    /// LRU page cache or shmem, evictable: migrates.
    case file = 4
    /// LRU, unevictable and swap-backed or anonymous (SHM_LOCK, mlock): migrates.
    case unevictable = 5
    /// LRU, mlocked (KPF_MLOCKED): migrates (mlock does not pin a page frame).
    case mlocked = 6
    /// LRU, unevictable, file-backed without swap backing: ramfs. Its mapping has no
    /// migrate_folio and no writepage, so fallback_migrate_folio fails for ever.
    case ramfs = 7
    /// KPF_SLAB (heads and tails).
    case slab = 8
    /// KPF_PGTABLE.
    case pageTable = 9
    /// KPF_RESERVED: memblock allocations, holes inside a section, the kernel image.
    case reserved = 10
    /// HugeTLB head with refcount 0: in the free pool.
    case hugetlbFree = 11
    /// HugeTLB head with a reference: in use (migratable on x86_64).
    case hugetlbUsed = 12
    /// HugeTLB tail (KPF_HUGE | KPF_COMPOUND_TAIL).
    case hugetlbTail = 13
    /// KPF_OFFLINE: a balloon's or virtio-mem's logically offline page.
    case offline = 14
    /// KPF_HWPOISON.
    case hwpoison = 15
    /// Allocated, no flag that says more (vmalloc, kernel stacks, driver buffers, vmemmap,
    /// non-LRU compound pages): unmovable.
    case kernel = 16
    /// No flags and not mapped: a per-cpu free page or unmapped kernel memory, which
    /// kpageflags and kpagecount cannot tell apart (Assumptions.flaglessIsKernel).
    case flagless = 17

    public var name: String {
        switch self {
        case .noPage: "nopage"
        case .free: "free"
        case .freePCP: "free-pcp"
        case .anon: "anon"
        case .file: "file"
        case .unevictable: "unevictable"
        case .mlocked: "mlocked"
        case .ramfs: "ramfs"
        case .slab: "slab"
        case .pageTable: "pagetable"
        case .reserved: "reserved"
        case .hugetlbFree: "hugetlb-free"
        case .hugetlbUsed: "hugetlb"
        case .hugetlbTail: "hugetlb-tail"
        case .offline: "offline"
        case .hwpoison: "hwpoison"
        case .kernel: "kernel"
        case .flagless: "flagless"
        }
    }

    /// On an LRU list: what migration isolates (PageLRU).
    public var isLRU: Bool {
        switch self {
        case .anon, .file, .unevictable, .mlocked, .ramfs: true
        default: false
        }
    }
}

/// kpageflags bit numbers (include/uapi/linux/kernel-page-flags.h and the kernel-internal
/// ones fs/proc/page.c also exports): an ABI, the same on 6.1 and later kernels.
enum KPFBit {
    static let locked = 0, error = 1, referenced = 2, uptodate = 3, dirty = 4, lru = 5, active = 6
    static let slab = 7, writeback = 8, reclaim = 9, buddy = 10, mmap = 11, anon = 12
    static let swapcache = 13, swapbacked = 14, compoundHead = 15, compoundTail = 16, huge = 17
    static let unevictable = 18, hwpoison = 19, nopage = 20, ksm = 21, thp = 22, offline = 23
    static let zeroPage = 24, idle = 25, pgtable = 26
    static let reserved = 32, mlocked = 33
}

/// stable_page_flags() words → CensusKind, one pfn after another (a compound tail takes what
/// its head was: the file holds no other link between them).
struct PageClassifier {
    private var lastHead: CensusKind = .kernel

    @inline(__always) static func has(_ f: UInt64, _ bit: Int) -> Bool { f & (1 << UInt64(bit)) != 0 }

    /// `count` is the pfn's /proc/kpagecount value, or nil when that file is not read.
    mutating func classify(_ f: UInt64, count: UInt64?) -> CensusKind {
        let has = PageClassifier.has
        if has(f, KPFBit.nopage) { return .noPage }
        if has(f, KPFBit.hwpoison) { return .hwpoison }
        if has(f, KPFBit.buddy) { return .free }
        if has(f, KPFBit.offline) { return .offline }
        if has(f, KPFBit.reserved) { return .reserved }
        if has(f, KPFBit.slab) { return .slab }
        if has(f, KPFBit.pgtable) { return .pageTable }
        if has(f, KPFBit.huge) {
            if has(f, KPFBit.compoundTail) { return .hugetlbTail }
            // Mapcount 0: in the free pool (an in-use page no process maps looks the same).
            let k: CensusKind = (count ?? 1) == 0 ? .hugetlbFree : .hugetlbUsed
            lastHead = k
            return k
        }
        if has(f, KPFBit.compoundTail) {
            // A THP's or another compound page's tail: its head decided (a non-LRU compound
            // head is kernel memory; has_unmovable_pages finds it through compound_head).
            return lastHead == .hugetlbFree || lastHead == .hugetlbUsed ? .hugetlbTail : lastHead
        }
        let k: CensusKind
        if has(f, KPFBit.lru) {
            if has(f, KPFBit.unevictable) && !has(f, KPFBit.anon) && !has(f, KPFBit.swapbacked) {
                k = .ramfs
            } else if has(f, KPFBit.mlocked) {
                k = .mlocked
            } else if has(f, KPFBit.unevictable) {
                k = .unevictable
            } else {
                k = has(f, KPFBit.anon) ? .anon : .file
            }
        } else if f == 0 {
            // No flags: a free page on a per-cpu list, or kernel memory (vmalloc, stacks,
            // drivers). /proc/kpagecount is page_mapcount(), not the refcount: mapped means
            // allocated; unmapped tells nothing (Assumptions.flaglessIsKernel decides).
            k = (count ?? 0) > 0 ? .kernel : .flagless
        } else {
            k = .kernel
        }
        if has(f, KPFBit.compoundHead) { lastHead = k }
        return k
    }
}
