import SystemPackage
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// The captured scenarios b-hotadd-dimms and c-movablecore (Linux 6.1.192 under QEMU),
/// replayed step by step through the file interface, plus every malformed write.
final class MemorySysfsTests: XCTestCase {
    static let mem = "/sys/devices/system/memory"

    /// A booted machine as the captures' QEMU command lines describe it, with its
    /// cold-plugged DIMMs added through ACPI.
    func boot(_ config: MachineConfig) throws -> (Machine, KernelFS) {
        let m = try Machine.boot(config)
        if let d = m.layout?.dimms.first, m.blocks[d.start / (m.blockPages << 12)] == nil { try m.acpiColdPlugDIMMs() }
        return (m, KernelFS(machine: m))
    }

    /// `echo VALUE > PATH` (newline) or `printf %s VALUE > PATH`: nil on success, else the errno.
    @discardableResult
    func w(_ fs: KernelFS, _ path: String, _ value: String, newline: Bool = true, deadline: UInt64? = nil) -> Errno? {
        do {
            try fs.write(path, value + (newline ? "\n" : ""), context: WriteContext(deadline: deadline))
            return nil
        } catch let e as KernelError {
            return e.errno
        } catch {
            XCTFail("unexpected \(error)"); return nil
        }
    }

    func block(_ fs: KernelFS, _ id: Int, file: StaticString = #filePath, line: UInt = #line) -> String {
        let state = (try? fs.read("\(Self.mem)/memory\(id)/state")) ?? "?"
        let zones = (try? fs.read("\(Self.mem)/memory\(id)/valid_zones")) ?? "?"
        return state.dropLast() + " " + zones.dropLast()
    }

    func assertBlocks(_ fs: KernelFS, _ expected: [Int: String], file: StaticString = #filePath, line: UInt = #line) {
        for (id, want) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(block(fs, id), want, "memory\(id)", file: file, line: line)
        }
    }

    /// start_pfn, spanned, present, managed of a zone (start 0 when it spans nothing).
    func span(_ m: Machine, _ t: ZoneType, node: Int = 0) -> [Int] {
        let z = m.zone(node: node, type: t)
        return [z.startPFN, z.spannedPages, z.presentPages, z.managedPages]
    }

    // MARK: b-hotadd-dimms

    func testCaptureB_HotAddDIMMs() throws {
        let (m, fs) = try boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 512 << 20), DIMMConfig(id: "dimm2", sizeBytes: 512 << 20)]))
        let mem = Self.mem
        XCTAssertEqual(try fs.read("\(mem)/block_size_bytes"), "8000000\n")
        XCTAssertEqual(try fs.read("\(mem)/auto_online_blocks"), "offline\n")
        XCTAssertEqual(try fs.read("/sys/module/memory_hotplug/parameters/online_policy"), "contig-zones\n")
        XCTAssertEqual(try fs.read("/sys/module/memory_hotplug/parameters/auto_movable_ratio"), "301\n")
        XCTAssertEqual(try fs.read("/sys/module/memory_hotplug/parameters/auto_movable_numa_aware"), "Y\n")
        XCTAssertEqual(try fs.read("/sys/module/memory_hotplug/parameters/memmap_on_memory"), "N\n")
        XCTAssertEqual(try fs.list(mem).filter { $0.hasPrefix("memory") }.count, 16)
        var boot: [Int: String] = [0: "online none"]
        for i in 1...7 { boot[i] = "online DMA32" }
        for i in 32...39 { boot[i] = "offline Normal Movable" }
        assertBlocks(fs, boot)
        XCTAssertEqual(try fs.read("\(mem)/memory32/phys_index"), "00000020\n")
        XCTAssertEqual(try fs.read("\(mem)/memory32/removable"), "1\n")
        XCTAssertEqual(try fs.read("\(mem)/memory32/phys_device"), "0\n")
        XCTAssertEqual(try fs.resolve("\(mem)/memory32/node0"), "/sys/devices/system/node/node0")
        try m.verify()

        // online-each-way
        XCTAssertNil(w(fs, "\(mem)/memory32/state", "online_movable"))
        assertBlocks(
            fs,
            [
                32: "online Movable", 33: "offline Normal Movable", 34: "offline Normal Movable",
                35: "offline Normal Movable"
            ])
        XCTAssertNil(w(fs, "\(mem)/memory33/state", "online_kernel"))
        assertBlocks(fs, [32: "online Movable", 33: "online Normal", 34: "offline Normal Movable"])
        XCTAssertNil(w(fs, "\(mem)/memory34/state", "online"))
        assertBlocks(
            fs,
            [
                32: "online Movable", 33: "online Normal", 34: "online Normal", 35: "offline Normal Movable",
                36: "offline Normal Movable"
            ])
        XCTAssertEqual(span(m, .normal), [1081344, 65536, 65536, 65536])
        XCTAssertEqual(span(m, .movable), [1048576, 32768, 32768, 32768])
        try m.verify()

        // invalid-strings
        for bad in ["foo", "", "ONLINE", "online_movable "] {
            XCTAssertEqual(w(fs, "\(mem)/memory35/state", bad), .invalidArgument, bad)
        }
        XCTAssertNil(w(fs, "\(mem)/memory35/state", "online_movable", newline: false))
        assertBlocks(fs, [35: "online Movable"])
        XCTAssertNil(w(fs, "\(mem)/memory35/state", "offline"))
        XCTAssertEqual(w(fs, "\(mem)/memory35/state", "offline"), .invalidArgument)

        // re-online-an-online-block
        for (b, v) in [
            (32, "online"), (32, "online_movable"), (32, "online_kernel"), (33, "online_movable"), (0, "online")
        ] {
            XCTAssertEqual(w(fs, "\(mem)/memory\(b)/state", v), .invalidArgument)
        }
        assertBlocks(fs, [32: "online Movable", 33: "online Normal", 34: "online Normal", 35: "offline Normal Movable"])

        // online-attribute
        XCTAssertEqual(try fs.read("\(mem)/memory36/online"), "0\n")
        XCTAssertEqual(w(fs, "\(mem)/memory36/online", "2"), .invalidArgument)
        XCTAssertNil(w(fs, "\(mem)/memory36/online", "1"))
        assertBlocks(fs, [36: "online Normal"])
        XCTAssertNil(w(fs, "\(mem)/memory36/online", "1"))
        XCTAssertNil(w(fs, "\(mem)/memory36/online", "0"))
        XCTAssertNil(w(fs, "\(mem)/memory36/online", "0"))
        assertBlocks(fs, [36: "offline Normal Movable"])
        XCTAssertNil(w(fs, "\(mem)/memory36/online", "y"))
        assertBlocks(fs, [36: "online Normal"])

        // offline-and-reonline-other-zone
        XCTAssertNil(w(fs, "\(mem)/memory34/state", "offline", deadline: m.clock + 60_000_000_000))
        XCTAssertNil(w(fs, "\(mem)/memory32/state", "offline", deadline: m.clock + 60_000_000_000))
        assertBlocks(fs, [32: "offline Normal Movable", 33: "online Normal", 34: "offline Normal Movable"])
        XCTAssertNil(w(fs, "\(mem)/memory32/state", "online_kernel"))
        XCTAssertNil(w(fs, "\(mem)/memory34/state", "online_movable"))
        assertBlocks(
            fs,
            [
                32: "online Normal", 33: "online Normal", 34: "online Movable", 35: "offline Normal Movable",
                36: "online Normal", 37: "offline Normal Movable"
            ])
        XCTAssertEqual(span(m, .normal), [1048576, 163840, 98304, 98304])
        XCTAssertEqual(span(m, .movable), [1114112, 32768, 32768, 32768])
        try m.verify()

        // auto-online-blocks
        XCTAssertEqual(w(fs, "\(mem)/auto_online_blocks", "foo"), .invalidArgument)
        XCTAssertNil(w(fs, "\(mem)/auto_online_blocks", "online_kernel"))
        XCTAssertEqual(try fs.read("\(mem)/auto_online_blocks"), "online_kernel\n")
        XCTAssertNil(w(fs, "\(mem)/auto_online_blocks", "online_movable"))
        XCTAssertEqual(try fs.read("\(mem)/auto_online_blocks"), "online_movable\n")

        // runtime-hot-add-dimm3
        let uevents = m.hotplug.uevents.count
        XCTAssertEqual(try m.hotAddDIMM(id: "dimm3", sizeBytes: 512 << 20), [40, 41, 42, 43])
        XCTAssertEqual(
            m.hotplug.uevents[uevents...].map { "\($0.action.rawValue) \($0.devpath.split(separator: "/").last!)" },
            [
                "add memory40", "add memory41", "add memory42", "add memory43",
                "online memory40", "online memory41", "online memory42", "online memory43"
            ])
        XCTAssertEqual(m.drivers.ostEvents.last?.status, 0)
        var after: [Int: String] = [
            32: "online Normal", 33: "online Normal", 34: "online Movable", 35: "offline Normal Movable",
            36: "online Normal", 37: "offline Movable Normal", 38: "offline Movable Normal",
            39: "offline Movable Normal"
        ]
        for i in 40...43 { after[i] = "online Movable" }
        assertBlocks(fs, after)
        XCTAssertEqual(try fs.list(mem).filter { $0.hasPrefix("memory") }.count, 20)
        XCTAssertEqual(span(m, .normal), [1048576, 163840, 98304, 98304])
        XCTAssertEqual(span(m, .movable), [1114112, 327680, 163840, 163840])
        try m.verify()

        // hot-remove-dimm3-online-movable
        try m.acpiEjectDIMM(id: "dimm3")
        XCTAssertEqual(m.drivers.ostEvents.suffix(2).map(\.status), [0x84, 0])
        XCTAssertThrowsError(try fs.read("\(mem)/memory43/state"))
        XCTAssertEqual(try fs.list(mem).filter { $0.hasPrefix("memory") }.count, 16)
        for i in 37...39 { after[i] = "offline Normal Movable" }
        for i in 40...43 { after[i] = nil }
        assertBlocks(fs, after)
        XCTAssertEqual(span(m, .movable), [1114112, 32768, 32768, 32768])
        try m.verify()

        // hot-remove-dimm1-with-kernel-blocks: memory33 holds kernel memory; the eject is
        // refused and memory34, offlined by the first pass, comes back in the default zone.
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "dimm1")) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .resourceBusy)
        }
        XCTAssertEqual(m.drivers.ostEvents.suffix(2).map(\.status), [0x84, 0x82])
        XCTAssertTrue(m.kmsg.contains("memory memory33: Offline failed."))
        XCTAssertTrue(
            m.explain.entries.contains {
                $0.message == "memory offlining [mem 0x108000000-0x10fffffff] failed due to failure to isolate range"
            })
        after[34] = "online Normal"
        assertBlocks(fs, after)
        XCTAssertEqual(span(m, .normal), [1048576, 163840, 131072, 131072])
        XCTAssertEqual(span(m, .movable), [0, 0, 0, 0])
        try m.verify()
    }

    // MARK: c-movablecore

    func testCaptureC_Movablecore() throws {
        let (m, fs) = try boot(
            MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, cmdline: "movablecore=256M"))
        let mem = Self.mem
        let t30: UInt64 = 30_000_000_000
        var expect: [Int: String] = [0: "online none", 6: "online Movable", 7: "online Movable"]
        for i in 1...5 { expect[i] = "online DMA32" }
        assertBlocks(fs, expect)
        XCTAssertEqual(span(m, .dma32), [4096, 192512, 192512, 181194])
        XCTAssertEqual(span(m, .movable), [196608, 65504, 65504, 44326])

        // offline-movable-blocks
        XCTAssertEqual(w(fs, "\(mem)/memory7/state", "offline", deadline: m.clock + t30), .invalidArgument)
        XCTAssertEqual(
            m.explain.entries.last { $0.message.hasPrefix("memory offlining") }?.message,
            "memory offlining [mem 0x38000000-0x3fffffff] failed due to memory holes")
        XCTAssertNil(w(fs, "\(mem)/memory6/state", "offline", deadline: m.clock + t30))
        assertBlocks(fs, [5: "online DMA32", 6: "offline Normal Movable", 7: "online Movable"])
        XCTAssertEqual(span(m, .movable), [229376, 32736, 32736, 11558])
        try m.verify()

        // reonline-block6-as-kernel
        XCTAssertNil(w(fs, "\(mem)/memory6/state", "online_kernel"))
        assertBlocks(fs, [5: "online DMA32", 6: "online Normal", 7: "online Movable"])
        XCTAssertEqual(span(m, .normal), [196608, 32768, 32768, 32768])
        // The capture's `dump blocks:5-7 zones`: its /proc/zoneinfo read grows the seq_file
        // buffer past a page, the kernel's slab page that makes the offline EBUSY.
        _ = try fs.read("/proc/zoneinfo")
        XCTAssertEqual(w(fs, "\(mem)/memory6/state", "offline", deadline: m.clock + t30), .resourceBusy)
        XCTAssertTrue(
            m.kmsg.contains(
                "page:(____ptrval____) refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x30000"))
        XCTAssertEqual(w(fs, "\(mem)/memory6/state", "online_movable"), .invalidArgument)
        assertBlocks(fs, [5: "online DMA32", 6: "online Normal", 7: "online Movable"])
        try m.verify()

        // offline-kernel-blocks: with nokaslr (c-movablecore.kernel.txt) the kernel's boot
        // allocations sit in block 0, right above the image at 16 MiB (deferred struct page
        // init + FPI_TO_TAIL), so every other DMA32 block offlines and DMA32 shrinks to block 0.
        XCTAssertEqual(w(fs, "\(mem)/memory0/state", "offline", deadline: m.clock + t30), .invalidArgument)
        for i in 1...5 {
            XCTAssertNil(w(fs, "\(mem)/memory\(i)/state", "offline", deadline: m.clock + t30), "memory\(i)")
        }
        expect = [0: "online none", 6: "online Normal", 7: "online Movable"]
        for i in 1...5 { expect[i] = "offline Normal Movable" }
        assertBlocks(fs, expect)
        XCTAssertEqual(span(m, .dma32), [4096, 28672, 28672, 17354])
        XCTAssertEqual(span(m, .normal), [196608, 32768, 32768, 32768])
        XCTAssertEqual(span(m, .movable), [229376, 32736, 32736, 11558])
        try m.verify()

        // reonline-dma32-block-as-movable
        XCTAssertNil(w(fs, "\(mem)/memory1/state", "online_movable"))
        assertBlocks(fs, [1: "online Movable", 2: "offline Movable Normal", 3: "offline Movable Normal"])
        XCTAssertEqual(span(m, .movable), [32768, 229344, 65504, 44326])
        XCTAssertNil(w(fs, "\(mem)/memory2/state", "online"))
        assertBlocks(fs, [1: "online Movable", 2: "online Movable", 3: "offline Movable Normal"])
        XCTAssertNil(w(fs, "\(mem)/memory3/state", "online_kernel"))
        assertBlocks(fs, [1: "online Movable", 2: "online Movable", 3: "online Normal"])
        XCTAssertEqual(span(m, .dma32), [4096, 28672, 28672, 17354])
        XCTAssertEqual(span(m, .normal), [98304, 131072, 65536, 65536])
        XCTAssertEqual(span(m, .movable), [32768, 229344, 98272, 77094])
        try m.verify()

        // offline-again-after-churn
        let results = (1...7).map { w(fs, "\(mem)/memory\($0)/state", "offline", deadline: m.clock + t30) }
        XCTAssertEqual(results, [nil, nil, nil, .invalidArgument, .invalidArgument, .resourceBusy, .invalidArgument])
        expect = [0: "online none", 6: "online Normal", 7: "online Movable"]
        for i in 1...5 { expect[i] = "offline Normal Movable" }
        assertBlocks(fs, expect)
        XCTAssertEqual(span(m, .movable), [229376, 32736, 32736, 11558])
        try m.verify()
    }

    // MARK: Malformed writes

    func testEveryFileRefusesMalformedValuesWithoutStateChange() throws {
        let (m, fs) = try boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 256 << 20)]))
        let mem = Self.mem
        try fs.write("\(mem)/memory33/state", "online_movable\n")
        func snapshot() -> String {
            m.blocks.keys.sorted().map { "\($0):\(m.blocks[$0]!.state.name):\(m.validZones(block: $0)!)" }.joined(
                separator: ",")
                + "|\(m.params.autoOnline)|\(m.params.onlinePolicy)|\(m.params.autoMovableRatio)|\(m.params.autoMovableNumaAware)"
        }
        func expectErr(_ path: String, _ bytes: [UInt8], _ errno: Errno, line: UInt = #line) {
            let before = snapshot()
            XCTAssertThrowsError(try fs.write(path, bytes), "\(path) \(bytes.prefix(20))", line: line) {
                XCTAssertEqual(
                    ($0 as? KernelError)?.errno, errno, "\(path) \(String(decoding: bytes.prefix(20), as: UTF8.self))",
                    line: line)
            }
            XCTAssertEqual(snapshot(), before, path, line: line)
        }
        let junk: [[UInt8]] = [
            Array("\n".utf8), Array(" ".utf8), Array(" online\n".utf8), Array("Online\n".utf8),
            Array("online \n".utf8), Array("online\n\n".utf8), Array("-1\n".utf8),
            Array("99999999999999999999999\n".utf8), [0xff, 0xfe, 0x00, 0x01], Array("\0online".utf8),
            Array(repeating: UInt8(ascii: "a"), count: 5000)
        ]
        for path in [
            "\(mem)/memory32/state", "\(mem)/memory33/state", "\(mem)/auto_online_blocks",
            "/sys/module/memory_hotplug/parameters/online_policy"
        ] {
            for j in junk { expectErr(path, j, .invalidArgument) }
        }
        // kstrtobool: only the first character counts.
        for j in [
            Array("2\n".utf8), Array("x".utf8), Array("o\n".utf8), Array("oz".utf8), Array(" 1".utf8), [0xff],
            Array("\0 1".utf8)
        ] {
            expectErr("\(mem)/memory32/online", j, .invalidArgument)
            expectErr("/sys/module/memory_hotplug/parameters/auto_movable_numa_aware", j, .invalidArgument)
        }
        // kstrtouint base 0.
        for (j, e) in [
            ("-1", Errno.invalidArgument), ("abc", .invalidArgument), (" 5", .invalidArgument),
            ("5 ", .invalidArgument),
            ("4294967296", .outOfRange), ("99999999999999999999", .outOfRange), ("0x", .invalidArgument),
            ("", .invalidArgument)
        ] {
            expectErr("/sys/module/memory_hotplug/parameters/auto_movable_ratio", Array((j + "\n").utf8), e)
        }
        XCTAssertEqual(try fs.write("/sys/module/memory_hotplug/parameters/auto_movable_ratio", "0x10\n"), 5)
        XCTAssertEqual(m.params.autoMovableRatio, 16)
        XCTAssertEqual(try fs.write("/sys/module/memory_hotplug/parameters/auto_movable_ratio", "010"), 3)
        XCTAssertEqual(m.params.autoMovableRatio, 8)
        // Read-only files: EACCES on open for writing, whatever the value.
        for path in [
            "\(mem)/block_size_bytes", "\(mem)/memory32/phys_index", "\(mem)/memory32/valid_zones",
            "\(mem)/memory32/removable",
            "\(mem)/memory32/phys_device", "/sys/module/memory_hotplug/parameters/memmap_on_memory"
        ] {
            expectErr(path, Array("1\n".utf8), .permissionDenied)
        }
        // Nonexistent blocks.
        expectErr("\(mem)/memory31/state", Array("online\n".utf8), .noSuchFileOrDirectory)
        expectErr("\(mem)/memory032/state", Array("online\n".utf8), .noSuchFileOrDirectory)
        XCTAssertThrowsError(try fs.read("\(mem)/memory99/valid_zones"))
        XCTAssertThrowsError(try fs.read("\(mem)/probe"))  // no CONFIG_ARCH_MEMORY_PROBE
        // A zero-length write reaches no store.
        XCTAssertEqual(try fs.write("\(mem)/memory32/state", []), 0)
        // A NUL ends the string: "online_movable\0junk" is "online_movable" (Movable: a kernel
        // zone it made populated would hold the kernel's next slab pages and refuse the offline).
        XCTAssertEqual(try fs.write("\(mem)/memory32/state", Array("online_movable\0junk".utf8)), 19)
        XCTAssertEqual(m.blocks[32]!.state, .online)
        // The 4096-byte window: a long write is a partial write of the first page.
        var long = Array("0".utf8); long += Array(repeating: UInt8(ascii: "x"), count: 5000)
        XCTAssertEqual(try fs.write("\(mem)/memory32/online", long), 4096)
        XCTAssertEqual(m.blocks[32]!.state, .offline)
        // uevent: actions only.
        expectErr("\(mem)/memory32/uevent", Array("explode\n".utf8), .invalidArgument)
        expectErr("\(mem)/memory32/uevent", Array("add not-a-uuid\n".utf8), .invalidArgument)
        XCTAssertEqual(try fs.write("\(mem)/memory32/uevent", "change\n"), 7)
        XCTAssertEqual(m.hotplug.uevents.last?.action, .change)
        let synth = "add 12345678-1234-1234-1234-123456789abc A=b\n"
        XCTAssertEqual(try fs.write("\(mem)/memory32/uevent", synth), synth.utf8.count)
        XCTAssertEqual(try fs.read("\(mem)/memory32/uevent"), "")
        // online_policy and numa_aware round trips.
        try fs.write("/sys/module/memory_hotplug/parameters/online_policy", "auto-movable\n")
        XCTAssertEqual(try fs.read("/sys/module/memory_hotplug/parameters/online_policy"), "auto-movable\n")
        try fs.write("/sys/module/memory_hotplug/parameters/auto_movable_numa_aware", "off")
        XCTAssertEqual(try fs.read("/sys/module/memory_hotplug/parameters/auto_movable_numa_aware"), "N\n")
        try m.verify()
    }

    /// `memoryN` as the kernel names a block: decimal, no sign, no leading zero.
    func testBlockIDParsesTheKernelsNamesOnly() {
        XCTAssertEqual(MemorySysfsArea.blockID("memory0"), 0)
        XCTAssertEqual(MemorySysfsArea.blockID("memory12"), 12)
        XCTAssertEqual(MemorySysfsArea.blockID("memory8191"), 8191)
        for name in [
            "memory", "memory012", "memory00", "memory+1", "memory-1", "memory1x", "memoryx", "memor1",
            "Memory1", "memory 1", "memory1234567890123456789"
        ] {
            XCTAssertNil(MemorySysfsArea.blockID(name), name)
        }
    }

    /// `lookupChildren` (a READDIRPLUS reply's lookups, which ask only the areas that can
    /// serve the directory) finds what one `lookup` per path finds, in every kind of directory:
    /// the root, one above the mount points, a mount point two areas share, a block's, a node's.
    func testLookupChildrenAgreesWithLookup() throws {
        let (_, fs) = try boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 256 << 20)]))
        func describe(_ node: KernelNode?) -> String {
            switch node {
            case nil: return "none"
            case .directory?: return "dir"
            case .symlink(let t)?: return "link " + t
            case .file(let f)?: return "file \(f.mode)"
            }
        }
        for dir in [
            "/", "/sys", "/sys/devices/system", "/proc/sys/vm", "/sys/devices/system/memory",
            "/sys/devices/system/memory/memory33", "/sys/devices/system/node/node0", "/sys/kernel/mm/hugepages"
        ] {
            let names = try fs.list(dir) + ["nope", "memory999", "memory033"]
            XCTAssertGreaterThan(names.count, 3, dir)
            let found = fs.lookupChildren(of: dir, names).map { describe($0?.node) }
            let one = names.map { describe(try? fs.lookup((dir == "/" ? "" : dir) + "/" + $0)) }
            XCTAssertEqual(found, one, dir)
            XCTAssertEqual(found.suffix(3), ["none", "none", "none"], dir)
        }
    }

    func testNodeDirectory() throws {
        let (_, fs) = try boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [DIMMConfig(id: "dimm1", sizeBytes: 256 << 20)]))
        XCTAssertEqual(try fs.read("/sys/devices/system/node/has_memory"), "0\n")
        XCTAssertEqual(try fs.read("/sys/devices/system/node/possible"), "0\n")
        XCTAssertTrue(try fs.list("/sys/devices/system/node/node0").contains("memory33"))
        XCTAssertEqual(
            try fs.resolve("/sys/devices/system/node/node0/memory33/state"), "/sys/devices/system/memory/memory33/state"
        )
        XCTAssertEqual(NodeSysfsArea.nodeList([0, 1, 2, 4, 6, 7]), "0-2,4,6-7\n")
    }
}
