import SystemPackage
import XCTest

@testable import MemoryModel

/// The PageOffline seam: generic mm code (isolation, test_pages_isolated, kpageflags) sees a
/// driver's logically offline pages only through the page type and its refcount, as 6.1 does
/// (mm/page_isolation.c, fs/proc/page.c); any driver can use it, not only virtio-mem.
final class PageOfflineTests: XCTestCase {
    func testBitsAreSparseAndClearedByInitialisation() {
        var p = PageOfflinePages()
        XCTAssertTrue(p.isEmpty)
        let section = Geometry.pagesPerSection
        p.set(PFNRange(start: section + 100, count: 512))
        XCTAssertTrue(p.contains(section + 100))
        XCTAssertTrue(p.contains(section + 611))
        XCTAssertFalse(p.contains(section + 612))
        XCTAssertFalse(p.contains(section + 99))
        XCTAssertFalse(p.isUnreferenced(section + 100), "the driver holds a reference after __SetPageOffline")
        p.dropReferences(PFNRange(start: section, count: section))
        XCTAssertTrue(p.isUnreferenced(section + 300))
        XCTAssertFalse(p.isUnreferenced(section + 700), "only PageOffline pages lose a reference")
        p.takeReferences(PFNRange(start: section + 100, count: 512))
        XCTAssertFalse(p.isUnreferenced(section + 300))
        p.clear(PFNRange(start: 0, count: 4 * section))
        XCTAssertFalse(p.contains(section + 100))
        XCTAssertTrue(p.isEmpty, "no bitmap stays for a section without PageOffline pages")
    }

    /// A balloon-like driver that is not virtio-mem: it takes 2 MiB of an online movable block
    /// (alloc_contig_range, then __SetPageOffline as virtio_mem_set_fake_offline does) and
    /// lets go of its references in MEM_GOING_OFFLINE. Offlining the block then succeeds; the
    /// same reserved pages without the page type stop isolation.
    func testOffliningSeesPageOfflinePagesOfAnyDriver() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, cmdline: ""))
        let ids = try m.hotAddDIMM(id: "d", sizeBytes: 128 << 20)
        try m.storeState(block: ids[0], .onlineMovable)
        let block = try XCTUnwrap(m.blocks[ids[0]])
        let range = PFNRange(start: block.startPFN + 1024, count: 512)
        let z = try XCTUnwrap(m.zoneIndex(ofPFN: range.start))
        try m.allocContigRange(range, kind: .kernel)
        m.zones[z].kindPages[Int(PageKind.kernel.rawValue)] -= range.count
        m.memmap.fill(range, kind: .reserved)
        m.zones[z].managedPages -= range.count

        // Reserved without the page type: unmovable, even for memory offlining.
        XCTAssertEqual(m.firstUnmovablePage(block.startPFN, block.range.end, zone: z, memoryOffline: true), range.start)
        XCTAssertEqual(m.kpageflags(range.start), KPF.bit(KPF.reserved))

        m.memmap.pageOffline.set(range)
        XCTAssertEqual(m.kpageflags(range.start), KPF.bit(KPF.offline))
        XCTAssertNil(m.firstUnmovablePage(block.startPFN, block.range.end, zone: z, memoryOffline: true))
        XCTAssertEqual(
            m.firstUnmovablePage(block.startPFN, block.range.end, zone: z, memoryOffline: false), range.start,
            "only MEMORY_OFFLINE isolation lets PageOffline pages pass")

        m.registerMemoryNotifier(name: "test_balloon") { m, n in
            guard n.startPFN <= range.start && range.end <= n.startPFN + n.nrPages else { return 0 }
            switch n.event {
            case .goingOffline:
                m.memmap.pageOffline.dropReferences(range)
                m.zones[z].managedPages += range.count
            case .cancelOffline:
                m.memmap.pageOffline.takeReferences(range)
                m.zones[z].managedPages -= range.count
            default: break
            }
            return 0
        }
        try m.storeState(block: ids[0], .offline)
        XCTAssertEqual(m.blocks[ids[0]]?.state, .offline)
        XCTAssertFalse(m.memmap.pageOffline.contains(range.start), "offline pages are no longer PageOffline")
        try m.verify()
    }
}
