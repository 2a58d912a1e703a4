import KernelFS
import XCTest

@testable import MemoryModel
@testable import Snapshot

/// What-ifs on a snapshot of the model's 1 GiB machine with a cold-plugged, offline 512 MiB DIMM.
final class WhatIfTests: XCTestCase {
    func snapshot() throws -> (HostSnapshot, PageCensus?) {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimms: [DIMMConfig(id: "d1", sizeBytes: 512 << 20)]))
        if let d = m.layout?.dimms.first(where: { $0.accepted }), m.blocks[d.start / (m.blockPages << 12)] == nil {
            try m.acpiColdPlugDIMMs()
        }
        let anon = try m.createOwner(name: "t:anon", kind: .anon)
        m.allocate(owner: anon, blocks: 20_000)
        let root = try ModelFakeRoot.make(KernelFS(machine: m))
        defer { ModelFakeRoot.remove(root) }
        return SnapshotCapture(root: HostRoot(root)).capture()
    }

    func testOnlineMovableThenPoolThenHVO() throws {
        var (s, c) = try snapshot()
        var a = Assumptions()
        let dimmBlock = try XCTUnwrap(s.blocks.first { $0.state == "offline" }?.id)
        XCTAssertEqual(
            OfflinePredictor(snapshot: s, census: c).predictAll().first { $0.block == dimmBlock }?.reason,
            "already offline")
        // Onlined movable, the block is all free: offline succeeds with nothing to migrate.
        try WhatIf.onlineMovable(dimmBlock).apply(&s, &c, &a)
        var p = try XCTUnwrap(
            OfflinePredictor(snapshot: s, census: c, assumptions: a).predictAll().first { $0.block == dimmBlock })
        XCTAssertEqual(p.outcome, .success)
        XCTAssertEqual(p.zone, "Movable")
        XCTAssertEqual(p.detail, "nothing to migrate")
        // Ten 2 MiB pages: placed in ZONE_MOVABLE first (htlb_alloc_mask is movable), i.e. that block.
        let freeBefore = c!.counts(0, c!.endPFN)[.hugetlbFree] ?? 0
        XCTAssertNil(try WhatIf.pool(10).apply(&s, &c, &a))
        XCTAssertEqual((c!.counts(0, c!.endPFN)[.hugetlbFree] ?? 0) - freeBefore, 10)
        XCTAssertEqual(s.hugePool(sizeKB: 2048)?.free, 10)
        p = try XCTUnwrap(
            OfflinePredictor(snapshot: s, census: c, assumptions: a).predictAll().first { $0.block == dimmBlock })
        XCTAssertEqual(p.hugeDissolve, 10)
        XCTAssertEqual(p.vmemmapNeeded, 0)
        // With HVO each needs its 7 freed vmemmap pages back (8 - 1 kept in 6.1).
        try WhatIf.hvo(true).apply(&s, &c, &a)
        p = try XCTUnwrap(
            OfflinePredictor(snapshot: s, census: c, assumptions: a).predictAll().first { $0.block == dimmBlock })
        XCTAssertEqual(p.vmemmapNeeded, 70)
        XCTAssertEqual(p.outcome, .success)
        // An online block cannot be onlined again.
        XCTAssertThrowsError(try WhatIf.onlineMovable(dimmBlock).apply(&s, &c, &a))
    }

    func testPinnedAssumptionMakesABlockSpin() throws {
        var (s, c) = try snapshot()
        var a = Assumptions()
        // The model's per-cpu free pages look like unmapped kernel memory; count them free here.
        try a.apply("flagless=free")
        let dimmBlock = try XCTUnwrap(s.blocks.first { $0.state == "offline" }?.id)
        try WhatIf.onlineMovable(dimmBlock).apply(&s, &c, &a)
        // Anonymous pages assumed pinned in an otherwise offlinable Normal/DMA32 block.
        let ps = OfflinePredictor(snapshot: s, census: c, assumptions: a).predictAll()
        let victim = try XCTUnwrap(
            ps.first(where: { $0.outcome == .success && $0.migrate > 0 }), "no block with pages to migrate")
        var anonStart: Int?
        c!.forEachRun(victim.startPFN, victim.startPFN + victim.pages) { s, _, k in
            if anonStart == nil && k.isLRU { anonStart = s }
        }
        try a.apply("pinned=0x\(String(anonStart!, radix: 16))-0x\(String(anonStart! + 1, radix: 16))")
        let p = try XCTUnwrap(
            OfflinePredictor(snapshot: s, census: c, assumptions: a).predictAll().first { $0.block == victim.block })
        XCTAssertEqual(p.outcome, .spins)
        XCTAssertEqual(p.reason, "signal backoff")
        XCTAssertEqual(p.pfn, anonStart)
    }
}
