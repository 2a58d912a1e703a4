import XCTest

@testable import Scenario

/// `hold slab` and `hold pagetable` (the study's slab and page-table pressure): what the
/// guest's workload makes Linux allocate, seen where /proc/meminfo counts it (SUnreclaim,
/// PageTables), and unmovable: a block holding them fails to offline with EBUSY.
final class HoldKindsTests: XCTestCase {
    func meminfo(_ r: ModelRunner, _ key: String) throws -> Int {
        let text = try r.fs.read("/proc/meminfo")
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(key + ":") })
        return try XCTUnwrap(Int(line.split(separator: " ")[1]))
    }

    func testSlabAndPageTableHoldsAreCountedAndUnmovable() throws {
        let onlined = """
            mem: 1G
            maxmem: 4G
            dimm: d1 512M node=0
            ---
            step one
            online 32 online_kernel

            """
        let before = ModelRunner(scenario: try Scenario.parse(onlined, file: "holds.scn"))
        XCTAssertTrue(before.run().completed)
        let sc = try Scenario.parse(
            onlined + """
                hold slab s1 8M node=0
                hold pagetable t1 4M node=0
                offline 32 1
                """, file: "holds.scn")
        let after = ModelRunner(scenario: sc)
        let r = after.run()
        XCTAssertTrue(r.completed)
        XCTAssertTrue(r.lines.contains { $0.hasPrefix("hold id=s1 kind=slab") && $0.contains("rc=0") })
        XCTAssertTrue(r.lines.contains { $0.hasPrefix("hold id=t1 kind=pagetable") && $0.contains("rc=0") })
        // 2048 messages of 4048 bytes: 256 order-3 slabs = 8 MiB of SUnreclaim.
        XCTAssertEqual(try meminfo(after, "SUnreclaim") - meminfo(before, "SUnreclaim"), 8192)
        // 1024 PTE pages (one per 2 MiB read) and 2 PMD pages (one per 1 GiB).
        XCTAssertEqual(try meminfo(after, "PageTables") - meminfo(before, "PageTables"), 4096 + 8)
        // Kernel allocations go to the highest kernel zone first: the ZONE_NORMAL block 32.
        let offline = try XCTUnwrap(
            r.lines.first {
                $0.hasPrefix("write path=/sys/devices/system/memory/memory32/state value=\"offline\"")
            })
        XCTAssertTrue(offline.contains("errno=EBUSY"), offline)
    }

    func testHoldKindsParse() throws {
        for k in ["slab", "pagetable"] {
            let sc = try Scenario.parse("mem: 1G\n---\nhold \(k) x 4M\n", file: "k.scn")
            XCTAssertEqual(sc.steps.count, 1)
        }
        XCTAssertThrowsError(try Scenario.parse("mem: 1G\n---\nhold kmalloc x 4M\n", file: "k.scn")) {
            XCTAssertTrue("\($0)".contains("slab or pagetable"), "\($0)")
        }
    }
}

/// `hold pinned`: an anonymous mapping faulted in (page tables as for `hold anon`), then
/// registered as io_uring fixed buffers. Compared with the same `hold anon`, the pin adds the
/// io_mapped_ubuf (a kmalloc_large counted in SUnreclaim) and the two ring pages, and no page
/// tables. A 6.1.0-57 probe (anon 192M, release, pinned 192M) read SUnreclaim 6164 then
/// 7192 kB and PageTables 452 kB both times.
final class PinnedHoldTests: XCTestCase {
    func run(_ kind: String) throws -> ModelRunner {
        let sc = try Scenario.parse(
            """
            mem: 1G
            maxmem: 4G
            dimm: d1 256M
            ---
            online 32 online_kernel
            online 33 online_kernel
            hold \(kind) p1 192M
            step held

            """, file: "pin.scn")
        let r = ModelRunner(scenario: sc)
        let result = r.run()
        XCTAssertTrue(result.completed)
        XCTAssertTrue(result.lines.contains { $0.hasPrefix("hold id=p1 kind=\(kind)") && $0.contains("rc=0") })
        return r
    }

    func meminfo(_ r: ModelRunner, _ key: String) throws -> Int {
        let text = try r.fs.read("/proc/meminfo")
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(key + ":") })
        return try XCTUnwrap(Int(line.split(separator: " ")[1]))
    }

    func testPinAddsTheMappedUbufAndRingPagesOnTopOfTheAnonFaults() throws {
        let anon = try run("anon"), pinned = try run("pinned")
        // 49152 pages: io_mapped_ubuf 32 + 16 x 49152 bytes, order 8 = 1024 kB.
        XCTAssertEqual(try meminfo(pinned, "SUnreclaim") - meminfo(anon, "SUnreclaim"), 1024)
        // 96 PTE tables (one per 2 MiB) and 1 PMD table, as for the anon hold.
        XCTAssertEqual(try meminfo(pinned, "PageTables"), try meminfo(anon, "PageTables"))
        XCTAssertEqual(try meminfo(pinned, "AnonPages"), try meminfo(anon, "AnonPages"))
        // The rings, SQEs and io_mapped_ubuf: 2 + 256 pages less free (buddy and pcp lists).
        func free(_ r: ModelRunner) -> Int { r.machine.totalFreePages + r.machine.totalPCPPages }
        XCTAssertEqual(free(anon) - free(pinned), 2 + 256)
    }
}
