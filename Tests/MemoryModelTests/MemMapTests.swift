import XCTest

@testable import MemoryModel

/// The sparse memmap against a plain array of entries: every read the model makes must see
/// what a dense memmap would show, whatever mix of writes, fills and folds came before.
final class MemMapTests: XCTestCase {
    struct Ref { var kind: UInt8 = 0, order: UInt8 = 0, owner: UInt16 = 0, link: UInt32 = 0 }

    func testRandomWritesAndFillsMatchADenseReference() {
        let pfns = 8 * MemMap.chunkPages + 300
        let m = MemMap(pfnCount: pfns)
        var ref = [Ref](repeating: Ref(), count: pfns)
        var rng = SplitMix64(seed: 42)
        func r(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        let kinds = PageKind.allCases
        for step in 0..<20_000 {
            let pfn = r(pfns)
            switch r(6) {
            case 0:
                let k = kinds[r(kinds.count)]
                m.setKind(pfn, k); ref[pfn].kind = k.rawValue
            case 1:
                let o = r(3) == 0 ? r(11) : 0
                m.setOrder(pfn, o); ref[pfn].order = UInt8(o)
            case 2:
                let o = r(2) == 0 ? r(500) : 0
                m.setOwner(pfn, o); ref[pfn].owner = UInt16(o)
            case 3:
                let l = r(2) == 0 ? r(100_000) : 0
                m.setLink(pfn, l); ref[pfn].link = UInt32(l)
            case 4:
                // Fills, often whole chunks (which fold), sometimes ragged.
                let start = r(3) == 0 ? pfn : pfn & ~(MemMap.chunkPages - 1)
                let count = r(3) == 0 ? r(3000) : MemMap.chunkPages * (1 + r(3))
                let range = PFNRange(start: start, count: Swift.min(count, pfns - start))
                let k = kinds[r(kinds.count)]
                m.fill(range, kind: k)
                for p in range.start..<range.end {
                    ref[p].kind = k.rawValue; ref[p].order = 0; ref[p].owner = 0
                    // fill leaves links; a fold drops those of non-first pages (only heads' links mean anything)
                    if p & (MemMap.chunkPages - 1) != 0 && range.start <= (p & ~(MemMap.chunkPages - 1)) + 1
                        && range.end >= (p & ~(MemMap.chunkPages - 1)) + MemMap.chunkPages
                    {
                        ref[p].link = 0
                    }
                }
            default:
                // A free order-10 block rebuilt: head `.buddy`, tails `.buddyTail`, then the fold.
                let head = pfn & ~(MemMap.chunkPages - 1)
                guard head + MemMap.chunkPages <= pfns else { continue }
                m.fill(PFNRange(start: head + 1, count: MemMap.chunkPages - 1), kind: .buddyTail)
                m.setKind(head, .buddy); m.setOrder(head, 10); m.setOwner(head, 2); m.setLink(head, 7)
                m.foldFreeBlock(head)
                for p in head..<head + MemMap.chunkPages { ref[p] = Ref(kind: PageKind.buddyTail.rawValue) }
                ref[head] = Ref(kind: PageKind.buddy.rawValue, order: 10, owner: 2, link: 7)
            }
            if step % 500 == 0 || step == 19_999 {
                for p in 0..<pfns {
                    guard m.kind(p).rawValue == ref[p].kind, m.order(p) == Int(ref[p].order),
                        m.owner(p) == Int(ref[p].owner),
                        m.link(p) == Int(ref[p].link)
                    else {
                        return XCTFail(
                            "step \(step): pfn \(p) reads (\(m.kind(p)), \(m.order(p)), \(m.owner(p)), \(m.link(p))), expected \(ref[p])"
                        )
                    }
                }
            }
        }
        XCTAssertGreaterThan(m.denseChunks, 0)
    }

    /// A booted machine's free memory is summarized: only the chunks around reservations and
    /// the kernel's boot allocations hold per-page entries.
    func testBootLeavesFreeMemorySummarized() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 64 << 30, maxmemBytes: 64 << 30, slots: 0))
        XCTAssertLessThan(
            m.memmap.denseChunks * 20, m.memmap.totalChunks, "dense \(m.memmap.denseChunks) of \(m.memmap.totalChunks)")
        try m.verify()
    }

    /// Offline folds the block back: a 128 MiB block (32 chunks) full of anonymous memory is
    /// dense while online and summarized once offline.
    func testOfflineFoldsTheBlock() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 2 << 30, maxmemBytes: 16 << 30, slots: 4))
        let id = try m.hotAddDIMM(id: "d", sizeBytes: 128 << 20)[0]
        try m.storeState(block: id, .onlineMovable)
        let o = try m.createOwner(name: "a", kind: .anon)
        m.allocate(owner: o, blocks: 20_000)
        let r = m.blocks[id]!.range
        let chunks = (r.start >> MemMap.chunkShift)..<(r.end >> MemMap.chunkShift)
        XCTAssertGreaterThan(chunks.filter { m.memmap.dense[$0] != 0 }.count, 0)
        try m.storeState(block: id, .offline)
        XCTAssertEqual(chunks.filter { m.memmap.dense[$0] != 0 }.count, 0)
        XCTAssertEqual(m.memmap.kind(r.start + 5), .offline)
        try m.verify()
    }

    /// verify() skips summarized runs (so a terabyte machine's check reads chunks, not pages)
    /// yet still sees a wrong page in a summary's tails or inside a dense chunk.
    func testVerifySkipsSummariesButSeesWrongTails() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 40, maxmemBytes: 1 << 40, slots: 0))
        try m.verify()  // 268 M pfns: only feasible (in a debug build) chunk by chunk
        let z = m.zoneIndex(node: 0, type: .normal)
        let li = Zone.listIndex(10, .movable)
        let head = try XCTUnwrap(m.zones[z].freeArea[li].first)
        XCTAssertNotNil(m.memmap.uniformRun(from: head + 1), "a free order-10 block is summarized")
        // The summary's tails say `tail` instead of `buddyTail`.
        m.memmap.fill(PFNRange(start: head + 1, count: MemMap.chunkPages - 1), kind: .tail)
        XCTAssertThrowsError(try m.verify()) { XCTAssertTrue("\($0)".contains("expected buddyTail"), "\($0)") }
        m.memmap.fill(PFNRange(start: head + 1, count: MemMap.chunkPages - 1), kind: .buddyTail)
        try m.verify()
        // One wrong page in a dense chunk.
        m.memmap.setKind(head + 300, .anon)
        XCTAssertNil(m.memmap.uniformRun(from: head + 1))
        XCTAssertThrowsError(try m.verify()) { XCTAssertTrue("\($0)".contains("pfn \(head + 300)"), "\($0)") }
    }
}

/// MemMap.kind reads a stored raw value as the enum by bit pattern: that needs every case's
/// tag to equal its raw value.
final class PageKindLayoutTests: XCTestCase {
    func testEveryKindsTagIsItsRawValue() {
        XCTAssertEqual(MemoryLayout<PageKind>.size, 1)
        for k in PageKind.allCases { XCTAssertEqual(unsafeBitCast(k.rawValue, to: PageKind.self), k) }
    }
}
