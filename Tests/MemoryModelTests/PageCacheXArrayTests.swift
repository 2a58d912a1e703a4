import XCTest

@testable import MemoryModel

/// A file's page-cache index (PageCacheXArray): its `radix_tree_node` slabs grow with the file,
/// are not reclaimable, and the order-1 frees of its truncation empty the zone's pcp lists
/// (`free_unref_page_commit`'s `free_high`).
final class PageCacheXArrayTests: XCTestCase {
    func testNodeCounts() {
        // One entry at index 0 lives in xa_head; 2..64 entries need one leaf; 65 a root and two leaves.
        XCTAssertEqual(PageCacheXArray.nodes(pages: 0), 0)
        XCTAssertEqual(PageCacheXArray.nodes(pages: 1), 0)
        XCTAssertEqual(PageCacheXArray.nodes(pages: 2), 1)
        XCTAssertEqual(PageCacheXArray.nodes(pages: 64), 1)
        XCTAssertEqual(PageCacheXArray.nodes(pages: 65), 3)
        XCTAssertEqual(PageCacheXArray.nodes(pages: 4096), 64 + 1)
        XCTAssertEqual(PageCacheXArray.nodes(pages: 4097), 65 + 2 + 1)
        // The 6.1 guest's filler: 166,168 ramfs pages grew radix_tree_node by 188 slabs of 14
        // (psp-slab kernel run: slabs N0=15 before, 203 after).
        XCTAssertEqual(PageCacheXArray.nodes(pages: 166_168), 2597 + 41 + 1)
        XCTAssertEqual(PageCacheXArray.slabs(pages: 166_168), 189)
    }

    func testFileGrowsItsIndexAndReleaseDrainsThePCP() throws {
        let m = syntheticMachine([[(.normal, 65536)]])
        let z = m.zoneIndex(node: 0, type: .normal)
        let f = try m.createFileOwner(name: "file", kind: .ramfs)
        let pages = 20_000
        XCTAssertEqual(m.allocateFilePages(owner: f, pages: pages), pages)
        let xa = try XCTUnwrap(m.owners[f]?.xarrayOwner)
        XCTAssertEqual(m.owners[xa]?.blocks.count, PageCacheXArray.slabs(pages: pages))
        XCTAssertEqual(m.owners[xa]?.reclaimable, false)
        XCTAssertEqual(
            m.zones[z].kindPages[Int(PageKind.slabReclaimable.rawValue)], 2 * PageCacheXArray.slabs(pages: pages))
        // Reclaim finds nothing to take: the index is in use while the file exists.
        XCTAssertEqual(m.reclaim(pages: 1000, zonelist: [z]), 0)
        let managedFree = m.zones[z].freePages + m.zones[z].pcp.count
        m.destroyOwner(f)
        XCTAssertNil(m.owners[xa])
        // Every page came back, and the last order-1 slab free drained the zone's lists.
        XCTAssertEqual(m.zones[z].pcp.count, 0)
        XCTAssertEqual(m.zones[z].freePages, managedFree + pages + 2 * PageCacheXArray.slabs(pages: pages))
        try m.verify()
    }

    /// The boot's SReclaimable is dentries, inodes and page-cache nodes of the initramfs's
    /// tmpfs (pinned while the files exist): six 6.1.0-57 runs under a kernel-memory filler kept
    /// 8,828–8,920 kB of it and stole no page (pgsteal_kswapd and pgsteal_direct 0).
    func testBootReclaimableSlabIsNotReclaimed() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 1 << 30, slots: 0, cmdline: ""))
        let slab = m.zones.reduce(0) { $0 + $1.kindPages[Int(PageKind.slabReclaimable.rawValue)] }
        XCTAssertGreaterThan(slab, 2000)
        XCTAssertEqual(m.reclaim(pages: 100_000, zonelist: Array(m.zones.indices)), 0)
        XCTAssertEqual(m.zones.reduce(0) { $0 + $1.kindPages[Int(PageKind.slabReclaimable.rawValue)] }, slab)
    }
}
