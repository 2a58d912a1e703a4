import XCTest
@testable import MemoryModel

/// lib/ratelimit.c's `___ratelimit` with warn_alloc's state (10 s, burst 1).
final class RatelimitTests: XCTestCase {
    func testWarnAllocPrintsOncePer10sThenReportsTheSuppressed() {
        var r = RatelimitState.warnAlloc
        let s: UInt64 = 1_000_000_000
        XCTAssertTrue(r.check(now: 5 * s) == (true, 0))
        for t in 1...111 { XCTAssertFalse(r.check(now: 5 * s + UInt64(t) * 10_000_000).pass) }
        // Exactly interval later is still the same window (time_is_before_jiffies: strictly after).
        XCTAssertFalse(r.check(now: 15 * s).pass)
        let next = r.check(now: 15 * s + 1)
        XCTAssertTrue(next.pass)
        XCTAssertEqual(next.suppressed, 112)
        XCTAssertEqual(r.check(now: 40 * s).suppressed, 0)
    }
}
