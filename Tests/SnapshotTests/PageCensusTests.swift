import XCTest

@testable import Snapshot

final class PageCensusTests: XCTestCase {
    /// Runs merge, decode(encode) is the identity, and lookups find the run.
    func testRoundTripAndLookup() throws {
        var c = PageCensus()
        c.append(.reserved, count: 1)
        c.append(.free, count: 300)
        c.append(.free, count: 212)  // merged: 512 free
        c.append(.slab, count: 1 << 20)  // a multi-byte LEB128 length
        c.append(.anon, count: 7)
        XCTAssertEqual(c.runCount, 4)
        XCTAssertEqual(c.endPFN, 1 + 512 + (1 << 20) + 7)
        XCTAssertEqual(c.kind(0), .reserved)
        XCTAssertEqual(c.kind(512), .free)
        XCTAssertEqual(c.kind(513), .slab)
        XCTAssertEqual(c.kind(c.endPFN - 1), .anon)
        XCTAssertEqual(c.kind(c.endPFN), .noPage)
        let bytes = c.encoded()
        // 1+1, 1+2 (512), 1+3 (2^20), 1+1
        XCTAssertEqual(bytes.count, 11)
        XCTAssertEqual(try PageCensus.decode(bytes), c)
    }

    /// A maximal free run splits as the buddy allocator must hold it (buddies always merge).
    func testBuddyBlocks() {
        let b = PageCensus.buddyBlocks(3, 3 + 1 + 4 + 1024 + 2)
        XCTAssertEqual(b.map(\.pfn), [3, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1032])
        XCTAssertEqual(b.map(\.order), [0, 2, 3, 4, 5, 6, 7, 8, 9, 3, 1])
        XCTAssertEqual(b.reduce(0) { $0 + (1 << $1.order) }, 1031)
    }

    /// stable_page_flags words as 6.1 writes them.
    func testClassifier() {
        var k = PageClassifier()
        func f(_ bits: Int...) -> UInt64 { bits.reduce(0) { $0 | (1 << UInt64($1)) } }
        XCTAssertEqual(k.classify(f(KPFBit.nopage), count: 0), .noPage)
        XCTAssertEqual(k.classify(f(KPFBit.buddy), count: 0), .free)
        // kpagecount is the mapcount: unmapped flagless pages are ambiguous, mapped ones allocated.
        XCTAssertEqual(k.classify(0, count: 0), .flagless)
        XCTAssertEqual(k.classify(0, count: 1), .kernel)
        XCTAssertEqual(k.classify(0, count: nil), .flagless)
        XCTAssertEqual(k.classify(f(KPFBit.lru, KPFBit.anon, KPFBit.swapbacked, KPFBit.mmap), count: 1), .anon)
        XCTAssertEqual(k.classify(f(KPFBit.lru, KPFBit.uptodate), count: 1), .file)
        // ramfs: unevictable, dirty, not swap-backed.
        XCTAssertEqual(k.classify(f(KPFBit.lru, KPFBit.unevictable, KPFBit.dirty), count: 1), .ramfs)
        // SHM_LOCK'ed shmem: unevictable but swap-backed.
        XCTAssertEqual(k.classify(f(KPFBit.lru, KPFBit.unevictable, KPFBit.swapbacked), count: 1), .unevictable)
        XCTAssertEqual(k.classify(f(KPFBit.lru, KPFBit.unevictable, KPFBit.anon, KPFBit.mlocked), count: 1), .mlocked)
        XCTAssertEqual(k.classify(f(KPFBit.huge, KPFBit.compoundHead), count: 0), .hugetlbFree)
        XCTAssertEqual(k.classify(f(KPFBit.huge, KPFBit.compoundTail), count: 0), .hugetlbTail)
        XCTAssertEqual(k.classify(f(KPFBit.huge, KPFBit.compoundHead), count: 1), .hugetlbUsed)
        // A THP: head on the LRU, tails take its kind.
        XCTAssertEqual(k.classify(f(KPFBit.lru, KPFBit.anon, KPFBit.compoundHead, KPFBit.thp), count: 1), .anon)
        XCTAssertEqual(k.classify(f(KPFBit.thp, KPFBit.compoundTail), count: 0), .anon)
        // A non-LRU compound allocation: kernel memory, head and tails.
        XCTAssertEqual(k.classify(f(KPFBit.compoundHead), count: 0), .kernel)
        XCTAssertEqual(k.classify(f(KPFBit.compoundTail), count: 0), .kernel)
        XCTAssertEqual(k.classify(f(KPFBit.slab, KPFBit.compoundTail), count: 0), .slab)
        XCTAssertEqual(k.classify(f(KPFBit.reserved), count: 1), .reserved)
        XCTAssertEqual(k.classify(f(KPFBit.pgtable), count: 1), .pageTable)
    }
}

final class BuddyTailTests: XCTestCase {
    /// A heads-only kernel: an order-3 block at 8 (head + 7 flagless tails), then a kernel page;
    /// an order-0 free page at 17 whose next page is flagless but cannot be its tail (17 is odd).
    func testTailsInferredFromHeadsAlignment() {
        var c = PageCensus()
        c.append(.kernel, count: 8)
        c.append(.free, count: 1); c.append(.flagless, count: 7)  // 8..15: order 3
        c.append(.slab, count: 1)  // 16
        c.append(.free, count: 1); c.append(.flagless, count: 2)  // 17 (odd: order 0), 18-19 flagless
        let d = c.inferringBuddyTails()
        XCTAssertEqual(d.counts(8, 16)[.free], 8)
        XCTAssertEqual(d.kind(18), .flagless)
        XCTAssertEqual(d.endPFN, c.endPFN)
    }

    /// 6.1 marks every page of a free block: its free runs are whole blocks, not heads.
    func testSixOneCensusIsNotHeadsOnly() {
        var c = PageCensus()
        for i in 0..<32 { c.append(.free, count: 8); c.append(i % 2 == 0 ? .anon : .slab, count: 8) }
        XCTAssertFalse(c.buddyHeadsOnly)
        var h = PageCensus()
        for _ in 0..<32 { h.append(.free, count: 1); h.append(.flagless, count: 7); h.append(.anon, count: 8) }
        XCTAssertTrue(h.buddyHeadsOnly)
    }
}
