/// Watermarks of a zone, in pages (`zone->_watermark[]` and `zone->watermark_boost`).
///
/// `min`, `low` and `high` are what the kernel's `min_wmark_pages`/`low_wmark_pages`/
/// `high_wmark_pages` return: the computed mark plus the boost. Every user of a watermark
/// (allocation checks, kswapd, zoneinfo, MemAvailable, the pcp high) reads those, so a
/// boost raises all of them at once, as in include/linux/mmzone.h.
public struct Watermarks: Sendable, Equatable {
    /// `_watermark[WMARK_MIN/LOW/HIGH]`, as `__setup_per_zone_wmarks` computed them.
    public internal(set) var baseMin = 0, baseLow = 0, baseHigh = 0
    /// `watermark_boost`: raised by `boost_watermark` on a fallback steal, dropped by
    /// kswapd's `balance_pgdat` and by every recomputation of the watermarks.
    public internal(set) var boost = 0

    public init() {}

    /// `min_wmark_pages`.
    public var min: Int { baseMin + boost }
    /// `low_wmark_pages`.
    public var low: Int { baseLow + boost }
    /// `high_wmark_pages`.
    public var high: Int { baseHigh + boost }
}
