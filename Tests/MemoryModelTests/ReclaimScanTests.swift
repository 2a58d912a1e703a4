import XCTest

@testable import MemoryModel

/// `reclaim` scans each reclaimable owner's blocks from the end of its list and passes over
/// those outside the zones it may free from. Its zone summary lets it jump over such runs:
/// the same blocks must be freed in the same order as by the plain walk (the reference,
/// `reclaimShortcut` off), and a list whose newest blocks all lie elsewhere must no longer
/// be walked again by every call (the quadratic path the 10^6-operation fuzz run hit).
final class ReclaimScanTests: XCTestCase {
    /// Two nodes of 1 GiB each: zone indices are node * 5 + zone type.
    func boot() throws -> Machine {
        let g = 1 << 30
        return try Machine.boot(
            MachineConfig(
                memBytes: 2 * g, maxmemBytes: 2 * g, slots: 0,
                nodes: [NodeConfig(id: 0, memBytes: g), NodeConfig(id: 1, memBytes: g)], cmdline: ""))
    }

    /// Page cache owner `cache`: `old` pages on node 0, then `new` pages on node 1; the
    /// only reclaimable owner (boot's page cache is made unreclaimable).
    func cacheSplitAcrossNodes(_ m: Machine, old: Int, new: Int) throws -> Int {
        for o in m.owners.all { m.owners.slots[o.id]!.reclaimable = false }
        let id = try m.createOwner(name: "cache", kind: .pageCache, node: 0, bound: true)
        XCTAssertEqual(m.allocate(owner: id, blocks: old), old)
        m.owners.slots[id]!.node = 1
        XCTAssertEqual(m.allocate(owner: id, blocks: new), new)
        return id
    }

    func node0(_ m: Machine) -> [Int] { m.zonelist(gfp: .highuserMovable, node: 0, nodemask: [0]) }

    /// 1,000 one-page reclaims from node 0 while the owner's newest 50,000 pages are on
    /// node 1. The plain walk looks at those 50,000 on every call (over 50 million blocks in
    /// all); with the summary a call looks at no more than one 64-block word of them plus
    /// the block it frees (a word is made exact once looked at in full).
    func testBlocksOutsideTheZonesAreNotRescannedByEveryCall() throws {
        let m = try boot()
        let id = try cacheSplitAcrossNodes(m, old: 2000, new: 50_000)
        let zones = node0(m)
        XCTAssertFalse(zones.isEmpty)
        XCTAssertTrue(zones.allSatisfy { m.zones[$0].node == 0 })
        for _ in 0..<1000 { XCTAssertEqual(m.reclaim(pages: 1, zonelist: zones), 1) }
        XCTAssertEqual(m.owners[id]!.pages, 51_000)
        XCTAssertLessThanOrEqual(m.owners.reclaimVisited, 1000 * 65)
        XCTAssertGreaterThanOrEqual(m.owners.reclaimVisited, 1000, "every freed block was looked at")
        // Node 1's pages are all still there.
        XCTAssertEqual(m.owners[id]!.blocks.filter { m.zones[m.zoneIndex(ofPFN: $0)!].node == 1 }.count, 50_000)
        try m.verify()
    }

    /// The same calls without the summary (the reference walk) visit the node 1 run every
    /// time — the shape the summary removes — and end in the same machine.
    func testTheSummaryFreesWhatThePlainWalkFreesInTheSameOrder() throws {
        let a = try boot()
        let b = try boot()
        b.owners.reclaimShortcut = false
        let ida = try cacheSplitAcrossNodes(a, old: 500, new: 5000)
        let idb = try cacheSplitAcrossNodes(b, old: 500, new: 5000)
        for _ in 0..<200 {
            XCTAssertEqual(a.reclaim(pages: 1, zonelist: node0(a)), b.reclaim(pages: 1, zonelist: node0(b)))
        }
        XCTAssertGreaterThanOrEqual(b.owners.reclaimVisited, 200 * 5000)
        XCTAssertLessThanOrEqual(a.owners.reclaimVisited, 200 * 65)
        XCTAssertEqual(a.owners[ida]!.blocks, b.owners[idb]!.blocks)
        XCTAssertEqual(a.zones.map(\.freePages), b.zones.map(\.freePages))
    }

    /// Seeded random allocations, releases and reclaims over three owners on both nodes
    /// (32-page calls, kswapd-style single zones, whole zonelists): after every step the
    /// block lists, in order, and the zones' free pages equal the reference walk's, and
    /// `verify()` checks every summary still covers its owner's blocks.
    func testRandomSequenceMatchesThePlainWalkStepByStep() throws {
        let a = try boot()
        let b = try boot()
        b.owners.reclaimShortcut = false
        var ids: [Int] = []
        for (name, kind) in [("c0", PageKind.pageCache), ("c1", .pageCache), ("slab", .slabReclaimable)] {
            let x = try a.createOwner(name: name, kind: kind)
            XCTAssertEqual(try b.createOwner(name: name, kind: kind), x)
            ids.append(x)
        }
        var rng = SplitMix64(seed: 7)
        let candidates =
            [node0(a), a.zonelist(gfp: .highuserMovable, node: 1, nodemask: [1])] + a.zones.indices.map { [$0] }
        for step in 0..<400 {
            let id = ids[Int(rng.next() % 3)]
            switch rng.next() % 4 {
            case 0, 1:
                let node = Int(rng.next() % 2)
                let n = Int(rng.next() % 3000)
                for m in [a, b] {
                    m.owners.slots[id]!.node = node
                    m.owners.slots[id]!.bound = true
                }
                XCTAssertEqual(a.allocate(owner: id, blocks: n), b.allocate(owner: id, blocks: n))
            case 2:
                let n = Int(rng.next() % 500)
                XCTAssertEqual(a.release(owner: id, blocks: n), b.release(owner: id, blocks: n))
            default:
                let zl = candidates[Int(rng.next() % UInt64(candidates.count))]
                let n = [1, 32, 512, 4096][Int(rng.next() % 4)]
                XCTAssertEqual(a.reclaim(pages: n, zonelist: zl), b.reclaim(pages: n, zonelist: zl))
            }
            for x in ids where a.owners[x]!.blocks != b.owners[x]!.blocks {
                XCTFail("step \(step): owner \(x)'s blocks differ")
                return
            }
            XCTAssertEqual(a.zones.map(\.freePages), b.zones.map(\.freePages), "step \(step)")
            if step % 100 == 99 { try a.verify() }
        }
        XCTAssertGreaterThan(a.owners.reclaimVisited, 0)
        XCTAssertLessThan(a.owners.reclaimVisited, b.owners.reclaimVisited)
        XCTAssertTrue(ids.allSatisfy { a.owners[$0]!.zoneSummary != nil }, "every owner was scanned")
    }
}
