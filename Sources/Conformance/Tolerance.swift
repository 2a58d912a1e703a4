/// `|model − kernel| ≤ max(relative × |kernel|, absolute)`.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    public var relative: Double
    public var absolute: Int
    public init(relative: Double, absolute: Int) { self.relative = relative; self.absolute = absolute }

    /// Any two Ints (a log holds what it holds): the distance is taken as a UInt, exact
    /// from Int.min to Int.max.
    public func accepts(kernel: Int, model: Int) -> Bool {
        let d = kernel > model ? UInt(bitPattern: kernel &- model) : UInt(bitPattern: model &- kernel)
        let rel = relative * Double(kernel.magnitude)
        return Double(d) <= rel || absolute >= 0 && d <= UInt(absolute)
    }

    public var description: String { "±max(\(ConformanceFormat.percent(relative)), \(absolute))" }

    /// Page and kB counters that follow the model's allocator: free pages, watermarks, managed.
    public static let pages = Tolerance(relative: 0.01, absolute: 16)
    /// MemTotal, MemFree, MemAvailable (kB).
    public static let meminfoKB = Tolerance(relative: 0.01, absolute: 1024)
    /// What the guest's own processes and the kernel's caches hold (Cached, Slab, AnonPages, ...
    /// in kB): the model books them once at boot, the guest's activity moves them a little.
    public static let kernelNoiseKB = Tolerance(relative: 0.01, absolute: 4096)
    /// vmstat event counts (allocstall, pgsteal, compaction, migration).
    public static let events = Tolerance(relative: 0.01, absolute: 64)
    /// Free-block counts per order in buddyinfo: the low orders churn with every allocation.
    public static let buddyOrders = Tolerance(relative: 0.01, absolute: 32)
    /// Per-block page kinds from kpageflags (pages of one 128 MiB block).
    public static let blockPages = Tolerance(relative: 0.01, absolute: 256)
    /// `fill` headroom: the filler stops within its last chunk of the margin.
    public static let headroom = Tolerance(relative: 0, absolute: 64)
}
