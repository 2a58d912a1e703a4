/// The /proc/sys/vm tunables the watermark code owns (mm/page_alloc.c's globals of the same
/// names); Watermarks.swift recomputes every zone's watermarks and lowmem_reserve from them.
public struct WatermarkTunables: Sendable, Equatable {
    /// `min_free_kbytes`: the sqrt rule's value at boot and after hotplug, or the user's.
    public internal(set) var minFreeKbytes = 0
    /// `user_min_free_kbytes`: the last value written, -1 before any; the sqrt rule never
    /// goes below it.
    public internal(set) var userMinFreeKbytes = -1
    public internal(set) var watermarkScaleFactor = 10
    public internal(set) var watermarkBoostFactor = 15000
    /// `sysctl_lowmem_reserve_ratio` per zone type (DMA, DMA32, Normal, Movable, Device).
    public internal(set) var lowmemReserveRatio = [256, 256, 32, 0, 0]
}
