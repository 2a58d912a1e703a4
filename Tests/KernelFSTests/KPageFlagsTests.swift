import SystemPackage
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// /proc/kpageflags (fs/proc/page.c of 6.1): one little-endian u64 per pfn up to max_pfn
/// rounded up to a section; whole words only.
final class KPageFlagsTests: XCTestCase {
    let path = "/proc/kpageflags"

    /// The a-baseline machine (1 GiB, maxmem 4 GiB), with a 512 MiB DIMM when `dimm`.
    func boot(dimm: Bool) throws -> KernelFS {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: dimm ? [DIMMConfig(id: "d1", sizeBytes: 512 << 20)] : []))
        if dimm, let d = m.layout?.dimms.first, m.blocks[d.start / (m.blockPages << 12)] == nil {
            try m.acpiColdPlugDIMMs()
        }
        return KernelFS(machine: m)
    }

    func words(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count, by: 8).map { i in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) }
        }
    }

    func errno(_ body: () throws -> Any) -> Errno? {
        do { _ = try body(); return nil } catch let e as KernelError { return e.errno } catch { return nil }
    }

    func testFileModeAndWrongReads() throws {
        let fs = try boot(dimm: false)
        guard case .file(let f) = try fs.lookup(path) else { return XCTFail("no file") }
        XCTAssertEqual(f.mode, 0o400)  // proc_create(..., S_IRUSR, ...)
        // Offsets and counts not a multiple of 8: EINVAL (src & KPMMASK || count & KPMMASK).
        XCTAssertEqual(errno { try fs.readBytes(self.path, offset: 4, count: 8) }, .invalidArgument)
        XCTAssertEqual(errno { try fs.readBytes(self.path, offset: 8, count: 12) }, .invalidArgument)
        XCTAssertEqual(errno { try fs.readBytes(self.path, offset: -8, count: 8) }, .invalidArgument)
        // ... even at or past the end, the alignment check comes first.
        XCTAssertEqual(errno { try fs.readBytes(self.path, offset: (1 << 30) + 1, count: 8) }, .invalidArgument)
        XCTAssertEqual(try fs.readBytes(path, offset: 0, count: 0), [])
        // Not a text file: a whole-file text read has nothing to show.
        XCTAssertEqual(errno { try fs.read(self.path) }, .permissionDenied)
        XCTAssertEqual(errno { try fs.readBytes("/proc/kpagecount", offset: 0, count: 8) }, .noSuchFileOrDirectory)
        XCTAssertEqual(errno { try fs.readBytes("/proc", offset: 0, count: 8) }, .isDirectory)
        XCTAssertEqual(errno { try fs.readBytes("/proc/meminfo", offset: -1, count: 8) }, .invalidArgument)
        XCTAssertEqual(errno { try fs.readBytes("/proc/meminfo", offset: 0, count: -1) }, .invalidArgument)
        // pfns without a memmap, or outside the machine: KPF_NOPAGE only.
        XCTAssertEqual(fs.machine.kpageflags(-1), 1 << 20)
        XCTAssertEqual(fs.machine.kpageflags(1 << 40), 1 << 20)
    }

    func testEndIsMaxPFNRoundedToASectionAndRaisedByHotAdd() throws {
        let small = try boot(dimm: false)
        let end = 0x40000  // 1 GiB of boot RAM: max_pfn 0x40000, section aligned
        XCTAssertEqual(small.machine.kpageflagsEndPFN, end)
        XCTAssertEqual(try small.readBytes(path, offset: end * 8, count: 64), [])
        XCTAssertEqual(try small.readBytes(path, offset: end * 8 + 4096, count: 64), [])
        XCTAssertEqual(try small.readBytes(path, offset: (end - 2) * 8, count: 64).count, 16)  // cut at the end
        // The DIMM sits at 4 GiB: max_pfn becomes its end (0x120000).
        let big = try boot(dimm: true)
        XCTAssertEqual(big.machine.kpageflagsEndPFN, 0x120000)
        // Between boot RAM and the DIMM nothing has a memmap.
        let hole = words(try big.readBytes(path, offset: 0x80000 * 8, count: 4096))
        XCTAssertEqual(hole.count, 512)
        XCTAssertTrue(hole.allSatisfy { $0 == 1 << 20 })  // KPF_NOPAGE
    }

    func testOfflineBlockIsNoPageAndOnlinedBlockIsFreeBuddy() throws {
        let fs = try boot(dimm: true)
        let block = 33, bs = 32768
        func blockWords() throws -> [UInt64] { words(try fs.readBytes(path, offset: block * bs * 8, count: bs * 8)) }
        XCTAssertEqual(try blockWords().filter { $0 == 1 << 20 }.count, bs)  // offline: pfn_to_online_page is NULL
        try fs.write("/sys/devices/system/memory/memory33/state", "online_movable\n")
        // A freshly onlined block is free: every page of its buddy blocks shows KPF_BUDDY.
        XCTAssertEqual(try blockWords().filter { $0 == 1 << 10 }.count, bs)
    }

    /// Whole-machine invariants: KPF_BUDDY pages are exactly NR_FREE_PAGES (the per-cpu
    /// lists' pages are not in the buddy); KPF_HUGE pages are 512 per 2 MiB page, one of
    /// them the compound head.
    func testBuddyAndHugeCountsMatchTheCounters() throws {
        let fs = try boot(dimm: false)
        try fs.write("/proc/sys/vm/nr_hugepages", "10\n")
        let end = fs.machine.kpageflagsEndPFN
        let all = words(try fs.readBytes(path, offset: 0, count: end * 8))
        XCTAssertEqual(all.count, end)
        let buddy = all.filter { $0 & (1 << 10) != 0 }.count
        XCTAssertEqual(buddy, fs.machine.totalFreePages)
        XCTAssertEqual(all.filter { $0 & (1 << 17) != 0 }.count, 10 * 512)
        XCTAssertEqual(all.filter { $0 & (1 << 17) != 0 && $0 & (1 << 15) != 0 }.count, 10)
        XCTAssertEqual(all.filter { $0 & (1 << 17) != 0 && $0 & (1 << 16) != 0 }.count, 10 * 511)
        // Text files read through the same call are sliced.
        XCTAssertEqual(
            String(decoding: try fs.readBytes("/proc/meminfo", offset: 0, count: 9), as: UTF8.self), "MemTotal:")
        XCTAssertEqual(try fs.readBytes("/proc/meminfo", offset: 1 << 20, count: 9), [])
    }
}
