import SystemPackage
import XCTest

@testable import MemoryModel

/// Two nodes as the captures of seed cases 1, 3 and 4 built them: node 0 has a small kernel
/// zone (DMA32) and a large ZONE_MOVABLE, node 1 a Normal zone. Each node's boot memmap
/// (512 pages per present section) is memblock-reserved at the top of its kernel zone.
func hvoMachine(
    dma32: Int = 65536 - 1024, movable: Int = 4 * 32768, node1: Int = 65536,
    hvo: Bool = true
) -> Machine {
    let n0Sections = (1024 + dma32 + movable + 32767) / 32768
    let n1Start = 1024 + dma32 + movable
    let n1Sections = (n1Start + node1 - 1) / 32768 - n1Start / 32768 + 1
    let memmap0 = PFNRange(start: 1024 + dma32 - n0Sections * 512, count: n0Sections * 512)
    let memmap1 = PFNRange(start: n1Start + node1 - n1Sections * 512, count: n1Sections * 512)
    let m = syntheticMachine([[(.dma32, dma32), (.movable, movable)], [(.normal, node1)]], reserved: [memmap0, memmap1])
    m.params.hugetlbFreeVmemmap = hvo
    m.hugetlbInit()
    m.registerBootMemmap(node: 0, range: memmap0)
    m.registerBootMemmap(node: 1, range: memmap1)
    return m
}

extension Machine {
    /// Free pages counted exactly: buddy plus per-cpu lists (the captures' `freepages`).
    var exactFree: Int { totalFreePages + totalPCPPages }
    var h2: HState { hugetlb.hstates[hugetlb.index(ofSizeBytes: 2 << 20)!] }
    /// Fill node `nid`'s kernel zones with a node-bound ramfs filler (the captures' `dd` in a
    /// cpuset) until nothing more fits, then give back `restores` × 7 pages: exactly that many
    /// vmemmap restores succeed. The node's kernel zones run without per-cpu lists here, so
    /// the margin is exact; with them the allocator takes pages in batches of `pcp.batch`
    /// (and the kernel drains them back only after a reclaim pass that made progress), which
    /// quantizes the margin — the captures saw ±30 pages between runs.
    func pressure(node nid: Int, restores: Int) -> Int {
        for t in [ZoneType.dma, .dma32, .normal] {
            let z = zoneIndex(node: nid, type: t)
            drainPCP(zone: z)
            zones[z].pcp.high = 0
            zones[z].pcp.batch = 1
        }
        let id = try! createOwner(
            name: "filler\(nid)-\(owners.slots.count)", kind: .ramfs, node: nid, bound: true,
            gfp: [.highuser, .nowarn])
        allocate(owner: id, blocks: 1 << 30)
        release(owner: id, blocks: 7 * restores)
        return id
    }
}

final class HugeTLBTests: XCTestCase {
    func testBootMessagesAndHstates() throws {
        let m = hvoMachine(hvo: false)
        XCTAssertEqual(m.hugetlb.hstates.map(\.name), ["hugepages-2048kB"])
        XCTAssertTrue(m.kmsg.contains("HugeTLB: registered 2.00 MiB page size, pre-allocated 0 pages"))
        XCTAssertTrue(m.kmsg.contains("HugeTLB: 28 KiB vmemmap can be freed for a 2.00 MiB page"))
        try m.verify()
    }

    func testGrowLandsInMovableAndShrinkReturnsEverything() throws {
        let m = hvoMachine(hvo: false)
        let before = m.exactFree
        m.setMaxHugePages(hstate: 0, count: 100, node: 0)
        XCTAssertEqual(m.h2.nrHugePages, 100)
        XCTAssertEqual(m.h2.maxHugePages, 100)
        XCTAssertEqual(m.zone(node: 0, type: .movable).kindPages[Int(PageKind.hugetlb.rawValue)], 100 * 512)
        XCTAssertEqual(before - m.exactFree, 100 * 512)
        try m.verify()
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual(m.h2.nrHugePages, 0)
        XCTAssertEqual(m.exactFree, before)
        try m.verify()
    }
}

/// d-hvo-savings: 100 × 2 MiB through nr_hugepages and back, HVO off then on, three rounds,
/// on the captures' 1G machine. Returns (hvo, saved pages, MemTotal delta kB, net free change).
func dHVORounds(_ m: Machine, rounds: Int = 3, node: Int? = nil) throws -> [(Bool, Int, Int, Int)] {
    var out: [(Bool, Int, Int, Int)] = []
    for _ in 0..<rounds {
        for hvo in [false, true] {
            try m.setHugetlbOptimizeVmemmap(hvo)
            let p0 = m.exactFree, t0 = m.totalManagedPages
            m.setMaxHugePages(hstate: 0, count: 100, node: node)
            let p1 = m.exactFree, t1 = m.totalManagedPages
            let n = m.h2.nrHugePages
            m.setMaxHugePages(hstate: 0, count: 0)
            let p2 = m.exactFree
            try m.verify()
            out.append((hvo, n * 512 - (p0 - p1), (t1 - t0) * 4, p2 - p0))
        }
    }
    return out
}

final class HVOSavingsTests: XCTestCase {
    func testDHVOSavingsOnBootMemory() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        m.hugetlbInit()
        let r = try dHVORounds(m)
        for x in r { print("d-hvo boot: hvo=\(x.0) saved=\(x.1) memtotal_kB=\(x.2) free_net=\(x.3)") }
        // hvo-savings.kernel.txt (nokaslr): zone free + pcp drops by 51200 − 696, then by
        // 51200 − 700 twice; MemTotal +2800 kB once. 696 = 700 − 4 PMD splits: a kernel run with
        // pageflags dumps put the pool's pages in blocks 0, 1, 2 and 7 (9, 64, 26 and 1 huge
        // pages: MIGRATE_MOVABLE order-9 blocks first, one at the top of block 7, then order-10
        // blocks from the bottom), as the model does.
        XCTAssertEqual(r.map(\.1), [0, 696, 0, 700, 0, 700])
        XCTAssertEqual(r.map(\.2), [0, 2800, 0, 0, 0, 0])
        XCTAssertEqual(r.map(\.3), [0, -4, 0, 0, 0, 0])
        XCTAssertEqual(m.hugetlb.stats.pmdSplits, 4)
        XCTAssertEqual(m.hugetlb.stats.bootmemPagesFreed, 700)
    }
}

/// The seed commit's four failure cases, built as the captures built them: 128 free huge
/// pages in node 0's ZONE_MOVABLE, node 0's kernel zones filled by a node-bound ramfs
/// filler until only `margin` pages remain above min + lowmem_reserve.
final class HVOFailureCaseTests: XCTestCase {
    let movableRange = PFNRange(start: 65536, count: 4 * 32768)

    func poolOf128(hvo: Bool = true) -> Machine {
        let m = hvoMachine(hvo: hvo)
        m.setMaxHugePages(hstate: 0, count: 128, node: 0)
        XCTAssertEqual(m.h2.nrHugePagesNode[0], 128)
        XCTAssertEqual(m.zone(node: 0, type: .movable).kindPages[Int(PageKind.hugetlb.rawValue)], 128 * 512)
        return m
    }

    // Case 1: shrinking under pressure (capture f).
    func testCase1ShrinkLeavesSurplusAndRewriteFreesNothing() throws {
        let m = poolOf128()
        let filler = m.pressure(node: 0, restores: 11)
        m.setMaxHugePages(hstate: 0, count: 64)
        XCTAssertEqual(m.h2.maxHugePages, 64)  // the sysctl reads back the request
        XCTAssertEqual(m.h2.nrHugePages, 117)  // sysfs nr_hugepages, HugePages_Total
        XCTAssertEqual(m.h2.surplusHugePages, 53)  // though nr_overcommit_hugepages is 0
        XCTAssertEqual(m.h2.freeHugePages, 117)
        XCTAssertEqual(m.hugetlbMeminfo().surp, 53)
        XCTAssertTrue(
            m.kmsg.last!.contains(
                "page allocation failure: order:0, mode:0x210cc0(GFP_KERNEL|__GFP_NORETRY|__GFP_THISNODE)"))
        XCTAssertTrue(
            m.explain.entries.contains { $0.message.contains("needs 7 pages on node 0; node 0 kernel zones have") })
        try m.verify()
        m.release(owner: filler, blocks: 14 * 7)
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [0, 103, 103])
        m.destroyOwner(filler)  // pressure gone: "try again later"
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [0, 103, 103])
        m.setMaxHugePages(hstate: 0, count: 1)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [1, 103, 102])
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [0, 102, 102])
        m.setMaxHugePages(hstate: 0, count: 103)
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [0, 0, 0])
        try m.verify()
    }

    /// Issue 11's fuzz finding (seed 1, op 5,225: "surplus 1572 of 1545"), by hand. Shrinking
    /// under pressure leaves free surplus pages (case 1); once memory is back, offlining a
    /// block dissolves the ones in it, and 6.1.192's `dissolve_free_huge_page` takes each out
    /// with `remove_hugetlb_page(h, head, false)`: nr_huge_pages falls, surplus_huge_pages
    /// does not, and `max_huge_pages` (unsigned long) goes below zero. `persistent_huge_pages()`
    /// = nr - surplus wraps too, so the next `nr_hugepages` write (any value) finds the pool
    /// "too large": it frees every free page (again without adjusting surplus) and can turn
    /// none surplus; from then on no write grows the pool. Hand-checked: 11 of 128 restores
    /// succeed, so 117 pages stay surplus; dissolving the k in one block leaves 117 - k
    /// pages, surplus 117, max 0 - k; the write then leaves 0 pages, surplus 117, max 2^64 - 117.
    func testDissolvingFreeSurplusPagesKeepsTheirSurplusCountAsSixOneDoes() throws {
        let m = poolOf128()
        let filler = m.pressure(node: 0, restores: 11)
        m.setMaxHugePages(hstate: 0, count: 0)
        XCTAssertEqual(
            [m.h2.maxHugePages, m.h2.nrHugePages, m.h2.freeHugePages, m.h2.surplusHugePages], [0, 117, 117, 117])
        m.destroyOwner(filler)
        let block = PFNRange(start: movableRange.start, count: 32768)
        let k = m.h2.freeLists[0].filter { block.contains(Int($0)) }.count
        XCTAssertGreaterThan(k, 0)
        XCTAssertLessThan(k, 117)
        try m.dissolveFreeHugePages(block)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.surplusHugePages], [117 - k, 117 - k, 117])
        XCTAssertEqual(m.h2.maxHugePagesULong, UInt64.max - UInt64(k - 1))
        XCTAssertEqual(m.hugetlbMeminfo().total, 117 - k)
        XCTAssertEqual(m.hugetlbMeminfo().surp, 117)
        XCTAssertTrue(m.hugetlbNodeMeminfoLines(node: 0).contains("Node 0 HugePages_Surp:    117"))
        try m.verify()
        // count 10 < persistent (2^64 - k): every free page is freed, none can turn surplus.
        m.setMaxHugePages(hstate: 0, count: 10)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.surplusHugePages], [0, 0, 117])
        XCTAssertEqual(m.h2.maxHugePagesULong, UInt64.max - 116)
        XCTAssertEqual(m.h2.persistentHugePages, UInt64.max - 116)
        try m.verify()
        // Growing: count 10 > persistent (2^64 - 117) is false, nothing is allocated.
        m.setMaxHugePages(hstate: 0, count: 10)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.surplusHugePages], [0, 0, 117])
        // Overcommit is refused too: surplus 117 >= nr_overcommit_hugepages.
        try m.setOvercommitHugePages(hstate: 0, 117)
        XCTAssertThrowsError(try m.mmapHugePages(name: "app", count: 1))
        try m.verify()
    }

    /// verify() allows a node only as much surplus beyond its pages as 6.1's own removals
    /// left there: one more is a model bug and is caught.
    func testVerifyStillCatchesSurplusBeyondSixOnesOwnOvercount() throws {
        let m = poolOf128()
        m.hugetlb.hstates[0].surplusHugePagesNode[0] = 128
        m.hugetlb.hstates[0].surplusHugePages = 128
        try m.verify()
        m.hugetlb.hstates[0].surplusHugePagesNode[0] = 129
        m.hugetlb.hstates[0].surplusHugePages = 129
        XCTAssertThrowsError(try m.verify()) { e in
            XCTAssertTrue("\(e)".contains("surplus 129 of 128"), "\(e)")
        }
    }

    func testCase1WithHVOOffShrinksFully() throws {
        let m = poolOf128(hvo: false)
        _ = m.pressure(node: 0, restores: 0)
        m.setMaxHugePages(hstate: 0, count: 64)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [64, 64, 0])
        try m.verify()
    }

    // Case 2: a surplus page freed by its last user whose restore fails.
    func testCase2SurplusFreedByUserStaysFreeSurplus() throws {
        let m = hvoMachine()
        try m.setOvercommitHugePages(hstate: 0, 4)
        let map = try m.mmapHugePages(name: "app", count: 4)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.resvHugePages, m.h2.surplusHugePages], [4, 4, 4, 4])
        try m.faultHugePages(mapping: map)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.resvHugePages, m.h2.surplusHugePages], [4, 0, 0, 4])
        let filler = m.pressure(node: 0, restores: 1)
        m.munmapHugePages(mapping: map)
        // One page went back to the buddy allocator; three stay as free surplus pages.
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.resvHugePages, m.h2.surplusHugePages], [3, 3, 0, 3])
        XCTAssertEqual(m.h2.maxHugePages, 0)
        try m.verify()
        // "Try again later": a reservation released later frees them when memory is back.
        m.destroyOwner(filler)
        let again = try m.mmapHugePages(name: "app2", count: 3)
        m.munmapHugePages(mapping: again)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.surplusHugePages], [0, 0])
        try m.verify()
    }

    // A fault range past the mapping is refused whole with EINVAL (it used to trap on the
    // page index); nothing is faulted and the reservations stay.
    func testFaultRangePastMappingIsEINVAL() throws {
        let m = hvoMachine()
        try m.setOvercommitHugePages(hstate: 0, 4)
        let map = try m.mmapHugePages(name: "app", count: 2)
        XCTAssertThrowsError(try m.faultHugePages(mapping: map, range: 1..<3)) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .invalidArgument)
        }
        XCTAssertEqual([m.h2.freeHugePages, m.h2.resvHugePages], [2, 2])
        XCTAssertEqual(try m.faultHugePages(mapping: map, range: 0..<2), 2)
        XCTAssertEqual([m.h2.freeHugePages, m.h2.resvHugePages], [0, 0])
        try m.verify()
    }

    // Case 3: offline dissolving free huge pages (capture e): ENOMEM after 10 pages.
    func testCase3DissolveFailsWithENOMEMAfterTenPages() throws {
        let m = poolOf128()
        _ = m.pressure(node: 0, restores: 10)
        XCTAssertThrowsError(try m.dissolveFreeHugePages(movableRange)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .noMemory)
            XCTAssertTrue((e as? KernelError)?.reason.contains("needs 7 pages on node 0") ?? false)
        }
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages, m.h2.surplusHugePages], [118, 118, 0])
        try m.verify()
    }

    func testCase3WithHVOOffDissolvesEverything() throws {
        let m = poolOf128(hvo: false)
        _ = m.pressure(node: 0, restores: 0)
        try m.dissolveFreeHugePages(movableRange)
        XCTAssertEqual([m.h2.maxHugePages, m.h2.nrHugePages], [0, 0])
        try m.verify()
    }

    func testCase3ReservedFreePagesAreBusy() throws {
        let m = poolOf128(hvo: false)
        _ = try m.mmapHugePages(name: "db", count: 128)
        XCTAssertThrowsError(try m.dissolveFreeHugePages(movableRange)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .resourceBusy)
        }
        XCTAssertEqual(m.h2.nrHugePages, 128)
        try m.verify()
    }

    // Case 4: alloc_contig_range over free huge pages (capture v2).
    /// The memory block holding the lowest free huge page: boot frees queue at the tail
    /// (lowest pfn at the head), so the pool starts at the bottom of ZONE_MOVABLE.
    func poolBlock(_ m: Machine) -> PFNRange {
        let lowest = m.h2.freeLists[0].map { Int($0) }.min()!
        XCTAssertTrue(movableRange.contains(lowest))
        return PFNRange(start: roundDown(lowest, 32768), count: 32768)
    }

    func testCase4ReplacementBalancesTheRestore() throws {
        let m = hvoMachine()
        m.setMaxHugePages(hstate: 0, count: 60, node: 0)
        let block = poolBlock(m)
        _ = m.pressure(node: 0, restores: 0)
        try m.allocContigRange(block, kind: .kernel)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.freeHugePages, m.h2.surplusHugePages], [60, 60, 0])
        XCTAssertFalse(block.contains(m.h2.freeLists[0].map { Int($0) }.min()!))
        try m.verify()
    }

    func testCase4FailedRestoreLeavesSurplusAndEBUSY() throws {
        let m = hvoMachine()
        m.setMaxHugePages(hstate: 0, count: 60, node: 0)
        let block = poolBlock(m)
        let inBlock = m.h2.freeLists[0].filter { block.contains(Int($0)) }.count
        try m.setHugetlbOptimizeVmemmap(false)  // replacements give nothing back
        _ = m.pressure(node: 0, restores: 0)
        XCTAssertThrowsError(try m.allocContigRange(block)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .resourceBusy)
        }
        XCTAssertEqual(m.h2.nrHugePages, 60 + inBlock)
        XCTAssertEqual(m.h2.surplusHugePages, inBlock)
        XCTAssertEqual(m.h2.maxHugePages, 60)
        try m.verify()
    }

    func testCase4WithHVOOffSucceeds() throws {
        let m = hvoMachine(hvo: false)
        m.setMaxHugePages(hstate: 0, count: 60, node: 0)
        let block = poolBlock(m)
        _ = m.pressure(node: 0, restores: 0)
        try m.allocContigRange(block)
        XCTAssertEqual([m.h2.nrHugePages, m.h2.surplusHugePages], [60, 0])
        m.freeContigRange(block)
        try m.verify()
    }
}

final class HugeTLBRandomTests: XCTestCase {
    /// Resizing, HVO toggling, consumers, kernel allocations (pressure), dissolving and
    /// contiguous allocations in a random order; every invariant holds after every step.
    func testRandomSequenceKeepsInvariants() throws {
        let m = hvoMachine()
        var rng = SplitMix64(seed: 42)
        var maps: [Int] = []
        var contig: [PFNRange] = []
        let kernel = try m.createOwner(name: "kmem", kind: .kernel, node: 0, gfp: [.kernel, .nowarn])
        let anon = try m.createOwner(name: "anon", kind: .anon, node: 1)
        try m.setOvercommitHugePages(hstate: 0, 8)
        var counts = [Int](repeating: 0, count: 10)
        for step in 0..<150 {
            let op = Int(rng.next() % 10)
            counts[op] += 1
            switch op {
            case 0, 1:
                let node: Int? = rng.next() % 3 == 0 ? Int(rng.next() % 2) : nil
                m.setMaxHugePages(hstate: 0, count: rng.next() % 200, node: node)
            case 2:
                try m.setHugetlbOptimizeVmemmap(rng.next() % 2 == 0)
            case 3:
                if let id = try? m.mmapHugePages(
                    name: "app\(step)", count: 1 + Int(rng.next() % 12), shared: rng.next() % 2 == 0,
                    noreserve: rng.next() % 4 == 0, node: Int(rng.next() % 2))
                {
                    maps.append(id)
                    _ = try? m.faultHugePages(mapping: id)
                }
            case 4:
                if !maps.isEmpty { m.munmapHugePages(mapping: maps.remove(at: Int(rng.next() % UInt64(maps.count)))) }
            case 5:
                if rng.next() % 2 == 0 {
                    m.allocate(owner: kernel, blocks: Int(rng.next() % 20000))
                } else {
                    m.release(owner: kernel, blocks: Int(rng.next() % 20000))
                }
            case 6:
                m.allocate(owner: anon, blocks: Int(rng.next() % 5000))
                m.release(owner: anon, blocks: Int(rng.next() % 5000))
            case 7:
                let block = 2 + Int(rng.next() % 4)
                _ = try? m.dissolveFreeHugePages(PFNRange(start: block * 32768, count: 32768))
            case 8:
                if contig.count < 3 {
                    let start = 65536 + Int(rng.next() % 256) * 512
                    let r = PFNRange(start: start, count: 512 * (1 + Int(rng.next() % 8)))
                    if (try? m.allocContigRange(r)) != nil { contig.append(r) }
                } else {
                    m.freeContigRange(contig.removeFirst())
                }
            default:
                // An in-use page moves away, as offlining would ask.
                if let head = m.hugetlb.mapped.keys.sorted().first {
                    _ = m.migrateHugePage(at: head, avoidingNode: m.nodeOf(head))
                }
            }
            do { try m.verify() } catch { XCTFail("step \(step) op \(op): \(error)"); return }
        }
        for id in maps { m.munmapHugePages(mapping: id) }
        m.destroyOwner(kernel)
        for r in contig { m.freeContigRange(r) }
        m.setMaxHugePages(hstate: 0, count: 0)
        try m.verify()
        XCTAssertEqual(m.h2.resvHugePages, 0)
        print("random ops", counts, m.hugetlb.stats)
    }
}

final class HVOHotplugTests: XCTestCase {
    func bootWithDIMM(memmapOnMemory: Bool = false, blocks: Int = 4) throws -> Machine {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        m.hugetlbInit()
        m.params.memmapOnMemory = memmapOnMemory
        for b in 0..<blocks {
            try m.addMemory(
                node: 0, startBytes: (4 << 30) + b * (128 << 20), sizeBytes: 128 << 20, memmapOnMemory: memmapOnMemory)
            try m.storeState(block: 32 + b, .onlineMovable)
        }
        return m
    }

    /// d-hvo's second half: a 512M DIMM onlined movable; its memmap came from the buddy
    /// allocator, so MemTotal never moves.
    func testDHVOSavingsOnMovableDIMM() throws {
        let m = try bootWithDIMM()
        let r = try dHVORounds(m, rounds: 2)
        for x in r { print("d-hvo dimm: hvo=\(x.0) saved=\(x.1) memtotal_kB=\(x.2) free_net=\(x.3)") }
        XCTAssertEqual(r.map(\.1), [0, 698, 0, 700])
        XCTAssertEqual(r.map(\.2), [0, 0, 0, 0])
    }

    /// Capture g: hugepages on memmap_on_memory blocks save nothing.
    func testMemmapOnMemoryIsNeverOptimized() throws {
        let m = try bootWithDIMM(memmapOnMemory: true, blocks: 1)
        try m.setHugetlbOptimizeVmemmap(true)
        let p0 = m.exactFree
        m.setMaxHugePages(hstate: 0, count: 32)
        XCTAssertEqual(p0 - m.exactFree, 32 * 512)
        XCTAssertEqual(m.hugetlb.stats.optimized, 0)
        try m.verify()
    }

    /// Seed case 3 end to end: offlining a Movable block whose free huge pages need their
    /// vmemmap back from a node whose kernel zones are full.
    func testCase3ThroughOffline() throws {
        let m = try bootWithDIMM()
        try m.setHugetlbOptimizeVmemmap(true)
        m.setMaxHugePages(hstate: 0, count: 128)
        // Onlined pages go to the tail of the free lists: block 32 fills first, as in capture e.
        let perBlock = (32...35).map { b in m.h2.freeLists[0].filter { Int($0) / 32768 == b }.count }
        print("case3 pages per block 32-35:", perBlock)
        XCTAssertEqual(perBlock[1], 64)
        _ = m.pressure(node: 0, restores: 10)
        XCTAssertThrowsError(try m.storeState(block: 33, .offline)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .noMemory)
        }
        XCTAssertEqual(m.blocks[33]?.state, .online)
        XCTAssertEqual(m.blocks[33]?.zone, .movable)
        XCTAssertEqual(m.h2.nrHugePages, 118)
        XCTAssertEqual(m.h2.maxHugePages, 118)
        XCTAssertTrue(m.kmsg.contains { $0.contains("mode:0x210cc0(GFP_KERNEL|__GFP_NORETRY|__GFP_THISNODE)") })
        try m.verify()
    }

    /// In-use huge pages in an offlined block migrate away (to a free pool page or a fresh one).
    func testOfflineMigratesInUseHugePages() throws {
        let m = try bootWithDIMM()
        m.setMaxHugePages(hstate: 0, count: 40)
        let id = try m.mmapHugePages(name: "app", count: 40)
        try m.faultHugePages(mapping: id)
        m.setMaxHugePages(hstate: 0, count: 80)
        let block = m.hugetlb.mappings[id]!.pages.map { Int($0) / 32768 }.max()!
        try m.storeState(block: block, .offline)
        XCTAssertEqual(m.blocks[block]?.state, .offline)
        XCTAssertFalse(m.hugetlb.mappings[id]!.pages.contains { Int($0) / 32768 == block })
        try m.verify()
    }
}

final class HVOProfileTests: XCTestCase {
    func testLinux514KeepsTwoPagesAndHasNoSysctl() throws {
        let m = hvoMachine(hvo: true)
        try m.setVmemmapProfile(.linux514)
        XCTAssertFalse(m.hugetlb.anyOptimizable)
        let p0 = m.exactFree
        m.setMaxHugePages(hstate: 0, count: 64, node: 0)
        // 6 pages per 2 MiB page, minus the PMD splits of the sections touched.
        XCTAssertEqual(64 * 512 - (p0 - m.exactFree), 64 * 6 - m.hugetlb.stats.pmdSplits)
        XCTAssertEqual(m.vmemmapFreeablePages(m.h2), 6)
        m.setMaxHugePages(hstate: 0, count: 0)
        try m.verify()
    }

    func testBootTimePoolWithHVO() throws {
        var c = MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4)
        c.cmdline = "hugetlb_free_vmemmap=on hugepages=64"
        let m = try Machine.boot(c)
        m.hugetlbInit()
        XCTAssertEqual(m.h2.nrHugePages, 64)
        XCTAssertEqual(m.h2.maxHugePages, 64)
        XCTAssertTrue(m.hugetlb.optimizeVmemmap)
        XCTAssertEqual(m.hugetlb.stats.vmemmapPagesFreed, 448)  // capture h: 448 = 7 × 64
        XCTAssertTrue(m.kmsg.contains("HugeTLB: registered 2.00 MiB page size, pre-allocated 64 pages"))
        try m.verify()
    }
}

/// Gigantic (1 GiB) pages and memory blocks: gigantic_pages_init registers the hstate when the
/// CPU has gbpages; offline of the first or a middle block of a free 1 GiB page fails isolation
/// (isolate_single_pageblock cannot migrate or replace a gigantic page across the range's
/// edge), the last block's offline dissolves it (gigantic-pages fixture: memory8 and memory12
/// EBUSY, memory15 offlined).
final class GiganticPageTests: XCTestCase {
    func testGbpagesRegistersTheGiganticHstateFirst() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 3 << 30, maxmemBytes: 6 << 30, slots: 2, gbpages: true))
        m.hugetlbInit()
        XCTAssertEqual(m.hugetlb.hstates.map(\.order), [18, 9])
        let lines = m.kmsg.filter { $0.hasPrefix("HugeTLB:") }
        XCTAssertEqual(
            lines,
            [
                "HugeTLB: registered 1.00 GiB page size, pre-allocated 0 pages",
                "HugeTLB: 16380 KiB vmemmap can be freed for a 1.00 GiB page",
                "HugeTLB: registered 2.00 MiB page size, pre-allocated 0 pages",
                "HugeTLB: 28 KiB vmemmap can be freed for a 2.00 MiB page"
            ])
        // Without gbpages there is no 1 GiB hstate.
        let plain = try Machine.boot(MachineConfig(memBytes: 3 << 30, maxmemBytes: 6 << 30, slots: 2))
        plain.hugetlbInit()
        XCTAssertEqual(plain.hugetlb.hstates.map(\.order), [9])
    }

    func testOfflineOfAGiganticPagesBlocks() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 3 << 30, maxmemBytes: 8 << 30, slots: 2, gbpages: true))
        m.hugetlbInit()
        _ = try m.hotAddDIMM(id: "d", sizeBytes: 1 << 30)
        for b in 32..<40 { try m.storeState(block: b, .onlineKernel) }
        let gi = m.hugetlb.index(ofSizeBytes: 1 << 30)!
        m.setMaxHugePages(hstate: gi, count: 1)
        let head = (0..<m.memmap.pfnCount).lazy.first { m.memmap.kind($0) == .hugetlb && m.memmap.order($0) == 18 }
        guard let head else { return XCTFail("no gigantic page was allocated") }
        let first = head / m.blockPages
        XCTAssertEqual(head % (1 << 18), 0)
        for b in [first, first + 4] {
            XCTAssertThrowsError(try m.storeState(block: b, .offline)) { e in
                XCTAssertEqual((e as? KernelError)?.errno, .resourceBusy)
            }
            XCTAssertEqual(m.blocks[b]?.state, .online)
            XCTAssertTrue(m.explain.last!.message.contains("gigantic"), m.explain.last!.message)
        }
        XCTAssertEqual(m.hugetlb.hstates[gi].nrHugePages, 1)
        try m.storeState(block: first + 7, .offline)
        XCTAssertEqual(m.hugetlb.hstates[gi].nrHugePages, 0)
        XCTAssertEqual(m.hugetlb.hstates[gi].maxHugePages, 0)
        XCTAssertEqual(m.memmap.kind(head), .buddy)
        try m.storeState(block: first, .offline)
        try m.verify()
    }
}
