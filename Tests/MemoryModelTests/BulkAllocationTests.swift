import XCTest

@testable import MemoryModel

/// `allocate(owner:blocks:)` serves runs of pages from a pcp list in one go and skips a
/// reclaim rescan that cannot free anything. Both are shortcuts of the mechanism, never of
/// the result: the same machine, asked for N pages in one call or in N calls of one page
/// (each of which walks the full `__alloc_pages` path), must end in the same state page for
/// page — through the fast path, pcp refills, the slow path with kswapd and direct reclaim
/// of page cache, and allocation failure.
final class BulkAllocationTests: XCTestCase {
    func boot() throws -> Machine {
        try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 1 << 30, slots: 0, cmdline: ""))
    }

    /// Everything allocation can change: every page's kind, order and owner, the owners'
    /// block lists in order, the zones' counters and the reclaim counters.
    func state(_ m: Machine) -> [String] {
        var out: [String] = []
        var pfn = 0
        while pfn < m.memmap.pfnCount {
            out.append("\(pfn) \(m.memmap.kind(pfn)) \(m.memmap.order(pfn)) \(m.memmap.owner(pfn))")
            pfn += 1
        }
        for o in m.owners.all { out.append("owner \(o.name) \(o.blocks)") }
        for (i, z) in m.zones.enumerated() {
            out.append("zone \(i) free \(z.freePages) pcp \(z.pcp.count) factor \(z.pcp.freeFactor) \(z.kindPages)")
        }
        out.append("steal \(m.vmstat.pgstealKswapd) \(m.vmstat.pgstealDirect) fail \(m.vmstat.allocFailures)")
        return out
    }

    func run(single: Bool) throws -> (state: [String], got: [Int]) {
        let m = try boot()
        m.owners.reclaimShortcut = !single
        // Page cache for reclaim to find, then kernel-zone ramfs pages until allocations fail.
        let cache = try m.createOwner(name: "cache", kind: .pageCache)
        let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs, node: 0, bound: true)
        var got: [Int] = []
        for (owner, n) in [(cache, 5000), (ramfs, 100), (ramfs, 63), (ramfs, 1), (ramfs, 300_000)] {
            if single {
                var k = 0
                while k < n && m.allocate(owner: owner, blocks: 1) == 1 { k += 1 }
                got.append(k)
            } else {
                got.append(m.allocate(owner: owner, blocks: n))
            }
        }
        try m.verify()
        return (state(m), got)
    }

    func testOneCallEqualsPageByPage() throws {
        let bulk = try run(single: false)
        let single = try run(single: true)
        XCTAssertEqual(bulk.got, single.got)
        XCTAssertLessThan(bulk.got.last!, 300_000, "the filler ran out of memory")
        XCTAssertGreaterThan(bulk.got.last!, 100_000)
        XCTAssertEqual(bulk.state.count, single.state.count)
        for (a, b) in zip(bulk.state, single.state) where a != b {
            XCTFail("first difference: bulk '\(a)' vs page by page '\(b)'")
            break
        }
        XCTAssertTrue(bulk.state.last!.hasPrefix("steal "))
        XCTAssertNotEqual(bulk.state.last!, "steal 0 0 fail 0", "reclaim and failure were reached")
    }
}
