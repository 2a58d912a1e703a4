#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One benchmark of `memhp bench`: a workload users run (a boot, a hot-add, a pool resize, a
/// batch of scenarios) or a hot-path micro-operation. Each run happens in a fresh child process
/// (`ChildRunner`), so the peak RSS it reports belongs to this workload alone.
public struct BenchCase: Sendable {
    public let name: String
    public let summary: String
    /// Bytes of host memory the case needs (the runner skips it on a smaller host).
    public let needsBytes: Int
    /// Runs once; returns the timed part's figures.
    public let body: @Sendable () throws -> BenchSample

    public init(
        _ name: String, _ summary: String, needsBytes: Int = 1 << 30,
        body: @escaping @Sendable () throws -> BenchSample
    ) {
        self.name = name; self.summary = summary; self.needsBytes = needsBytes; self.body = body
    }
}

/// What one run of a case measured: the timed part only (setup such as booting the machine a
/// hot-add needs is not timed), plus the figures that say what was done.
public struct BenchSample: Codable, Sendable {
    /// CPU seconds of the process (user + system: the host's page faults count) over the timed part.
    public var cpu: Double
    /// Wall seconds over the timed part.
    public var wall: Double
    /// Peak resident set of the whole child process in KiB (`VmHWM`), setup included.
    public var peakRSSKiB: Int = 0
    /// Named counts (pages migrated, scenarios run, ops/s ...).
    public var figures: [String: Double] = [:]
    public var note: String = ""

    public init(cpu: Double, wall: Double, figures: [String: Double] = [:], note: String = "") {
        self.cpu = cpu; self.wall = wall; self.figures = figures; self.note = note
    }
}

/// A stopwatch that reads both clocks the samples carry.
public struct BenchTimer {
    let cpu0: Double, wall0: Double
    public init() { cpu0 = BenchTimer.processCPU(); wall0 = BenchTimer.monotonic() }
    /// The sample for everything since `init`.
    public func sample(figures: [String: Double] = [:], note: String = "") -> BenchSample {
        BenchSample(
            cpu: BenchTimer.processCPU() - cpu0, wall: BenchTimer.monotonic() - wall0, figures: figures, note: note)
    }
    /// Time `body` alone.
    public static func measure(figures: [String: Double] = [:], _ body: () throws -> Void) rethrows -> BenchSample {
        let t = BenchTimer()
        try body()
        return t.sample(figures: figures)
    }

    static func clock(_ id: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    public static func processCPU() -> Double { clock(CLOCK_PROCESS_CPUTIME_ID) }
    public static func monotonic() -> Double { clock(CLOCK_MONOTONIC) }
}

/// A benchmark that cannot run here (too little host memory, a model limit): reported, not fatal.
public struct BenchSkipped: Error, CustomStringConvertible {
    public let description: String
    public init(_ why: String) { description = why }
}
