import XCTest

@testable import MemoryModel

/// io_uring fixed buffers (FixedBuffers.swift), kvmalloc (Kvmalloc.swift) and FOLL_LONGTERM
/// pins (LongtermPin.swift), against figures computed by hand from the 6.1 C sizes.
final class IOUringFixedBuffersTests: XCTestCase {
    func testSizesFromTheCStructs() {
        // io_rings: 2 x 128 (cacheline-aligned head/tail pairs) + 32 = 288 -> cqes at 320;
        // 8 CQEs x 16 = 448 (a multiple of 64), + 4 x u32 SQ array = 464.
        XCTAssertEqual(IOUringSizes.ringsBytes(sqEntries: 4), 464)
        XCTAssertEqual(IOUringSizes.sqesBytes(sqEntries: 4), 256)
        // 192 MiB = 49152 pages: 8-byte pointers = 393216 bytes (96 pages, order 7);
        // io_mapped_ubuf 32 + 16 x 49152 = 786464 bytes (192 pages + 32 bytes, order 8).
        XCTAssertEqual(IOUringSizes.pinArrayBytes(pages: 49152), 393_216)
        XCTAssertEqual(IOUringSizes.mappedUbufBytes(pages: 49152), 786_464)
        XCTAssertEqual(Machine.getOrder(393_216), 7)
        XCTAssertEqual(Machine.getOrder(786_464), 8)
        XCTAssertEqual(Machine.getOrder(464), 0)
        XCTAssertEqual(Machine.getOrder(4097), 1)
        XCTAssertEqual(Machine.getOrder(12289), 2)
    }

    func testKvmallocIsALargeKmallocCountedAsSUnreclaimWithoutPGSlab() throws {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 65536)]])
        let before = m.nodePageCounters().slabUnreclaimable
        // At most KMALLOC_MAX_CACHE_SIZE (8 KiB): a kmalloc-8k object, no pages of its own.
        XCTAssertNil(try XCTUnwrap(m.kvmalloc(name: "small", bytes: 8192, gfp: .kernel)).owner)
        let b = try XCTUnwrap(m.kvmalloc(name: "big", bytes: 393_216, gfp: .kernel))
        let id = try XCTUnwrap(b.owner)
        let head = try XCTUnwrap(m.owners[id]?.blocks.first)
        XCTAssertEqual(m.owners[id]?.pages, 128)
        XCTAssertEqual(m.memmap.order(head), 7)
        XCTAssertEqual(m.nodePageCounters().slabUnreclaimable - before, 128)
        // Compound (__GFP_COMP) but not PG_slab: the census counts it as "other".
        XCTAssertEqual(m.pageFlags(head, kind: .kmallocLarge) & KPF.bit(KPF.slab), 0)
        XCTAssertNotEqual(m.pageFlags(head, kind: .kmallocLarge) & KPF.bit(KPF.compoundHead), 0)
        m.kvfree(b)
        XCTAssertEqual(m.nodePageCounters().slabUnreclaimable, before)
        try m.verify()
    }

    func testKvmallocBeyondMaxOrderFallsBackToAHugeVmallocArea() throws {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 65536)]])
        // A 1 GiB iovec's io_mapped_ubuf: 32 + 16 x 262144 = 4 MiB + 32 bytes, order 11 >= MAX_ORDER.
        let bytes = IOUringSizes.mappedUbufBytes(pages: 262_144)
        XCTAssertEqual(Machine.getOrder(bytes), 11)
        let free = m.totalFreePages + m.totalPCPPages
        let b = try XCTUnwrap(m.kvmalloc(name: "imu", bytes: bytes, gfp: .kernel))
        // Huge vmalloc: ALIGN(4 MiB + 32, 2 MiB) = 6 MiB as three order-9 pages, and the area's
        // page array (1536 pointers, 12 KiB > PAGE_SIZE) vmalloc'ed as three order-0 pages.
        let area = try XCTUnwrap(m.owners[try XCTUnwrap(b.owner)])
        XCTAssertEqual(area.order, 9)
        XCTAssertEqual(area.blocks.count, 3)
        XCTAssertEqual(area.kind, .kernel)
        XCTAssertEqual(m.owners[try XCTUnwrap(b.pageArray)]?.pages, 3)
        XCTAssertEqual(free - (m.totalFreePages + m.totalPCPPages), 1536 + 3)
        m.kvfree(b)
        XCTAssertEqual(m.totalFreePages + m.totalPCPPages, free)
    }

    /// An anonymous mapping of `pages` faulted in under `gfp`'s zonelist on node 0.
    private func mapping(_ m: Machine, pages: Int) throws -> Int {
        let id = try m.createOwner(name: "anon", kind: .anon)
        XCTAssertEqual(m.allocate(owner: id, blocks: pages), pages)
        return id
    }

    func testRegisterPinsNormalZonePagesInPlace() throws {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 65536)]])
        let normal = m.zoneIndex(node: 0, type: .normal)
        let owner = try mapping(m, pages: 49152)
        let placed = Array(try XCTUnwrap(m.owners[owner]).blocks)
        XCTAssertTrue(placed.allSatisfy { m.zoneIndex(ofPFN: $0) == normal })
        var ring = try m.ioUringSetup(name: "ring", entries: 4)
        try m.ioUringRegisterBuffers(&ring, owner: owner, iovecPages: [49152])
        // Pinned where they are: ZONE_NORMAL pages are long-term pinnable.
        XCTAssertEqual(Array(try XCTUnwrap(m.owners[owner]).blocks), placed)
        XCTAssertEqual(m.kindCount(normal, .pinned), 49152)
        XCTAssertEqual(m.kindCount(normal, .anon), 0)
        // What stays: the order-8 io_mapped_ubuf and the two ring pages; the order-7 page and
        // vma arrays are freed again.
        XCTAssertEqual(ring.buffers.count, 1)
        XCTAssertEqual(m.owners[try XCTUnwrap(ring.buffers[0].owner)]?.pages, 256)
        XCTAssertEqual(m.kindCount(normal, .kmallocLarge), 256)
        XCTAssertEqual(m.kindCount(normal, .kernel), 2)
        XCTAssertThrowsError(try m.ioUringRegisterBuffers(&ring, owner: owner, iovecPages: [1])) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .resourceBusy)
        }
        m.ioUringClose(ring)
        XCTAssertEqual(m.kindCount(normal, .anon), 49152)
        XCTAssertEqual(m.kindCount(normal, .kmallocLarge) + m.kindCount(normal, .kernel), 0)
        try m.verify()
    }

    func testPagesInZoneMovableMigrateToUnmovableKernelZonePagesBeforeThePin() throws {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 32768), (.movable, 32768)]])
        let movable = m.zoneIndex(node: 0, type: .movable)
        let owner = try mapping(m, pages: 1000)
        XCTAssertEqual(m.kindCount(movable, .anon), 1000)
        let migrated = m.vmstat.pgmigrateSuccess
        var ring = try m.ioUringSetup(name: "ring", entries: 4)
        try m.ioUringRegisterBuffers(&ring, owner: owner, iovecPages: [1000])
        XCTAssertEqual(m.vmstat.pgmigrateSuccess - migrated, 1000)
        XCTAssertEqual(m.kindCount(movable, .anon) + m.kindCount(movable, .pinned), 0)
        // GFP_USER | __GFP_HIGHMEM targets: ZONE_NORMAL first, unmovable pageblocks.
        for pfn in try XCTUnwrap(m.owners[owner]).blocks {
            XCTAssertEqual(m.zones[try XCTUnwrap(m.zoneIndex(ofPFN: pfn))].type, .normal)
            XCTAssertEqual(m.pageblockMigrateType(pfn), .unmovable)
            XCTAssertEqual(m.memmap.kind(pfn), .pinned)
        }
        try m.verify()
    }

    func testSetupRejectsEntriesOutsideTheKernelsRange() {
        let m = syntheticMachine([[(.dma32, 65536)]])
        for n in [0, IOUringSizes.maxEntries + 1] {
            XCTAssertThrowsError(try m.ioUringSetup(name: "r\(n)", entries: n)) {
                XCTAssertEqual(($0 as? KernelError)?.errno, .invalidArgument)
            }
        }
    }

    /// ALLOC_NOFRAGMENT in a fresh ZONE_NORMAL above DMA32 (all MIGRATE_MOVABLE order-10
    /// blocks): the first reclaimable and the first unmovable allocation each steal a whole
    /// order-10 block, two pageblocks, at the head of the free list.
    func testFirstReclaimableThenUnmovableAllocationEachStealAWholeHeadBlock() throws {
        let m = syntheticMachine([[(.dma32, 65536), (.normal, 65536)]])
        let normal = m.zoneIndex(node: 0, type: .normal)
        let base = m.zones[normal].startPFN
        let r = try m.createOwner(name: "dentries", kind: .slabReclaimable)
        XCTAssertEqual(m.allocate(owner: r, blocks: 1), 1)
        let u = try m.createOwner(name: "pte", kind: .pageTable)
        XCTAssertEqual(m.allocate(owner: u, blocks: 1), 1)
        let types = (0..<6).map { m.pageblockMigrateType(base + $0 * Geometry.pageblockPages) }
        XCTAssertEqual(types, [.reclaimable, .reclaimable, .unmovable, .unmovable, .movable, .movable])
        XCTAssertEqual(try XCTUnwrap(m.owners[r]).blocks.first, base)
        XCTAssertEqual(try XCTUnwrap(m.owners[u]).blocks.first, base + 2 * Geometry.pageblockPages)
    }
}
