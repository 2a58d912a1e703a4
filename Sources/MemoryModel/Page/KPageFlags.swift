/// /proc/kpageflags (fs/proc/page.c of 6.1): one 64-bit word of "stable" page flags per
/// pfn, derived from the model's memmap as `stable_page_flags()` derives them from
/// `struct page`.
public enum KPF {
    // Bit numbers of include/uapi/linux/kernel-page-flags.h (ABI) and the kernel-internal
    // ones above 31 that the file also exports.
    public static let locked = 0, error = 1, referenced = 2, uptodate = 3, dirty = 4, lru = 5, active = 6
    public static let slab = 7, writeback = 8, reclaim = 9, buddy = 10, mmap = 11, anon = 12
    public static let swapcache = 13, swapbacked = 14, compoundHead = 15, compoundTail = 16, huge = 17
    public static let unevictable = 18, hwpoison = 19, nopage = 20, ksm = 21, thp = 22, offline = 23
    public static let zeroPage = 24, idle = 25, pgtable = 26
    public static let reserved = 32, mlocked = 33

    @inline(__always) static func bit(_ b: Int) -> UInt64 { 1 << UInt64(b) }
}

extension Machine {
    /// `max_pfn`: the end of boot RAM, raised by every hot-add above it
    /// (arch/x86/mm/init_64.c: update_end_of_memory_vars from add_pages) and never lowered
    /// by a removal.
    public var maxPFN: PFN { Swift.max(layout?.maxPFN ?? 0, hotplug.addedEndPFN) }

    /// `get_max_dump_pfn()` with SPARSEMEM: max_pfn rounded up to a section, because early
    /// sections have a complete memmap. Reads at or beyond this pfn return nothing.
    public var kpageflagsEndPFN: PFN {
        (maxPFN + Geometry.pagesPerSection - 1) / Geometry.pagesPerSection * Geometry.pagesPerSection
    }

    /// Whether `pfn_to_online_page(pfn)` finds a page: its section has a memmap (some memory
    /// in it: a boot section may be partly a hole, a section without any memory has none) and
    /// is online (its memory block is online or being offlined).
    func sectionIsOnline(_ pfn: PFN) -> Bool {
        guard let b = blocks[pfn / blockPages], b.state != .offline else { return false }
        let s = pfn / Geometry.pagesPerSection * Geometry.pagesPerSection
        let e = Swift.min(s + Geometry.pagesPerSection, memmap.pfnCount)
        // Hot-added sections are entirely present; a boot section has memory somewhere.
        var p = s
        while p < e {
            if memmap.kind(p) != .absent { return true }
            p += 1
        }
        return false
    }

    /// `stable_page_flags(pfn_to_online_page(pfn))`.
    public func kpageflags(_ pfn: PFN) -> UInt64 {
        guard pfn >= 0, pfn < memmap.pfnCount, sectionIsOnline(pfn) else {
            // Beyond the memmap the model keeps, inside the rounded-up last boot section: the
            // kernel initialises those struct pages as reserved (memmap_init's tail hole).
            if pfn >= memmap.pfnCount && pfn < kpageflagsEndPFN,
                let b = blocks[pfn / blockPages], b.state != .offline
            {
                return KPF.bit(KPF.reserved)
            }
            return KPF.bit(KPF.nopage)
        }
        return pageFlags(pfn, kind: memmap.kind(pfn))
    }

    func pageFlags(_ pfn: PFN, kind: PageKind) -> UInt64 {
        let b = KPF.bit
        switch kind {
        // A hole inside an online early section: init_unavailable_range marks it reserved.
        case .absent: return b(KPF.reserved)
        case .offline: return b(KPF.offline)
        // A driver's logically offline page (PageOffline) is kept as a reserved frame.
        case .reserved: return memmap.pageOffline.contains(pfn) ? b(KPF.offline) : b(KPF.reserved)
        // PageBuddy on the head; the rest of a free block has refcount 0 and
        // is_free_buddy_page() finds its head: both show KPF_BUDDY.
        case .buddy: return b(KPF.buddy)
        // The tail of a block of order > 0 on a per-cpu list (the model marks it like a buddy
        // tail) has no PageBuddy head above it: is_free_buddy_page() is false, no flag.
        case .buddyTail: return memmap.kind(memmap.head(of: pfn)) == .pcp ? 0 : b(KPF.buddy)
        // On a per-cpu list: refcount 0, not PageBuddy, not in a buddy block: no flag.
        case .pcp: return 0
        case .tail:
            let h = memmap.head(of: pfn)
            guard h != pfn else { return 0 }
            let hk = memmap.kind(h)
            switch hk {
            case .hugetlb: return b(KPF.huge) | b(KPF.compoundTail)
            // Slab caches of order > 0 are compound; the tail reports the head's PG_slab.
            case .slabReclaimable, .slabUnreclaimable: return b(KPF.slab) | b(KPF.compoundTail)
            // Larger LRU folios (THP): the head is on the LRU.
            case .anon, .pageCache, .shmem, .ramfs, .pinned: return b(KPF.thp) | b(KPF.compoundTail)
            // kmalloc_large allocates with __GFP_COMP.
            case .kmallocLarge: return b(KPF.compoundTail)
            // alloc_pages without __GFP_COMP (vmemmap blocks, driver buffers): plain pages.
            default: return 0
            }
        case .hugetlb: return b(KPF.huge) | b(KPF.compoundHead)
        case .anon, .pinned:
            return headFlags(pfn, b(KPF.lru) | b(KPF.anon) | b(KPF.mmap) | b(KPF.swapbacked) | b(KPF.uptodate))
        case .pageCache: return headFlags(pfn, b(KPF.lru) | b(KPF.uptodate))
        case .shmem: return headFlags(pfn, b(KPF.lru) | b(KPF.swapbacked) | b(KPF.uptodate))
        // ramfs mappings are unevictable: the pages sit on the unevictable LRU, dirty.
        case .ramfs: return headFlags(pfn, b(KPF.lru) | b(KPF.unevictable) | b(KPF.dirty) | b(KPF.uptodate))
        case .slabReclaimable, .slabUnreclaimable: return headFlags(pfn, b(KPF.slab))
        case .pageTable: return b(KPF.pgtable)
        case .kernelStack, .kernel, .memmap: return 0
        case .kmallocLarge: return memmap.order(pfn) > 0 ? b(KPF.compoundHead) : 0
        }
    }

    /// An allocated head of order > 0 of a compound kind is a compound head (and a THP when on the LRU).
    private func headFlags(_ pfn: PFN, _ f: UInt64) -> UInt64 {
        guard memmap.order(pfn) > 0 else { return f }
        var r = f | KPF.bit(KPF.compoundHead)
        if f & KPF.bit(KPF.lru) != 0 { r |= KPF.bit(KPF.thp) }
        return r
    }

    /// `kpageflags_read`: the words for `count` bytes at byte `offset`, little endian, as
    /// pread(2) returns them. Offsets and counts must be multiples of 8 (EINVAL); a read at or
    /// beyond the last pfn returns nothing; a longer one is cut there.
    public func kpageflagsRead(offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0 else { throw KernelError(.invalidArgument, "negative offset or count") }
        guard offset & 7 == 0, count & 7 == 0 else {
            throw KernelError(.invalidArgument, "kpageflags reads whole 8-byte words")
        }
        let end = kpageflagsEndPFN
        let first = offset / 8
        guard first < end else { return [] }
        let n = Swift.min(count / 8, end - first)
        var out = [UInt8](repeating: 0, count: n * 8)
        var sectionOnline: (section: Int, online: Bool) = (-1, false)
        out.withUnsafeMutableBytes { raw in
            for i in 0..<n {
                let pfn = first + i
                let sec = pfn / Geometry.pagesPerSection
                if sec != sectionOnline.section { sectionOnline = (sec, pfn < memmap.pfnCount && sectionIsOnline(pfn)) }
                let v = sectionOnline.online ? pageFlags(pfn, kind: memmap.kind(pfn)) : kpageflags(pfn)
                raw.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            }
        }
        return out
    }
}
