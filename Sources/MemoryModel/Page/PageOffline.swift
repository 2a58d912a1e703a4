/// The PageOffline page type (PG_offline, include/linux/page-flags.h): a page that is
/// present and in a zone but logically offline, because a driver took it away from the buddy
/// allocator (virtio-mem's unplugged subblocks, balloon drivers). Generic mm code sees only
/// this page type and the page's reference count, never the driver:
///
/// - `has_unmovable_pages` (mm/page_isolation.c) lets PageOffline pages pass when isolating
///   for memory offlining (MEMORY_OFFLINE);
/// - `test_pages_isolated` counts a PageOffline page as done once its refcount is zero, which
///   the driver arranges from its MEM_GOING_OFFLINE notifier callback (and undoes in
///   MEM_CANCEL_OFFLINE);
/// - `stable_page_flags` (fs/proc/page.c) shows KPF_OFFLINE.
///
/// Sparse: one bitmap per 128 MiB section that has any such page, so a machine without them
/// pays nothing. Initialising a struct page (`MemMap.fill`, as `__init_single_page` resets
/// `page_type`) clears both bits.
public struct PageOfflinePages: Sendable {
    /// Section → PageOffline bit per page.
    private var offline: [Int: [UInt64]] = [:]
    /// Section → bit per PageOffline page whose driver dropped its reference (page_count 0).
    private var unreferenced: [Int: [UInt64]] = [:]

    public init() {}

    public var isEmpty: Bool { offline.isEmpty }

    /// `PageOffline(page)`.
    @inline(__always) public func contains(_ pfn: PFN) -> Bool { Self.test(offline, pfn) }

    /// `PageOffline(page) && !page_count(page)`.
    @inline(__always) public func isUnreferenced(_ pfn: PFN) -> Bool {
        Self.test(offline, pfn) && Self.test(unreferenced, pfn)
    }

    /// `__SetPageOffline` over the range, each page holding the driver's reference.
    public mutating func set(_ range: PFNRange) {
        for pfn in range.start..<range.end {
            Self.assign(&offline, pfn, true)
            Self.assign(&unreferenced, pfn, false)
        }
    }

    /// The driver drops its reference to the PageOffline pages of `range` (`page_ref_dec`).
    public mutating func dropReferences(_ range: PFNRange) {
        for pfn in range.start..<range.end where contains(pfn) { Self.assign(&unreferenced, pfn, true) }
    }

    /// The driver takes its references back (`page_ref_inc`).
    public mutating func takeReferences(_ range: PFNRange) {
        for pfn in range.start..<range.end { Self.assign(&unreferenced, pfn, false) }
    }

    /// `__ClearPageOffline` (and the page's count reset) over the range: struct page
    /// initialisation. Touches only the sections that have bitmaps.
    public mutating func clear(_ range: PFNRange) {
        guard !offline.isEmpty, !range.isEmpty else { return }
        let first = range.start / Geometry.pagesPerSection, last = (range.end - 1) / Geometry.pagesPerSection
        let sections = offline.keys.filter { $0 >= first && $0 <= last }
        for s in sections {
            let lo = Swift.max(range.start, s * Geometry.pagesPerSection)
            let hi = Swift.min(range.end, (s + 1) * Geometry.pagesPerSection)
            for pfn in lo..<hi {
                Self.assign(&offline, pfn, false)
                Self.assign(&unreferenced, pfn, false)
            }
        }
    }

    @inline(__always) private static func test(_ map: [Int: [UInt64]], _ pfn: PFN) -> Bool {
        guard let words = map[pfn / Geometry.pagesPerSection] else { return false }
        let i = pfn % Geometry.pagesPerSection
        return words[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    private static func assign(_ map: inout [Int: [UInt64]], _ pfn: PFN, _ on: Bool) {
        let s = pfn / Geometry.pagesPerSection, i = pfn % Geometry.pagesPerSection
        guard on || map[s] != nil else { return }
        // Taken out and put back so the bitmap is never copied.
        var words = map.removeValue(forKey: s) ?? [UInt64](repeating: 0, count: Geometry.pagesPerSection / 64)
        let bit: UInt64 = 1 << UInt64(i & 63)
        if on { words[i >> 6] |= bit } else { words[i >> 6] &= ~bit }
        if on || words[i >> 6] != 0 || words.contains(where: { $0 != 0 }) { map[s] = words }
    }
}
