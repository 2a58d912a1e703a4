import XCTest

@testable import MemoryModel

/// pfns at and above 2^32 (machines of 16 TiB and more) survive every list that holds pfns,
/// and lists of narrow pfns stay 4 bytes an entry.
final class WidePFNTests: XCTestCase {
    let wide = [0, 1, (1 << 32) - 1, 1 << 32, (1 << 32) + 5, (17 << 40) >> 12, (1 << 40) - 1]

    func testPFNListKeepsWidePFNsAndStaysNarrowWithout() {
        var narrow = PFNList()
        for p in [0, 7, (1 << 32) - 1] { narrow.append(p) }
        XCTAssertTrue(narrow.hi.isEmpty, "no side array below 2^32")
        XCTAssertEqual(Array(narrow), [0, 7, (1 << 32) - 1])

        var l = PFNList()
        for p in wide { l.append(p) }
        XCTAssertEqual(Array(l), wide)
        l[0] = 1 << 33
        l[3] = 12
        XCTAssertEqual(l[0], 1 << 33)
        XCTAssertEqual(l[3], 12)
        XCTAssertEqual(l.removeLast(), (1 << 40) - 1)
        XCTAssertEqual(l.count, wide.count - 1)
        // A narrow list widened by a later store keeps its earlier entries.
        narrow[1] = (1 << 36) + 3
        XCTAssertEqual(Array(narrow), [0, (1 << 36) + 3, (1 << 32) - 1])
        XCTAssertEqual(Array(PFNList(repeating: 1 << 35, count: 3)), [1 << 35, 1 << 35, 1 << 35])
    }

    func testZoneFreeAndPCPListsKeepWidePFNs() {
        let lists = ZoneLists()
        let s = lists.ref
        for p in [5, 1 << 32, 9] { _ = s.freeAdd(0, p, tail: true) }
        for i in 0..<100 { _ = s.freeAdd(1, (1 << 34) + i, tail: false) }  // grows past the first capacity
        XCTAssertEqual(lists.freePFNs(0), [5, 1 << 32, 9])
        XCTAssertEqual(s.freeFirst(1), (1 << 34) + 99)
        let wideNode = s.freeAdd(2, (1 << 39) + 1, tail: false)
        s.freeRemove(2, node: wideNode)
        XCTAssertEqual(s.freeAdd(2, 3, tail: false), wideNode, "a removed block's node is reused")
        XCTAssertEqual(lists.freePFNs(2), [3], "and its high byte rewritten")
        _ = s.freeAdd(2, (1 << 33) + 3, tail: true)
        XCTAssertEqual(lists.freePFNs(2), [3, (1 << 33) + 3])

        // The ring wraps and grows with high bytes in step.
        for i in 0..<10 { s.pcpAppend(0, i) }
        for i in 0..<30 { s.pcpPrepend(0, (1 << 32) + i) }
        XCTAssertEqual(s.pcpRemoveFirst(0), (1 << 32) + 29)
        XCTAssertEqual(s.pcpRemoveLast(0), 9)
        var rest: [PFN] = []
        while s.pcpCount(0) > 0 { rest.append(s.pcpRemoveFirst(0)) }
        XCTAssertEqual(rest, (0..<29).reversed().map { (1 << 32) + $0 } + Array(0..<9))
    }

    func testFirstPFNOfKindSkipsSummarizedChunks() {
        let c = MemMap.chunkPages
        let m = MemMap(pfnCount: 6 * c)
        m.fill(PFNRange(start: 0, count: 6 * c), kind: .offline)
        XCTAssertNil(m.firstPFN(of: .absent, in: PFNRange(start: 0, count: 6 * c)))
        m.fill(PFNRange(start: 3 * c + 17, count: 1), kind: .absent)  // dense chunk
        m.fill(PFNRange(start: 5 * c, count: 1), kind: .absent)  // a summary's head
        m.fill(PFNRange(start: 4 * c + 1, count: c - 1), kind: .absent)  // a summary's tails
        XCTAssertEqual(m.firstPFN(of: .absent, in: PFNRange(start: 0, count: 6 * c)), 3 * c + 17)
        XCTAssertEqual(m.firstPFN(of: .absent, in: PFNRange(start: 3 * c + 18, count: c)), 4 * c + 1)
        XCTAssertNil(m.firstPFN(of: .absent, in: PFNRange(start: 4 * c, count: 1)))
        XCTAssertEqual(m.firstPFN(of: .absent, in: PFNRange(start: 5 * c - 3, count: 4)), 5 * c - 3)
        XCTAssertEqual(m.firstPFN(of: .absent, in: PFNRange(start: 5 * c, count: 1)), 5 * c)
        XCTAssertNil(m.firstPFN(of: .absent, in: PFNRange(start: 5 * c + 1, count: c - 1)))
    }
}
