import XCTest

@testable import Scenario

/// `fill-kernel` reads its headroom from the zones directly; the guest (memhp-guest.c's
/// do_fill) parses /proc/zoneinfo. The two must give the same figure in every state a fill
/// passes through, or the model's fill would stop at another page than the kernel's guest.
final class FillHeadroomTests: XCTestCase {
    func testDirectHeadroomEqualsTheZoneinfoReading() throws {
        let sc = try Scenario.parse(
            """
            mem: 1G
            maxmem: 4G
            node: 0 512M
            node: 1 512M
            dimm: d1 512M node=0
            ---
            step one
            online 32 online_kernel
            online 33 online_movable
            write $HUGE/hugepages-2048kB/nr_hugepages 100
            hold anon a1 64M
            fill-kernel 0 300
            fill-kernel 1 0 id=f1
            """, file: "fill.scn")
        let runner = ModelRunner(scenario: sc)
        let r = runner.run()
        XCTAssertTrue(r.completed)
        // The final state: both nodes filled to their margins (non-zero figures expected).
        var seen: [Int] = []
        for node in 0..<3 {
            let direct = runner.headroom(node: node)
            XCTAssertEqual(direct, runner.headroomFromZoneinfo(node: node), "node \(node)")
            seen.append(direct)
        }
        XCTAssertGreaterThan(seen[0], 0, "node 0 keeps its 300-page margin")
        XCTAssertEqual(seen[2], 0, "no node 2")
        // States along the way: release the fills and the anon hold, then allocate in steps.
        let m = runner.machine!
        for id in ["fill", "f1", "a1"] { runner.doRelease(id) }
        let owner = try m.createOwner(name: "probe", kind: .ramfs, node: 0, bound: true)
        var checked = 0
        for step in [1, 7, 63, 64, 1000, 20000, 50000] {
            m.allocate(owner: owner, blocks: step)
            for node in 0..<2 {
                XCTAssertEqual(
                    runner.headroom(node: node), runner.headroomFromZoneinfo(node: node), "node \(node) after \(step)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 14)
    }
}
