import Foundation
import XCTest

@testable import MemoryModel
@testable import Scenario

/// The `pageflags` dump: the model's /proc/kpageflags classified as memhp-guest does.
final class PageflagsDumpTests: XCTestCase {
    /// Words with several flags count once, in the guest's order (nopage, reserved, offline,
    /// buddy, huge, thp, slab, pgtable, lru with its subcounts, other).
    func testClassificationOrder() {
        func w(_ bits: Int...) -> UInt64 { bits.reduce(0) { $0 | 1 << UInt64($1) } }
        let words: [UInt64] = [
            w(KPF.nopage, KPF.reserved), w(KPF.reserved, KPF.buddy), w(KPF.offline),
            w(KPF.buddy), w(KPF.huge, KPF.compoundHead), w(KPF.huge, KPF.compoundTail),
            w(KPF.thp, KPF.lru, KPF.anon), w(KPF.slab), w(KPF.pgtable),
            w(KPF.lru, KPF.anon), w(KPF.lru, KPF.unevictable, KPF.mlocked), w(KPF.unevictable), 0
        ]
        var bytes: [UInt8] = []
        for v in words { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        XCTAssertEqual(
            ModelRunner.pageflagsLine(block: 5, bytes + [1, 2, 3]),  // a partial word is not a page
            "pageflags block=5 pages=13 nopage=1 reserved=1 offline=1 buddy=1 lru=3 anon=1 file=2 unevictable=2 mlocked=1 slab=1 pgtable=1 huge=2 huge_heads=1 thp=1 other=1"
        )
    }

    /// memmap-on-memory, the capture: each hot-added block's first 512 pages hold its own
    /// memmap (PageReserved); the untouched blocks are entirely free buddy pages. Block 32 too,
    /// since the guest runner prefaults its buffers (GuestFootprint): the 6.1.0-56 capture had one
    /// of its pages there and the per-cpu refill that page took (buddy 32234, other 21).
    func testMemmapOnMemoryBlocksAsCaptured() throws {
        let dir = Fixtures.conformance
        let sc = try Fixtures.load(dir.appendingPathComponent("memmap-on-memory.scn"))
        let kernel = try String(contentsOf: dir.appendingPathComponent("memmap-on-memory.kernel.txt"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("pageflags ") }.map(String.init)
        let model = ModelRunner(scenario: sc).run().lines.filter { $0.hasPrefix("pageflags ") }
        XCTAssertEqual(model.count, kernel.count)
        XCTAssertEqual(kernel.count, 6)
        // Every block agrees exactly.
        XCTAssertEqual(model, kernel)
        XCTAssertTrue(
            kernel[0].hasPrefix("pageflags block=32 pages=32768 nopage=0 reserved=512 offline=0 buddy=32256 "),
            kernel[0])
    }
}
