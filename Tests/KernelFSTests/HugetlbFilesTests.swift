import SystemPackage
import XCTest

@testable import KernelFS
@testable import MemoryModel

private func bootFS(_ cmdline: String = "", gbpages: Bool = false, memBytes: Int = 1 << 30) throws -> KernelFS {
    var c = MachineConfig(memBytes: memBytes, maxmemBytes: memBytes + (4 << 30), slots: 4)
    c.cmdline = cmdline
    c.gbpages = gbpages
    let m = try Machine.boot(c)
    m.hugetlbInit()
    return KernelFS(machine: m)
}

private func errno(_ body: () throws -> Any) -> Errno? {
    do { _ = try body(); return nil } catch let e as KernelError { return e.errno } catch { return nil }
}

/// Every counter of every hstate and node, to prove a refused write changed nothing.
private func snapshot(_ m: Machine) -> [Int] {
    m.hugetlb.hstates.flatMap { h in
        [
            h.maxHugePages, h.nrHugePages, h.freeHugePages, h.resvHugePages, h.surplusHugePages,
            h.nrOvercommitHugePages, h.demoteOrder
        ]
            + h.nrHugePagesNode + h.freeHugePagesNode + h.surplusHugePagesNode
    } + [m.hugetlb.optimizeVmemmap ? 1 : 0, m.totalFreePages + m.totalPCPPages]
}

final class HugetlbFilesTests: XCTestCase {
    let sys2M = "/sys/kernel/mm/hugepages/hugepages-2048kB/"

    /// hugetlb_optimize_vmemmap is registered only while an hstate is optimizable: with a
    /// profile that has no HVO sysctl it is neither listed nor found, by name as by listing;
    /// the pool's sysctls are there either way.
    func testOptimizeSysctlOnlyWhenOptimizable() throws {
        let fs = try bootFS()
        try fs.machine.setVmemmapProfile(.linux514)
        XCTAssertFalse(try fs.list("/proc/sys/vm").contains("hugetlb_optimize_vmemmap"))
        XCTAssertEqual(errno { try fs.read("/proc/sys/vm/hugetlb_optimize_vmemmap") }, .noSuchFileOrDirectory)
        XCTAssertEqual(errno { try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", "1") }, .noSuchFileOrDirectory)
        XCTAssertEqual(try fs.write("/proc/sys/vm/nr_hugepages_mempolicy", "2\n"), 2)
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "2\n")
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_overcommit_hugepages"), "0\n")
    }

    func testTreeAsSixOneHasIt() throws {
        let fs = try bootFS()
        XCTAssertEqual(try fs.list("/sys/kernel/mm/hugepages"), ["hugepages-2048kB"])
        XCTAssertEqual(
            try fs.list(sys2M),
            [
                "free_hugepages", "nr_hugepages", "nr_hugepages_mempolicy",
                "nr_overcommit_hugepages", "resv_hugepages", "surplus_hugepages"
            ])
        XCTAssertEqual(
            try fs.list("/sys/devices/system/node/node0/hugepages/hugepages-2048kB"),
            ["free_hugepages", "nr_hugepages", "surplus_hugepages"])
        XCTAssertTrue(try fs.list("/sys/devices/system/node/node0").contains("hugepages"))
        let vm = try fs.list("/proc/sys/vm")
        for f in ["nr_hugepages", "nr_hugepages_mempolicy", "nr_overcommit_hugepages", "hugetlb_optimize_vmemmap"] {
            XCTAssertTrue(vm.contains(f), f)
        }
        XCTAssertEqual(try fs.read("/proc/sys/vm/hugetlb_optimize_vmemmap"), "0\n")
        XCTAssertTrue(fs.machine.kmsg.contains("HugeTLB: 28 KiB vmemmap can be freed for a 2.00 MiB page"))
        XCTAssertEqual(errno { try fs.write(self.sys2M + "free_hugepages", "1") }, .permissionDenied)
    }

    /// /proc/sys/vm/nr_hugepages prints max_huge_pages with %lu: after 6.1's dissolve took it
    /// below zero (HVOFailureCaseTests builds that state by hand) it reads 2^64 - 117. A write
    /// at an offset (ignored by sysctl_writes_strict, so no value) stores that value back
    /// (hugetlb_sysctl_handler_common starts from max_huge_pages) instead of trapping: the
    /// same as writing 18446744073709551499.
    func testNrHugepagesSysctlPrintsMaxHugePagesAsUnsignedLong() throws {
        let fs = try bootFS()
        fs.machine.hugetlb.hstates[0].maxHugePages = -117
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "18446744073709551499\n")
        XCTAssertEqual(
            try fs.write("/proc/sys/vm/nr_hugepages", Array("7\n".utf8), context: WriteContext(position: 1)), 2)
        let twin = try bootFS()
        XCTAssertEqual(try twin.write("/proc/sys/vm/nr_hugepages", "18446744073709551499\n"), 21)
        XCTAssertGreaterThan(fs.machine.hugetlb.hstates[0].nrHugePages, 0)
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), try twin.read(sys2M + "nr_hugepages"))
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), try twin.read("/proc/sys/vm/nr_hugepages"))
        try fs.machine.verify()
    }

    func testGigantic1GHstateHasDemoteFiles() throws {
        let fs = try bootFS("hugepagesz=1G hugepages=0", gbpages: true)
        let g = "/sys/kernel/mm/hugepages/hugepages-1048576kB/"
        XCTAssertEqual(try fs.list("/sys/kernel/mm/hugepages"), ["hugepages-1048576kB", "hugepages-2048kB"])
        XCTAssertTrue(try fs.list(g).contains("demote"))
        XCTAssertEqual(try fs.read(g + "demote_size"), "2048kB\n")
        XCTAssertFalse(try fs.list(sys2M).contains("demote"))
        XCTAssertTrue(
            try fs.list("/sys/devices/system/node/node0/hugepages/hugepages-1048576kB").contains("demote_size"))
        XCTAssertEqual(errno { try fs.write(g + "nr_overcommit_hugepages", "1") }, .invalidArgument)
        XCTAssertEqual(errno { try fs.write(g + "demote_size", "foo") }, .invalidArgument)
        XCTAssertEqual(errno { try fs.write(g + "demote_size", "1G") }, .invalidArgument)
        XCTAssertEqual(try fs.write(g + "demote_size", "2M\n"), 3)
        XCTAssertTrue(fs.machine.kmsg.contains("HugeTLB: 16380 KiB vmemmap can be freed for a 1.00 GiB page"))
    }

    func testGiganticRuntimeAllocationAndDemote() throws {
        let fs = try bootFS("hugepagesz=1G hugepages=0", gbpages: true, memBytes: 6 << 30)
        let m = fs.machine
        try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", "1")
        let g = "/sys/kernel/mm/hugepages/hugepages-1048576kB/"
        _ = try fs.lookup(g + "nr_hugepages")  // its first-time lookup's slab before the count
        let before = m.totalFreePages + m.totalPCPPages
        try fs.write(g + "nr_hugepages", "1")
        XCTAssertEqual(try fs.read(g + "nr_hugepages"), "1\n")
        let gi = m.hugetlb.index(ofSizeBytes: 1 << 30)!
        let head = try XCTUnwrap(m.hugetlb.hstates[gi].freeLists[0].first.map { Int($0) })
        // GFP_HIGHUSER: never ZONE_MOVABLE; the capture's cost 258049 = 262144 - 4095.
        XCTAssertNotEqual(m.zones[m.zoneIndex(ofPFN: head)!].type, .movable)
        XCTAssertEqual(before - (m.totalFreePages + m.totalPCPPages), 262144 - 4095 + 8)  // + 8 PMD splits
        try m.verify()
        try fs.write(g + "demote", "1")
        XCTAssertEqual(try fs.read(g + "nr_hugepages"), "0\n")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "512\n")
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "512\n")
        try m.verify()
        try fs.write("/proc/sys/vm/nr_hugepages", "0")
        try m.verify()
    }

    func testSysctlShowsTargetSysfsShowsTotal() throws {
        let fs = try bootFS()
        XCTAssertEqual(try fs.write("/proc/sys/vm/nr_hugepages", "10\n"), 3)
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "10\n")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "10\n")
        XCTAssertEqual(try fs.read(sys2M + "free_hugepages"), "10\n")
        XCTAssertEqual(try fs.read("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"), "10\n")
        // A mapping that reserves 4 and faults 2.
        let m = fs.machine
        let id = try m.mmapHugePages(name: "app", count: 4)
        try m.faultHugePages(mapping: id, range: 0..<2)
        XCTAssertEqual(try fs.read(sys2M + "resv_hugepages"), "2\n")
        XCTAssertEqual(try fs.read(sys2M + "free_hugepages"), "8\n")
        // Shrinking below what is in use turns in-use pages into surplus: the two reads differ.
        try fs.write("/proc/sys/vm/nr_hugepages", "0")
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "0\n")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "4\n")  // 2 in use + 2 reserved
        XCTAssertEqual(try fs.read(sys2M + "surplus_hugepages"), "4\n")
        XCTAssertEqual(m.hugetlbMeminfo().lines[0], "HugePages_Total:       4")
        XCTAssertEqual(m.hugetlbMeminfo().lines[4], "Hugepagesize:       2048 kB")
        XCTAssertEqual(m.hugetlbMeminfo().lines[5], "Hugetlb:            8192 kB")
        m.munmapHugePages(mapping: id)
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "0\n")
        try m.verify()
        // Partial sysctl write: "1 2" consumes 2 bytes and stores 1; base 0 on the sysctl, base 10 on sysfs.
        XCTAssertEqual(try fs.write("/proc/sys/vm/nr_hugepages", "1 2"), 2)
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "1\n")
        try fs.write("/proc/sys/vm/nr_hugepages", "0x3")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "3\n")
        try fs.write(sys2M + "nr_hugepages", "010")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "10\n")
        XCTAssertEqual(errno { try fs.write(self.sys2M + "nr_hugepages", "0x10") }, .invalidArgument)
        try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", "2")
        XCTAssertEqual(try fs.read("/proc/sys/vm/hugetlb_optimize_vmemmap"), "1\n")
    }

    func testMalformedWritesChangeNothing() throws {
        let fs = try bootFS()
        try fs.write("/proc/sys/vm/nr_hugepages", "5")
        let m = fs.machine
        let overflow = "18446744073709551616"
        let node0 = "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
        // (path, input, expected errno; nil = accepted with 0 bytes and no effect)
        let sysfsCounters = [
            sys2M + "nr_hugepages", sys2M + "nr_hugepages_mempolicy", sys2M + "nr_overcommit_hugepages", node0
        ]
        let sysctlCounters = [
            "/proc/sys/vm/nr_hugepages", "/proc/sys/vm/nr_hugepages_mempolicy", "/proc/sys/vm/nr_overcommit_hugepages"
        ]
        var cases: [(String, String, Errno?)] = []
        for p in sysfsCounters {
            cases += [
                (p, "-1", .invalidArgument), (p, "foo", .invalidArgument), (p, overflow, .outOfRange),
                (p, " ", .invalidArgument), (p, "\n", .invalidArgument), (p, " 3", .invalidArgument),
                (p, "3 ", .invalidArgument), (p, "", nil)
            ]
        }
        for p in sysctlCounters {
            cases += [
                (p, "-1", .invalidArgument), (p, "foo", .invalidArgument), (p, overflow, .invalidArgument),
                (p, " ", .invalidArgument), (p, "\n", .invalidArgument), (p, "-0", .invalidArgument), (p, "", nil)
            ]
        }
        let opt = "/proc/sys/vm/hugetlb_optimize_vmemmap"
        cases += [
            (opt, "foo", .invalidArgument), (opt, overflow, .invalidArgument), (opt, " ", .invalidArgument),
            (opt, "y", .invalidArgument), (opt, "", nil)
        ]
        for (path, input, expected) in cases {
            _ = try? fs.lookup(path)  // the path walk's first-time slab is not the write's doing
            let before = snapshot(m)
            if let expected {
                XCTAssertEqual(errno { try fs.write(path, input) }, expected, "\(path) <- \(input.debugDescription)")
            } else {
                XCTAssertEqual(try fs.write(path, input), 0, "\(path) <- empty")
            }
            XCTAssertEqual(snapshot(m), before, "\(path) <- \(input.debugDescription) changed state")
        }
        try m.verify()
    }

    /// Seed case 1 through the files, as capture f read them.
    func testCase1ThroughTheFiles() throws {
        let fs = try bootFS("movablecore=512M")
        let m = fs.machine
        try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", "1")
        try fs.write("/proc/sys/vm/nr_hugepages", "128")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "128\n")
        // Kernel memory of the only node exhausted but for 11 restores (pcp off: exact margin).
        for t in [ZoneType.dma, .dma32, .normal] {
            let z = m.zoneIndex(node: 0, type: t); m.drainPCP(zone: z); m.zones[z].pcp.high = 0;
            m.zones[z].pcp.batch = 1
        }
        let id = try m.createOwner(name: "filler", kind: .ramfs, node: 0, bound: true, gfp: [.highuser, .nowarn])
        m.allocate(owner: id, blocks: 1 << 30)
        m.release(owner: id, blocks: 77)
        XCTAssertEqual(try fs.write("/proc/sys/vm/nr_hugepages", "64\n"), 3)
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "64\n")
        XCTAssertEqual(try fs.read(sys2M + "nr_hugepages"), "117\n")
        XCTAssertEqual(try fs.read(sys2M + "surplus_hugepages"), "53\n")
        XCTAssertEqual(try fs.read(sys2M + "nr_overcommit_hugepages"), "0\n")
        XCTAssertEqual(m.hugetlbMeminfo().lines[3], "HugePages_Surp:       53")
        try m.verify()
    }
}
