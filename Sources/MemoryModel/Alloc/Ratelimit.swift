/// `struct ratelimit_state` and `___ratelimit` (lib/ratelimit.c): at most `burst` calls pass
/// per `interval`; when a new interval starts after suppressed calls, the kernel first logs
/// `FUNC: N callbacks suppressed`. Time is the machine's virtual clock (ns), as jiffies.
public struct RatelimitState: Sendable {
    public var intervalNS: UInt64
    public var burst: Int
    var begin: UInt64? = nil
    var printed = 0
    var missed = 0

    public init(intervalNS: UInt64, burst: Int) { self.intervalNS = intervalNS; self.burst = burst }

    /// warn_alloc's `nopage_rs`: DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1) (mm/page_alloc.c, 6.1).
    public static let warnAlloc = RatelimitState(intervalNS: 10_000_000_000, burst: 1)

    /// Whether this call may print, and the `callbacks suppressed` count to log first (if any).
    public mutating func check(now: UInt64) -> (pass: Bool, suppressed: Int) {
        var suppressed = 0
        if begin == nil { begin = now }
        if now > begin! &+ intervalNS {
            suppressed = missed
            missed = 0
            begin = now
            printed = 0
        }
        if burst > printed { printed += 1; return (true, suppressed) }
        missed += 1
        return (false, suppressed)
    }
}
