import XCTest

@testable import MemoryModel

/// A small machine without the QEMU layout (see `Machine.synthetic`).
func syntheticMachine(_ layout: [[(ZoneType, Int)]], reserved: [PFNRange] = [], seed: UInt64 = 1) -> Machine {
    Machine.synthetic(layout, reserved: reserved, seed: seed)
}

final class AllocatorTests: XCTestCase {
    func testBootFreesEverythingNotReserved() throws {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 65536)]], reserved: [PFNRange(start: 2048, count: 100)])
        try m.verify()
        let dma32 = m.zone(node: 0, type: .dma32)
        XCTAssertEqual(dma32.presentPages, 65536)
        XCTAssertEqual(dma32.managedPages, 65536 - 100)
        XCTAssertEqual(dma32.freePages, 65536 - 100)
        XCTAssertEqual(m.zone(node: 0, type: .normal).freePages, 65536)
    }

    func testOrderZeroAllocFreeRoundTripRestoresFreeCount() throws {
        let m = syntheticMachine([[(.normal, 32768)]])
        let before = m.totalFreePages + m.totalPCPPages
        var pfns: [PFN] = []
        for _ in 0..<1000 { pfns.append(m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel)!) }
        XCTAssertEqual(Set(pfns).count, 1000, "a page was handed out twice")
        XCTAssertEqual(m.totalFreePages + m.totalPCPPages, before - 1000)
        try m.verify()
        for p in pfns { m.freePages(p, order: 0) }
        XCTAssertEqual(m.totalFreePages + m.totalPCPPages, before)
        m.drainAllPCP()
        try m.verify()
        // Everything merged back: the zone is whole order-10 blocks again.
        XCTAssertEqual(m.zone(node: 0, type: .normal).freeBlocks(order: 10), 32)
    }

    func testGFPKernelNeverUsesMovableZone() throws {
        let m = syntheticMachine([[(.normal, 4096), (.movable, 65536)]])
        var got = 0
        while let pfn = m.allocPages(order: 0, gfp: [.kernel, .nowarn, .noretry], node: 0, kind: .kernel) {
            XCTAssertEqual(m.zoneIndex(ofPFN: pfn), m.zoneIndex(node: 0, type: .normal))
            got += 1
        }
        // It stops at the min watermark of ZONE_NORMAL, well before taking every page.
        let normal = m.zone(node: 0, type: .normal)
        XCTAssertLessThan(got, 4096)
        XCTAssertLessThanOrEqual(
            normal.freePages, normal.watermark.min + normal.lowmemReserve[ZoneType.normal.rawValue] + 1)
        try m.verify()
        // Movable allocations go to ZONE_MOVABLE first.
        let p = m.allocPages(order: 0, gfp: .highuserMovable, node: 0, kind: .anon)!
        XCTAssertEqual(m.zoneIndex(ofPFN: p), m.zoneIndex(node: 0, type: .movable))
    }

    func testThisNodeStaysOnNode() throws {
        let m = syntheticMachine([[(.normal, 8192)], [(.normal, 65536)]])
        while m.allocPages(order: 0, gfp: [.kernel, .thisnode, .noretry, .nowarn], node: 0, kind: .kernel) != nil {}
        XCTAssertEqual(m.zone(node: 1, type: .normal).freePages + m.zone(node: 1, type: .normal).pcp.count, 65536)
        // Without THISNODE the allocation falls back to node 1.
        let p = m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel)!
        XCTAssertEqual(m.zones[m.zoneIndex(ofPFN: p)!].node, 1)
        try m.verify()
    }

    func testUnmovableAllocationStealsAPageblock() throws {
        let m = syntheticMachine([[(.normal, 32768)]])
        let p = m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel)!
        XCTAssertEqual(m.pageblockMigrateType(p), .unmovable)
        try m.verify()
    }

    func testReclaimFreesCleanPageCacheForKernelAllocations() throws {
        let m = syntheticMachine([[(.normal, 16384)]])
        let cache = try m.createOwner(name: "cache", kind: .pageCache)
        let n = m.allocate(owner: cache, blocks: 14000)
        XCTAssertGreaterThan(n, 10000)
        // Kernel allocations below the watermark reclaim page cache rather than fail.
        let slab = try m.createOwner(name: "slab", kind: .slabUnreclaimable)
        XCTAssertEqual(m.allocate(owner: slab, blocks: 3000), 3000)
        XCTAssertGreaterThan(m.vmstat.pgstealDirect + m.vmstat.pgstealKswapd, 0)
        XCTAssertEqual(m.owners[cache]!.pages + 3000 + m.totalFreePages + m.totalPCPPages, 16384)
        try m.verify()
    }

    func testOOMKillsTheLargestProcess() throws {
        let m = syntheticMachine([[(.normal, 16384)]])
        let small = try m.createOwner(name: "small", kind: .anon)
        let big = try m.createOwner(name: "big", kind: .anon)
        m.allocate(owner: small, blocks: 100)
        m.allocate(owner: big, blocks: 12000)
        let slab = try m.createOwner(name: "slab", kind: .slabUnreclaimable)
        XCTAssertEqual(m.allocate(owner: slab, blocks: 5000), 5000)
        XCTAssertEqual(m.vmstat.oomKill, 1)
        XCTAssertNil(m.owners[big])
        XCTAssertNotNil(m.owners[small])
        try m.verify()
    }

    func testRandomAllocFreeKeepsInvariants() throws {
        let m = syntheticMachine(
            [
                [(.dma, 3072), (.dma32, 20480), (.normal, 30720), (.movable, 20480)],
                [(.normal, 16384), (.movable, 8192)]
            ], seed: 42)
        var rng = SplitMix64(seed: 7)
        let kinds: [PageKind] = [
            .anon, .pageCache, .shmem, .ramfs, .slabReclaimable, .slabUnreclaimable, .pageTable, .kernelStack, .pinned
        ]
        var ids: [Int] = []
        for (i, k) in kinds.enumerated() {
            for node in 0..<2 {
                ids.append(
                    try m.createOwner(
                        name: "\(k)-\(node)-\(i)", kind: k, node: node, bound: node == 1 && i % 2 == 0, order: i % 4))
            }
        }
        for _ in 0..<250 {
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            guard m.owners[id] != nil else { continue }
            if rng.next() % 3 == 0 {
                m.release(owner: id, blocks: Int(rng.next() % 200))
            } else {
                m.allocate(owner: id, blocks: Int(rng.next() % 300))
            }
            try m.verify()
        }
        try m.verify()
        m.drainAllPCP()
        try m.verify()
        // Nothing lost: every managed page is free or held by an owner.
        let held = m.owners.all.reduce(0) { $0 + $1.pages }
        XCTAssertEqual(held + m.totalFreePages, m.totalManagedPages)
    }
}
