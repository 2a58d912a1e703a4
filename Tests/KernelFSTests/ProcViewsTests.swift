import XCTest

@testable import KernelFS
@testable import MemoryModel

/// A small machine without the QEMU layout (see `Machine.synthetic`).
private func procSyntheticMachine(_ layout: [[(ZoneType, Int)]], reserved: [PFNRange] = []) -> Machine {
    Machine.synthetic(layout, reserved: reserved)
}

/// The captured a-baseline machine: 1 GiB, 4 slots, maxmem 4 GiB.
private func baseline() throws -> Machine {
    try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
}

private func lines(_ s: String) -> [String] {
    var l = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if l.last == "" { l.removeLast() }
    return l
}

/// A line's layout: every run of digits becomes `N` (values differ, text and padding must not,
/// except that a wider value eats into its padding: see `sameColumns`).
private func skeleton(_ line: String) -> String {
    var out = ""
    var inDigits = false
    for ch in line {
        if ch.isASCII && ch.isNumber {
            if !inDigits { out += "N" }; inDigits = true
        } else {
            out.append(ch); inDigits = false
        }
    }
    return out
}

/// Skeletons equal once padding before numbers is collapsed, and right-aligned columns end
/// at the same place (equal line lengths) when `fixedWidth`.
private func assertSameLayout(
    _ ours: String, _ real: String, fixedWidth: Bool, file: StaticString = #filePath, line: UInt = #line
) {
    let a = lines(ours), b = lines(real)
    XCTAssertEqual(a.count, b.count, "line count", file: file, line: line)
    func collapse(_ s: String) -> String {
        var out = "", spaces = ""
        for ch in skeleton(s) {
            if ch == " " { spaces.append(ch); continue }
            out += (ch == "N" && !spaces.isEmpty) ? " " : spaces
            spaces = ""
            out.append(ch)
        }
        return out + spaces
    }
    for (x, y) in zip(a, b) {
        XCTAssertEqual(collapse(x), collapse(y), file: file, line: line)
        if fixedWidth { XCTAssertEqual(x.count, y.count, "column alignment of \(x) vs \(y)", file: file, line: line) }
    }
}

final class ProcViewsTests: XCTestCase {
    // MARK: Formats against the real kernel's text

    func testMeminfoLayoutMatchesKernel() throws {
        let m = try baseline()
        let ours = ProcViews.meminfo(m)
        assertSameLayout(ours, RealProc61.meminfo, fixedWidth: true)
        XCTAssertEqual(
            lines(ours).map { String($0.prefix { $0 != ":" }) },
            lines(RealProc61.meminfo).map { String($0.prefix { $0 != ":" }) })
        XCTAssertTrue(ours.hasSuffix(" kB\n"))
    }

    func testMeminfoLiteralLines() throws {
        let m = try baseline()
        let l = lines(ProcViews.meminfo(m))
        XCTAssertEqual(
            l[1],
            "MemFree:        " + String(repeating: " ", count: 8 - String(m.totalFreePages * 4).count)
                + "\(m.totalFreePages * 4) kB")
        XCTAssertTrue(l.contains("Buffers:               0 kB"))
        XCTAssertTrue(l.contains("VmallocTotal:   34359738367 kB"))
        XCTAssertTrue(l.contains("HardwareCorrupted:     0 kB"))
        XCTAssertTrue(l.contains("HugePages_Total:       0"))
        XCTAssertTrue(l.contains("Hugepagesize:       2048 kB"))
        // DirectMap of the 1 GiB guest, exactly as the kernel reported it; no 1G line without gbpages.
        XCTAssertTrue(l.contains("DirectMap4k:       26496 kB"))
        XCTAssertTrue(l.contains("DirectMap2M:     1021952 kB"))
        XCTAssertFalse(l.contains { $0.hasPrefix("DirectMap1G") })
        // CommitLimit = (MemTotal) * 50 %.
        XCTAssertTrue(l.contains("CommitLimit:    " + rjust(m.totalManagedPages * 50 / 100 * 4, 8) + " kB"))
    }

    func testZoneinfoLayoutMatchesKernel() throws {
        let m = try baseline()
        assertSameLayout(ProcViews.zoneinfo(m), RealProc61.zoneinfo, fixedWidth: false)
    }

    func testBuddyinfoLayoutMatchesKernel() throws {
        let m = try baseline()
        assertSameLayout(ProcViews.buddyinfo(m), RealProc61.buddyinfo, fixedWidth: true)
    }

    func testPagetypeinfoLayoutMatchesKernel() throws {
        let m = try baseline()
        let ours = ProcViews.pagetypeinfo(m)
        assertSameLayout(ours, RealProc61.pagetypeinfo, fixedWidth: true)
        // Block counts cover the zone spans: DMA 8 pageblocks, DMA32 504.
        let counts = lines(ours).filter { $0.hasPrefix("Node 0, zone ") }
        XCTAssertEqual(counts.count, 2)
        func total(_ l: String) -> Int { l.split(separator: " ").dropFirst(2).compactMap { Int($0) }.reduce(0, +) }
        XCTAssertEqual(total(counts[0]), 8)
        XCTAssertEqual(total(counts[1]), 504)
    }

    func testVmstatNamesAndOrderMatchKernel() throws {
        let m = try baseline()
        let ours = lines(ProcViews.vmstat(m)).map { $0.split(separator: " ").map(String.init) }
        let real = lines(RealProc61.vmstat).map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(ours.map { $0[0] }, real.map { $0[0] })
        XCTAssertTrue(ours.allSatisfy { $0.count == 2 && Int($0[1]) != nil })
        let d = Dictionary(uniqueKeysWithValues: ours.map { ($0[0], Int($0[1])!) })
        XCTAssertEqual(d["nr_free_pages"], m.totalFreePages)
        XCTAssertEqual(d["nr_unstable"], 0)
    }

    func testBuddyinfoLiteral() {
        let m = procSyntheticMachine([[(.dma32, 65536)]])
        // 64 order-10 blocks after boot (pfn 1024 start is aligned).
        XCTAssertEqual(
            ProcViews.buddyinfo(m),
            "Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0     64 \n")
    }

    /// zoneinfo prints `watermark_boost` on its own line and min/low/high as
    /// `*_wmark_pages`, boost included (vmstat.c zoneinfo_show_print). DMA32 of 8192 pages:
    /// min 396, low 495, high 594 (WatermarkBoostTests); one boost_watermark adds a pageblock.
    func testZoneinfoPrintsTheBoostAndBoostedWatermarks() {
        let m = procSyntheticMachine([[(.dma32, 8192)]])
        XCTAssertTrue(m.boostWatermark(m.zoneIndex(node: 0, type: .dma32)))
        let l = lines(ProcViews.zoneinfo(m))
        let i = l.firstIndex(of: "Node 0, zone    DMA32")!
        let j = l[i...].firstIndex(of: "        boost    512")!
        XCTAssertEqual(
            Array(l[j...(j + 3)]),
            ["        boost    512", "        min      908", "        low      1007", "        high     1106"])
    }

    func testZoneinfoEmptyZonesStopAtProtection() {
        let m = procSyntheticMachine([[(.dma32, 65536)]])
        let l = lines(ProcViews.zoneinfo(m))
        let i = l.firstIndex(of: "Node 0, zone   Normal")!
        XCTAssertEqual(
            Array(l[i...(i + 10)]),
            [
                "Node 0, zone   Normal",
                "  pages free     0",
                "        boost    0",
                "        min      0",
                "        low      0",
                "        high     0",
                "        spanned  0",
                "        present  0",
                "        managed  0",
                "        cma      0",
                "        protection: (0, 0, 0, 0, 0)"
            ])
        // The per-node stats come with the first populated zone (DMA32 here, not DMA).
        XCTAssertEqual(l[0], "Node 0, zone      DMA")
        XCTAssertEqual(l[1], "  pages free     0")
        let d = l.firstIndex(of: "Node 0, zone    DMA32")!
        XCTAssertEqual(l[d + 1], "  per-node stats")
        XCTAssertEqual(l[d + 2], "      nr_inactive_anon 0")
        XCTAssertTrue(l.contains("      nr_mapped    0"))
        XCTAssertTrue(l.contains("  vm stats threshold: 6"))  // 65536 pages: 2 * 1 * (1 + fls(2))
        XCTAssertTrue(l.contains("  start_pfn:           1024"))
        XCTAssertEqual(l.last, "        protection: (0, 0, 0, 0, 0)")  // Device
    }

    func testPagetypeinfoLiteralHeader() {
        let m = procSyntheticMachine([[(.dma32, 65536)]])
        let l = lines(ProcViews.pagetypeinfo(m))
        XCTAssertEqual(
            Array(l[0...3]),
            [
                "Page block order: 9",
                "Pages per block:  512",
                "",
                "Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 "
            ])
        XCTAssertEqual(
            l[5],
            "Node    0, zone    DMA32, type      Movable      0      0      0      0      0      0      0      0      0      0     64 "
        )
        XCTAssertEqual(l.count, 12)
        XCTAssertEqual(l[9], "")
        XCTAssertEqual(
            l[10], "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate ")
        XCTAssertEqual(l[11], "Node 0, zone    DMA32            0          128            0            0            0 ")
    }

    // MARK: The captured baseline

    func testBaselineZonesMatchCapture() throws {
        let m = try baseline()
        // zone node=0 zone=DMA ... / DMA32 from a-baseline.txt
        struct Z {
            var type: ZoneType; var min, low, high, spanned, present, managed: Int; var protection: [Int];
            var start: Int?
        }
        let captured = [
            Z(
                type: .dma, min: 190, low: 237, high: 284, spanned: 4095, present: 3998, managed: 3840,
                protection: [0, 880, 880, 880, 880], start: 1),
            Z(
                type: .dma32, min: 11073, low: 13841, high: 16609, spanned: 258016, present: 258016, managed: 225520,
                protection: [0, 0, 0, 0, 0], start: 4096),
            Z(
                type: .normal, min: 0, low: 0, high: 0, spanned: 0, present: 0, managed: 0, protection: [0, 0, 0, 0, 0],
                start: nil),
            Z(
                type: .movable, min: 0, low: 0, high: 0, spanned: 0, present: 0, managed: 0,
                protection: [0, 0, 0, 0, 0], start: nil),
            Z(
                type: .device, min: 0, low: 0, high: 0, spanned: 0, present: 0, managed: 0, protection: [0, 0, 0, 0, 0],
                start: nil)
        ]
        // The capture's `params` step read /proc/sys/vm/lowmem_reserve_ratio before the dump;
        // 6.1's handler recomputes the reserves even on a read, after boot's late frees.
        _ = try KernelFS(machine: m).read("/proc/sys/vm/lowmem_reserve_ratio")
        let parsed = parseZoneinfo(ProcViews.zoneinfo(m))
        for c in captured {
            let z = try XCTUnwrap(parsed[c.type.name], c.type.name)
            XCTAssertEqual(z["spanned"], c.spanned, c.type.name)
            XCTAssertEqual(z["present"], c.present, c.type.name)
            XCTAssertEqual(z["managed"], c.managed, c.type.name)
            XCTAssertEqual(z["start_pfn"], c.start, c.type.name)
            XCTAssertEqual((0..<5).map { z["protection\($0)"]! }, c.protection, c.type.name)
            for (k, v) in [("min", c.min), ("low", c.low), ("high", c.high)] {
                let got = try XCTUnwrap(z[k])
                // Within 1 %, rounded up to whole pages.
                XCTAssertLessThanOrEqual(abs(got - v), (v + 99) / 100, "\(c.type.name) \(k) \(got) vs \(v)")
            }
        }
        let memTotal = meminfoValue(ProcViews.meminfo(m), "MemTotal")
        XCTAssertLessThanOrEqual(abs(memTotal - 917440), 9174, "MemTotal \(memTotal)")
        XCTAssertEqual(
            ProcViews.iomemSystemRAMLines(m), ["00001000-0009fbff : System RAM", "00100000-3ffdffff : System RAM"])
    }

    func testMemAvailableFollowsSiMemAvailable() throws {
        let m = try baseline()
        // Recompute from the printed zoneinfo: free - Σ min(max protection + high, managed)
        // + reclaimable slab - min(slab / 2, Σ low).
        let parsed = parseZoneinfo(ProcViews.zoneinfo(m))
        var reserve = 0, low = 0
        for (_, z) in parsed {
            let prot = (0..<5).map { z["protection\($0)"]! }
            let t = z["type"]!
            reserve += min(prot[t...].max()! + z["high"]!, z["managed"]!)
            low += z["low"]!
        }
        let info = ProcViews.meminfo(m)
        let free = meminfoValue(info, "MemFree") / 4
        let slab = meminfoValue(info, "SReclaimable") / 4
        let file = (meminfoValue(info, "Active(file)") + meminfoValue(info, "Inactive(file)")) / 4
        let expected = free - reserve + (file - min(file / 2, low)) + (slab - min(slab / 2, low))
        XCTAssertEqual(meminfoValue(info, "MemAvailable"), max(expected, 0) * 4)
    }

    func testIomemRootView() throws {
        let m = try baseline()
        let l = lines(ProcViews.iomem(m))
        XCTAssertEqual(l.first, "00000000-00000fff : Reserved")
        XCTAssertTrue(l.contains("00001000-0009fbff : System RAM"))
        XCTAssertTrue(l.contains("00100000-3ffdffff : System RAM"))
        XCTAssertTrue(l.contains("3ffe0000-3fffffff : Reserved"))
        XCTAssertTrue(l.contains("40000000-febfffff : PCI Bus 0000:00"))
        XCTAssertTrue(l.contains("2c0000000-33fffffff : PCI Bus 0000:00"))
        XCTAssertTrue(l.contains("  000f0000-000fffff : System ROM"))
        XCTAssertTrue(l.contains { $0.hasPrefix("  ") && $0.hasSuffix(" : Kernel code") })
        XCTAssertEqual(l.last, "fd00000000-ffffffffff : Reserved")
    }

    // MARK: /proc/sys/vm

    func fs() throws -> KernelFS { KernelFS(machine: try baseline()) }

    func testSysctlReadFormats() throws {
        let k = try fs()
        XCTAssertEqual(try k.read("/proc/sys/vm/lowmem_reserve_ratio"), "256\t256\t32\t0\t0\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/watermark_scale_factor"), "10\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/watermark_boost_factor"), "15000\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/overcommit_memory"), "0\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/overcommit_ratio"), "50\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/overcommit_kbytes"), "0\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/percpu_pagelist_high_fraction"), "0\n")
        XCTAssertEqual(try k.read("/proc/sys/vm/stat_refresh"), "")
        XCTAssertEqual(try k.read("/proc/sys/vm/min_free_kbytes"), "\(k.machine.watermarkTunables.minFreeKbytes)\n")
        XCTAssertTrue(try k.list("/proc").contains("sys"))
        XCTAssertTrue(try k.list("/proc").contains("meminfo"))
        XCTAssertTrue(try k.list("/proc/sys/vm").contains("drop_caches"))
    }

    func testModesAndEACCES() throws {
        let k = try fs()
        for f in ["drop_caches", "compact_memory"] {
            XCTAssertThrowsError(try k.read("/proc/sys/vm/\(f)")) {
                XCTAssertEqual(($0 as? KernelError)?.errno, .permissionDenied)
            }
        }
        for f in ["meminfo", "zoneinfo", "buddyinfo", "pagetypeinfo", "vmstat", "iomem"] {
            XCTAssertThrowsError(try k.write("/proc/\(f)", "1")) {
                XCTAssertEqual(($0 as? KernelError)?.errno, .permissionDenied)
            }
        }
        guard case .file(let pti) = try k.lookup("/proc/pagetypeinfo") else { return XCTFail() }
        XCTAssertEqual(pti.mode, 0o400)
        guard case .file(let dc) = try k.lookup("/proc/sys/vm/drop_caches") else { return XCTFail() }
        XCTAssertEqual(dc.mode, 0o200)
        guard case .file(let sr) = try k.lookup("/proc/sys/vm/stat_refresh") else { return XCTFail() }
        XCTAssertEqual(sr.mode, 0o600)
        XCTAssertNoThrow(try k.read("/proc/pagetypeinfo"))  // root reads 0400
    }

    /// Bad writes give EINVAL and change nothing (observed on 6.1 for each of these).
    func testBadWritesAreEINVALAndChangeNothing() throws {
        let k = try fs()
        let cases: [(String, [String])] = [
            ("min_free_kbytes", [" ", "-1", "foo", "99999999999999999999999", "2147483648", "\n"]),
            ("watermark_scale_factor", [" ", "-1", "foo", "0", "3001", "99999999999999999999999"]),
            ("watermark_boost_factor", [" ", "-1", "foo", "2147483648"]),
            ("overcommit_memory", [" ", "-1", "foo", "3", "2147483648"]),
            ("overcommit_ratio", [" ", "foo", "2147483648", "99999999999999999999999"]),
            ("overcommit_kbytes", [" ", "-1", "foo", "99999999999999999999999"]),
            ("percpu_pagelist_high_fraction", [" ", "-1", "foo", "1", "7", "2147483648"]),
            ("drop_caches", [" ", "-1", "foo", "0", "5", "99999999999999999999999"])
        ]
        for (file, inputs) in cases {
            let path = "/proc/sys/vm/\(file)"
            let before = file == "drop_caches" ? "" : try k.read(path)
            let zonesBefore = ProcViews.zoneinfo(k.machine)
            for input in inputs {
                XCTAssertThrowsError(try k.write(path, input), "\(file) <- \(input.debugDescription)") {
                    XCTAssertEqual(
                        ($0 as? KernelError)?.errno, .invalidArgument, "\(file) <- \(input.debugDescription)")
                }
                if file != "drop_caches" { XCTAssertEqual(try k.read(path), before, file) }
                XCTAssertEqual(ProcViews.zoneinfo(k.machine), zonesBefore, file)
            }
            // An empty write returns 0 and changes nothing.
            XCTAssertEqual(try k.write(path, ""), 0)
            if file != "drop_caches" { XCTAssertEqual(try k.read(path), before) }
        }
    }

    func testGoodWritesAndPartialWrites() throws {
        let k = try fs()
        let vm = "/proc/sys/vm/"
        XCTAssertEqual(try k.write(vm + "watermark_scale_factor", "3000"), 4)
        XCTAssertEqual(try k.read(vm + "watermark_scale_factor"), "3000\n")
        let high3000 = k.machine.zone(node: 0, type: .dma32).watermark.high
        XCTAssertEqual(try k.write(vm + "watermark_scale_factor", "10\n"), 3)
        XCTAssertGreaterThan(high3000, k.machine.zone(node: 0, type: .dma32).watermark.high)
        // "45056 junk": the number and the space are consumed, the rest is a short write.
        XCTAssertEqual(try k.write(vm + "min_free_kbytes", "50000 junk"), 6)
        XCTAssertEqual(try k.read(vm + "min_free_kbytes"), "50000\n")
        XCTAssertEqual(
            k.machine.zone(node: 0, type: .dma32).watermark.min,
            50000 / 4 * k.machine.zone(node: 0, type: .dma32).managedPages / k.machine.totalManagedPages)
        XCTAssertEqual(try k.write(vm + "min_free_kbytes", "0x10"), 4)
        XCTAssertEqual(try k.read(vm + "min_free_kbytes"), "16\n")
        XCTAssertEqual(try k.write(vm + "overcommit_ratio", "-1"), 2)
        XCTAssertEqual(try k.read(vm + "overcommit_ratio"), "-1\n")
        XCTAssertEqual(try k.write(vm + "overcommit_kbytes", "1024"), 4)
        XCTAssertEqual(try k.read(vm + "overcommit_ratio"), "0\n")
        XCTAssertEqual(meminfoValue(ProcViews.meminfo(k.machine), "CommitLimit"), 1024)
        XCTAssertEqual(try k.write(vm + "overcommit_ratio", "50"), 2)
        XCTAssertEqual(try k.read(vm + "overcommit_kbytes"), "0\n")
        XCTAssertEqual(try k.write(vm + "overcommit_memory", "2"), 1)
        XCTAssertEqual(try k.read(vm + "overcommit_memory"), "2\n")
        XCTAssertEqual(try k.write(vm + "watermark_boost_factor", "0"), 1)
        XCTAssertEqual(try k.read(vm + "watermark_boost_factor"), "0\n")
        XCTAssertEqual(try k.write(vm + "percpu_pagelist_high_fraction", "8"), 1)
        XCTAssertEqual(try k.read(vm + "percpu_pagelist_high_fraction"), "8\n")
        let dma32 = k.machine.zone(node: 0, type: .dma32)
        XCTAssertEqual(dma32.pcp.high, max(dma32.managedPages / 8, dma32.pcp.batch * 4))
        XCTAssertEqual(try k.write(vm + "percpu_pagelist_high_fraction", "0"), 1)
        let z = k.machine.zone(node: 0, type: .dma32)
        XCTAssertEqual(z.pcp.high, max(z.watermark.low, z.pcp.batch * 4))
        // stat_refresh and compact_memory take anything.
        XCTAssertEqual(try k.write(vm + "stat_refresh", "foo"), 3)
        XCTAssertEqual(try k.write(vm + "compact_memory", "foo"), 3)
    }

    func testLowmemReserveRatioIgnoresErrors() throws {
        let k = try fs()
        let p = "/proc/sys/vm/lowmem_reserve_ratio"
        // The handler ignores proc_dointvec_minmax's error: the whole write is "consumed".
        XCTAssertEqual(try k.write(p, "foo"), 3)
        XCTAssertEqual(try k.write(p, " "), 1)
        XCTAssertEqual(try k.read(p), "256\t256\t32\t0\t0\n")
        XCTAssertEqual(try k.write(p, "1 2"), 3)
        XCTAssertEqual(try k.read(p), "1\t2\t32\t0\t0\n")
        XCTAssertEqual(
            k.machine.zone(node: 0, type: .dma).lowmemReserve[1], k.machine.zone(node: 0, type: .dma32).managedPages)
        XCTAssertEqual(try k.write(p, "-1"), 2)
        XCTAssertEqual(try k.read(p), "0\t2\t32\t0\t0\n")
        XCTAssertEqual(k.machine.zone(node: 0, type: .dma).lowmemReserve, [0, 0, 0, 0, 0])
        // A sixth number is not consumed; "1 foo" stores 1 and stops before foo.
        XCTAssertEqual(try k.write(p, "256 256 32 0 0 7"), 15)
        XCTAssertEqual(try k.read(p), "256\t256\t32\t0\t0\n")
        XCTAssertEqual(try k.write(p, "5 foo"), 2)
        XCTAssertEqual(try k.read(p), "5\t256\t32\t0\t0\n")
        // Out of int range: the number is consumed, nothing stored after it.
        XCTAssertEqual(try k.write(p, "7 2147483648"), 12)
        XCTAssertEqual(try k.read(p), "7\t256\t32\t0\t0\n")
    }

    func testDropCaches() throws {
        let k = try fs()
        let m = k.machine
        let pc = try m.createOwner(name: "file", kind: .pageCache)
        XCTAssertEqual(m.allocate(owner: pc, blocks: 1000), 1000)
        let dirty = try m.createOwner(name: "dirty", kind: .pageCache, reclaimable: false)
        m.allocate(owner: dirty, blocks: 10)
        // A cache grown after boot whose objects are unused; boot's slab holds live objects.
        let cache = try m.createOwner(name: "dcache", kind: .slabReclaimable)
        XCTAssertEqual(m.allocate(owner: cache, blocks: 100), 100)
        let slabBefore = m.totalPages(of: .slabReclaimable)
        XCTAssertGreaterThan(slabBefore, 100)
        XCTAssertEqual(meminfoValue(ProcViews.meminfo(m), "Inactive(file)"), 1010 * 4)
        XCTAssertEqual(try k.write("/proc/sys/vm/drop_caches", "1"), 1)
        XCTAssertEqual(m.totalPages(of: .pageCache), 10)
        XCTAssertEqual(m.totalPages(of: .slabReclaimable), slabBefore)
        XCTAssertEqual(try k.write("/proc/sys/vm/drop_caches", "2\n"), 2)
        XCTAssertEqual(m.totalPages(of: .slabReclaimable), slabBefore - 100, "the unused cache goes, boot's stays")
        XCTAssertEqual(try k.write("/proc/sys/vm/drop_caches", "4"), 1)
        XCTAssertEqual(try k.write("/proc/sys/vm/drop_caches", "3"), 1)
        let v = Dictionary(uniqueKeysWithValues: ProcViews.vmstatItems(m))
        XCTAssertEqual(v["drop_pagecache"], 2)
        XCTAssertEqual(v["drop_slab"], 2)
        XCTAssertEqual(
            m.kmsg.filter { $0.contains("drop_caches:") },
            ["sh (1): drop_caches: 1", "sh (1): drop_caches: 2", "sh (1): drop_caches: 4"])
        try m.verify()
    }
}

// MARK: - Parsing helpers

private func meminfoValue(_ text: String, _ key: String) -> Int {
    for l in lines(text) where l.hasPrefix(key + ":") {
        return Int(l.dropFirst(key.count + 1).split(separator: " ").first ?? "") ?? -1
    }
    return -1
}

/// zoneinfo → [zone name: fields], with `protection0...4`, `type` and `start_pfn`.
private func parseZoneinfo(_ text: String) -> [String: [String: Int]] {
    var out: [String: [String: Int]] = [:]
    var current: String?
    for l in lines(text) {
        if l.hasPrefix("Node ") {
            let name = String(l.split(separator: " ").last!)
            current = name
            out[name] = ["type": ZoneType.allCases.first { $0.name == name }!.rawValue]
            continue
        }
        guard let c = current else { continue }
        let t = l.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if t.first == "protection:" {
            let nums = l.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            for (i, v) in nums.enumerated() { out[c]!["protection\(i)"] = v }
        } else if t.count == 3 && t[0] == "pages" && t[1] == "free" {
            out[c]!["free"] = Int(t[2])
        } else if t.count == 2, let v = Int(t[1]) {
            if t[0] == "start_pfn:" { out[c]!["start_pfn"] = v } else if !t[0].hasSuffix(":") { out[c]![t[0]] = v }
        }
    }
    return out
}

/// Text Linux 6.1.0-56-amd64 (Debian 6.1.192) printed on an idle QEMU pc guest
/// (`-m 1G,slots=4,maxmem=4G -smp 1`, busybox initramfs, after `echo 1 > stat_refresh`):
/// the reference the views' formats are checked against. Values differ from the model's;
/// layouts must not.
enum RealProc61 {
    static let meminfo = #"""
        MemTotal:         917440 kB
        MemFree:          880700 kB
        MemAvailable:     814020 kB
        Buffers:               0 kB
        Cached:             1940 kB
        SwapCached:            0 kB
        Active:             1644 kB
        Inactive:            352 kB
        Active(anon):       1644 kB
        Inactive(anon):      352 kB
        Active(file):          0 kB
        Inactive(file):        0 kB
        Unevictable:           0 kB
        Mlocked:               0 kB
        SwapTotal:             0 kB
        SwapFree:              0 kB
        Zswap:                 0 kB
        Zswapped:              0 kB
        Dirty:                 0 kB
        Writeback:             0 kB
        AnonPages:            92 kB
        Mapped:             1600 kB
        Shmem:              1940 kB
        KReclaimable:       8756 kB
        Slab:              14844 kB
        SReclaimable:       8756 kB
        SUnreclaim:         6088 kB
        KernelStack:         748 kB
        PageTables:           36 kB
        SecPageTables:         0 kB
        NFS_Unstable:          0 kB
        Bounce:                0 kB
        WritebackTmp:          0 kB
        CommitLimit:      458720 kB
        Committed_AS:       2612 kB
        VmallocTotal:   34359738367 kB
        VmallocUsed:        7356 kB
        VmallocChunk:          0 kB
        Percpu:              260 kB
        HardwareCorrupted:     0 kB
        AnonHugePages:         0 kB
        ShmemHugePages:        0 kB
        ShmemPmdMapped:        0 kB
        FileHugePages:         0 kB
        FilePmdMapped:         0 kB
        HugePages_Total:       0
        HugePages_Free:        0
        HugePages_Rsvd:        0
        HugePages_Surp:        0
        Hugepagesize:       2048 kB
        Hugetlb:               0 kB
        DirectMap4k:       26496 kB
        DirectMap2M:     1021952 kB
        """#

    static let zoneinfo = #"""
        Node 0, zone      DMA
          per-node stats
              nr_inactive_anon 79
              nr_active_anon 420
              nr_inactive_file 0
              nr_active_file 0
              nr_unevictable 0
              nr_slab_reclaimable 2189
              nr_slab_unreclaimable 1522
              nr_isolated_anon 0
              nr_isolated_file 0
              workingset_nodes 0
              workingset_refault_anon 0
              workingset_refault_file 0
              workingset_activate_anon 0
              workingset_activate_file 0
              workingset_restore_anon 0
              workingset_restore_file 0
              workingset_nodereclaim 0
              nr_anon_pages 23
              nr_mapped    400
              nr_file_pages 485
              nr_dirty     0
              nr_writeback 0
              nr_writeback_temp 0
              nr_shmem     485
              nr_shmem_hugepages 0
              nr_shmem_pmdmapped 0
              nr_file_hugepages 0
              nr_file_pmdmapped 0
              nr_anon_transparent_hugepages 0
              nr_vmscan_write 0
              nr_vmscan_immediate_reclaim 0
              nr_dirtied   0
              nr_written   0
              nr_throttled_written 0
              nr_kernel_misc_reclaimable 0
              nr_foll_pin_acquired 0
              nr_foll_pin_released 0
              nr_kernel_stack 748
              nr_page_table_pages 9
              nr_sec_page_table_pages 0
              nr_swapcached 0
              pgpromote_success 0
              pgpromote_candidate 0
          pages free     3808
                boost    0
                min      190
                low      237
                high     284
                spanned  4095
                present  3998
                managed  3840
                cma      0
                protection: (0, 872, 872, 872, 872)
              nr_free_pages 3808
              nr_zone_inactive_anon 0
              nr_zone_active_anon 0
              nr_zone_inactive_file 0
              nr_zone_active_file 0
              nr_zone_unevictable 0
              nr_zone_write_pending 0
              nr_mlock     0
              nr_bounce    0
              nr_zspages   0
              nr_free_cma  0
              numa_hit     1
              numa_miss    0
              numa_foreign 0
              numa_interleave 1
              numa_local   1
              numa_other   0
          pagesets
            cpu: 0
                      count: 0
                      high:  237
                      batch: 1
          vm stats threshold: 2
          node_unreclaimable:  0
          start_pfn:           1
        Node 0, zone    DMA32
          pages free     216367
                boost    0
                min      11073
                low      13841
                high     16609
                spanned  258016
                present  258016
                managed  225520
                cma      0
                protection: (0, 0, 0, 0, 0)
              nr_free_pages 216367
              nr_zone_inactive_anon 79
              nr_zone_active_anon 420
              nr_zone_inactive_file 0
              nr_zone_active_file 0
              nr_zone_unevictable 0
              nr_zone_write_pending 0
              nr_mlock     0
              nr_bounce    0
              nr_zspages   0
              nr_free_cma  0
              numa_hit     5686
              numa_miss    0
              numa_foreign 0
              numa_interleave 636
              numa_local   5686
              numa_other   0
          pagesets
            cpu: 0
                      count: 2465
                      high:  13841
                      batch: 63
          vm stats threshold: 8
          node_unreclaimable:  0
          start_pfn:           4096
        Node 0, zone   Normal
          pages free     0
                boost    0
                min      0
                low      0
                high     0
                spanned  0
                present  0
                managed  0
                cma      0
                protection: (0, 0, 0, 0, 0)
        Node 0, zone  Movable
          pages free     0
                boost    0
                min      0
                low      0
                high     0
                spanned  0
                present  0
                managed  0
                cma      0
                protection: (0, 0, 0, 0, 0)
        Node 0, zone   Device
          pages free     0
                boost    0
                min      0
                low      0
                high     0
                spanned  0
                present  0
                managed  0
                cma      0
                protection: (0, 0, 0, 0, 0)
        """#

    static let buddyinfo = #"""
        Node 0, zone      DMA      0      0      0      0      0      1      1      1      0      1      3 
        Node 0, zone    DMA32      3      2      2      2      1      2      1      1      2      1    210 
        """#

    static let pagetypeinfo = #"""
        Page block order: 9
        Pages per block:  512

        Free pages count per migrate type at order       0      1      2      3      4      5      6      7      8      9     10 
        Node    0, zone      DMA, type    Unmovable      0      0      0      0      0      1      1      1      0      0      0 
        Node    0, zone      DMA, type      Movable      0      0      0      0      0      0      0      0      0      1      3 
        Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0      0      0      0      0      0 
        Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 
        Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 
        Node    0, zone    DMA32, type    Unmovable      1      0      1      1      0      1      0      1      1      0      0 
        Node    0, zone    DMA32, type      Movable      1      1      1      1      0      1      0      0      0      0    210 
        Node    0, zone    DMA32, type  Reclaimable      1      1      0      0      1      0      1      0      1      1      0 
        Node    0, zone    DMA32, type   HighAtomic      0      0      0      0      0      0      0      0      0      0      0 
        Node    0, zone    DMA32, type      Isolate      0      0      0      0      0      0      0      0      0      0      0 

        Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate 
        Node 0, zone      DMA            1            7            0            0            0 
        Node 0, zone    DMA32           76          422            6            0            0 
        """#

    static let vmstat = #"""
        nr_free_pages 220175
        nr_zone_inactive_anon 79
        nr_zone_active_anon 420
        nr_zone_inactive_file 0
        nr_zone_active_file 0
        nr_zone_unevictable 0
        nr_zone_write_pending 0
        nr_mlock 0
        nr_bounce 0
        nr_zspages 0
        nr_free_cma 0
        numa_hit 5810
        numa_miss 0
        numa_foreign 0
        numa_interleave 637
        numa_local 5810
        numa_other 0
        nr_inactive_anon 79
        nr_active_anon 420
        nr_inactive_file 0
        nr_active_file 0
        nr_unevictable 0
        nr_slab_reclaimable 2189
        nr_slab_unreclaimable 1522
        nr_isolated_anon 0
        nr_isolated_file 0
        workingset_nodes 0
        workingset_refault_anon 0
        workingset_refault_file 0
        workingset_activate_anon 0
        workingset_activate_file 0
        workingset_restore_anon 0
        workingset_restore_file 0
        workingset_nodereclaim 0
        nr_anon_pages 23
        nr_mapped 400
        nr_file_pages 485
        nr_dirty 0
        nr_writeback 0
        nr_writeback_temp 0
        nr_shmem 485
        nr_shmem_hugepages 0
        nr_shmem_pmdmapped 0
        nr_file_hugepages 0
        nr_file_pmdmapped 0
        nr_anon_transparent_hugepages 0
        nr_vmscan_write 0
        nr_vmscan_immediate_reclaim 0
        nr_dirtied 0
        nr_written 0
        nr_throttled_written 0
        nr_kernel_misc_reclaimable 0
        nr_foll_pin_acquired 0
        nr_foll_pin_released 0
        nr_kernel_stack 748
        nr_page_table_pages 9
        nr_sec_page_table_pages 0
        nr_swapcached 0
        pgpromote_success 0
        pgpromote_candidate 0
        nr_dirty_threshold 40472
        nr_dirty_background_threshold 20211
        pgpgin 0
        pgpgout 0
        pswpin 0
        pswpout 0
        pgalloc_dma 32
        pgalloc_dma32 9490
        pgalloc_normal 0
        pgalloc_movable 0
        pgalloc_device 0
        allocstall_dma 0
        allocstall_dma32 0
        allocstall_normal 0
        allocstall_movable 0
        allocstall_device 0
        pgskip_dma 0
        pgskip_dma32 0
        pgskip_normal 0
        pgskip_movable 0
        pgskip_device 0
        pgfree 232161
        pgactivate 369
        pgdeactivate 0
        pglazyfree 0
        pgfault 665
        pgmajfault 0
        pglazyfreed 0
        pgrefill 0
        pgreuse 61
        pgsteal_kswapd 0
        pgsteal_direct 0
        pgdemote_kswapd 0
        pgdemote_direct 0
        pgscan_kswapd 0
        pgscan_direct 0
        pgscan_direct_throttle 0
        pgscan_anon 0
        pgscan_file 0
        pgsteal_anon 0
        pgsteal_file 0
        zone_reclaim_failed 0
        pginodesteal 0
        slabs_scanned 0
        kswapd_inodesteal 0
        kswapd_low_wmark_hit_quickly 0
        kswapd_high_wmark_hit_quickly 0
        pageoutrun 0
        pgrotated 0
        drop_pagecache 0
        drop_slab 0
        oom_kill 0
        numa_pte_updates 0
        numa_huge_pte_updates 0
        numa_hint_faults 0
        numa_hint_faults_local 0
        numa_pages_migrated 0
        pgmigrate_success 0
        pgmigrate_fail 0
        thp_migration_success 0
        thp_migration_fail 0
        thp_migration_split 0
        compact_migrate_scanned 0
        compact_free_scanned 0
        compact_isolated 0
        compact_stall 0
        compact_fail 0
        compact_success 0
        compact_daemon_wake 0
        compact_daemon_migrate_scanned 0
        compact_daemon_free_scanned 0
        htlb_buddy_alloc_success 0
        htlb_buddy_alloc_fail 0
        unevictable_pgs_culled 0
        unevictable_pgs_scanned 0
        unevictable_pgs_rescued 0
        unevictable_pgs_mlocked 0
        unevictable_pgs_munlocked 0
        unevictable_pgs_cleared 0
        unevictable_pgs_stranded 0
        thp_fault_alloc 0
        thp_fault_fallback 0
        thp_fault_fallback_charge 0
        thp_collapse_alloc 0
        thp_collapse_alloc_failed 0
        thp_file_alloc 0
        thp_file_fallback 0
        thp_file_fallback_charge 0
        thp_file_mapped 0
        thp_split_page 0
        thp_split_page_failed 0
        thp_deferred_split_page 0
        thp_split_pmd 0
        thp_scan_exceed_none_pte 0
        thp_scan_exceed_swap_pte 0
        thp_scan_exceed_share_pte 0
        thp_split_pud 0
        thp_zero_page_alloc 0
        thp_zero_page_alloc_failed 0
        thp_swpout 0
        thp_swpout_fallback 0
        balloon_inflate 0
        balloon_deflate 0
        balloon_migrate 0
        swap_ra 0
        swap_ra_hit 0
        ksm_swpin_copy 0
        cow_ksm 0
        zswpin 0
        zswpout 0
        direct_map_level2_splits 0
        direct_map_level3_splits 0
        nr_unstable 0
        """#
}
