/// The /proc/sys/vm values that are neither watermarks nor HugeTLB's: overcommit policy
/// (mm/util.c), the pcp high fraction (mm/page_alloc.c) and drop_caches' `stfu`
/// (fs/drop_caches.c). Their handlers live with their subsystems.
public struct VMSysctl: Sendable, Equatable {
    /// 0 guess, 1 always, 2 never.
    public var overcommitMemory = 0
    /// A plain int: proc_dointvec takes negative values too.
    public var overcommitRatio = 50
    /// Writing it zeroes the ratio and vice versa.
    public var overcommitKbytes: UInt64 = 0
    /// 0 (pcp high from the low watermark) or ≥ 8.
    public var percpuPagelistHighFraction = 0
    /// The kernel's `stfu`: once a drop_caches write had bit 4 set, it stops logging.
    public internal(set) var dropCachesQuiet = false
    public init() {}
}
