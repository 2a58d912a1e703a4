import XCTest

@testable import KernelFS
@testable import MemoryModel

/// /proc views on a large machine, timed (release mode only: a wall-clock bound in a debug
/// build on a loaded host measures the host).
final class ProcViewsTimingTests: XCTestCase {
    func testViewsAreCheapOnALargeMachine() throws {
        try requireRelease()
        // 64 GiB in one zone: rendering must not walk pages.
        let m = Machine.synthetic([[(.normal, 16 << 20)]], reserved: [])
        let clock = ContinuousClock()
        let t = clock.measure {
            for _ in 0..<20 {
                _ = ProcViews.meminfo(m); _ = ProcViews.zoneinfo(m); _ = ProcViews.vmstat(m); _ = ProcViews.buddyinfo(m)
            }
        }
        XCTAssertLessThan(t, .seconds(2))
    }
}
