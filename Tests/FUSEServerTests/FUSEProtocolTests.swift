import KernelFS
import MemoryModel
import XCTest

@testable import FUSEServer

/// The FUSE wire structs (include/uapi/linux/fuse.h) against hand-computed bytes.
final class FUSEProtocolTests: XCTestCase {
    /// fuse_in_header: len u32, opcode u32, unique u64, nodeid u64, uid u32, gid u32, pid u32,
    /// total_extlen u16, padding u16 = 40 bytes, little-endian.
    func testReaderDecodesAnInHeader() {
        let bytes: [UInt8] = [
            0x30, 0, 0, 0,  // len 48
            15, 0, 0, 0,  // FUSE_READ
            0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  // unique
            2, 0, 0, 0, 0, 0, 0, 0,  // nodeid 2
            0xe8, 3, 0, 0,  // uid 1000
            0xe9, 3, 0, 0,  // gid 1001
            0x39, 0x30, 0, 0,  // pid 12345
            0, 0, 0, 0,  // extlen, padding
            0x61, 0x62, 0, 0x63  // "ab\0c"
        ]
        bytes.withUnsafeBytes { raw in
            var r = FUSEReader(raw)
            XCTAssertEqual(r.u32(), 48)
            XCTAssertEqual(FUSEOpcode(rawValue: r.u32()), .read)
            XCTAssertEqual(r.u64(), 0x1122_3344_5566_7788)
            XCTAssertEqual(r.u64(), 2)
            XCTAssertEqual(r.u32(), 1000); XCTAssertEqual(r.u32(), 1001); XCTAssertEqual(r.u32(), 12345)
            XCTAssertEqual(r.u16(), 0); XCTAssertEqual(r.u16(), 0)
            XCTAssertEqual(r.offset, FUSEConst.inHeaderSize)
            XCTAssertEqual(r.cString(), "ab")
            XCTAssertEqual(r.rest(10), [0x63])
        }
    }

    /// A truncated request reads as zeros and never past its end (no trap on bad input).
    func testReaderOnTruncatedInputGivesZerosAndStops() {
        let bytes: [UInt8] = [1, 2, 3]
        bytes.withUnsafeBytes { raw in
            var r = FUSEReader(raw)
            XCTAssertEqual(r.u32(), 0)
            XCTAssertEqual(r.offset, 3)
            XCTAssertEqual(r.u64(), 0)
            XCTAssertEqual(r.u16(), 0)
            XCTAssertEqual(r.rest(100), [])
            XCTAssertEqual(r.cString(), "")
            r.skip(1000)
            XCTAssertEqual(r.remaining, 0)
        }
        // A name without its NUL ends at the buffer's end.
        Array("name".utf8).withUnsafeBytes { raw in
            var r = FUSEReader(raw)
            XCTAssertEqual(r.cString(), "name")
            XCTAssertEqual(r.remaining, 0)
        }
        // rest() with a length larger than what is left (a lying `size` field).
        [UInt8](repeating: 7, count: 5).withUnsafeBytes { raw in
            var r = FUSEReader(raw, offset: 2)
            XCTAssertEqual(r.rest(Int(UInt32.max)), [7, 7, 7])
        }
    }

    func testWriterEncodesLittleEndianAndPads() {
        var w = FUSEWriter()
        w.u16(0x0102); w.u32(0x0304_0506); w.u64(0x0708_090a_0b0c_0d0e)
        XCTAssertEqual(w.bytes, [0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, 0x07])
        w.pad8()
        XCTAssertEqual(w.bytes.count, 16)
        XCTAssertEqual(w.bytes.suffix(2), [0, 0])
    }

    /// fuse_attr is 88 bytes: ino, size, blocks, atime, mtime, ctime (u64), atimensec,
    /// mtimensec, ctimensec, mode, nlink, uid, gid, rdev, blksize, flags (u32).
    func testAttrLayout() {
        var w = FUSEWriter()
        var a = FUSEAttr(ino: 5, size: 4096, mode: 0o100644, nlink: 1, time: 1_700_000_000)
        a.uid = 1000; a.gid = 100
        a.write(to: &w)
        XCTAssertEqual(w.bytes.count, FUSEConst.attrSize)
        func u64(_ o: Int) -> UInt64 { w.bytes[o..<o + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        func u32(_ o: Int) -> UInt32 { w.bytes[o..<o + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        XCTAssertEqual(u64(0), 5)
        XCTAssertEqual(u64(8), 4096)
        XCTAssertEqual(u64(16), 8)  // 512-byte blocks
        XCTAssertEqual(u64(24), 1_700_000_000)
        XCTAssertEqual(u32(60), 0o100644)  // mode after 3 × u64 times and 3 × u32 nsecs
        XCTAssertEqual(u32(64), 1)
        XCTAssertEqual(u32(68), 1000)
        XCTAssertEqual(u32(72), 100)
        XCTAssertEqual(u32(80), 4096)  // blksize
        // fuse_entry_out: nodeid, generation, entry_valid, attr_valid (u64), two nsec u32, attr.
        var e = FUSEWriter()
        a.writeEntry(to: &e, nodeID: 9)
        XCTAssertEqual(e.bytes.count, FUSEConst.entryOutSize)
        XCTAssertEqual(e.bytes[0], 9)
        XCTAssertEqual(Array(e.bytes[8..<16]), [UInt8](repeating: 0, count: 8))  // generation
        XCTAssertEqual(u64From(e.bytes, 16), FUSEConst.entryTimeout)  // entry_valid
        XCTAssertEqual(u64From(e.bytes, 24), FUSEConst.entryTimeout)  // attr_valid
        XCTAssertEqual(Array(e.bytes[32..<40]), [UInt8](repeating: 0, count: 8))  // nsecs
        XCTAssertEqual(FUSEConst.entryTimeout, 3600)
    }

    func u64From(_ b: [UInt8], _ o: Int) -> UInt64 { b[o..<o + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }

    /// The kernel may cache names for an hour, so the server must take back the names of a
    /// removed block: its `remove` uevents name them, once, and only them.
    func testRemovedBlocksAreTheEjectedDIMMsBlocksOnce() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [DIMMConfig(id: "d1", sizeBytes: 256 << 20)]))
        let fs = KernelFS(machine: m)
        let removed = RemovedBlocks(fs)
        XCTAssertEqual(removed.take(fs), [])  // the boot's add uevents are not removals
        try fs.write("/sys/devices/system/memory/memory32/state", "online_movable\n")
        XCTAssertEqual(removed.take(fs), [])
        try fs.withLock { m in
            try m.storeState(block: 32, .offline)
            try m.acpiEjectDIMM(id: "d1")
        }
        XCTAssertEqual(removed.take(fs), ["memory32", "memory33"])
        XCTAssertEqual(removed.take(fs), [])
        XCTAssertThrowsError(try fs.lookup("/sys/devices/system/memory/memory33"))
    }

    /// The ID of `path`, each component identified in its parent as LOOKUPs would.
    private func identify(_ ids: NodeIDs, _ path: String) -> UInt64 {
        var id = FUSEConst.rootID
        for name in path.split(separator: "/") { id = ids.identify(String(name), in: id)!.id }
        return id
    }

    func testNodeDirectoriesAreTheNodesOnly() {
        let ids = NodeIDs()
        for p in [
            "/sys/devices/system/node", "/sys/devices/system/node/node0", "/sys/devices/system/node/node0/memory3",
            "/sys/devices/system/node/node1", "/sys/devices/system/node/possible", "/sys/devices/system/memory"
        ] { _ = identify(ids, p) }
        XCTAssertEqual(
            ids.nodeDirectories().map(\.path).sorted(),
            ["/sys/devices/system/node/node0", "/sys/devices/system/node/node1"])
        XCTAssertEqual(ids.path(identify(ids, "/sys/devices/system/memory")), "/sys/devices/system/memory")
    }

    /// IDs are handed out once per name in its directory, in order of first use, and found
    /// again by path or by parent and name; an unknown parent or name has none.
    func testNodeIDsByParentAndName() throws {
        let ids = NodeIDs()
        let memory = identify(ids, "/sys/devices/system/memory")
        XCTAssertEqual(memory, 5)  // sys 2, devices 3, system 4
        let listed = ids.identify(["memory0", "memory1", "memory0"], in: memory)
        XCTAssertEqual(listed, [6, 7, 6])
        // A listed name's path is made when first asked for.
        XCTAssertEqual(ids.path(7), "/sys/devices/system/memory/memory1")
        XCTAssertEqual(ids.path(6), "/sys/devices/system/memory/memory0")
        XCTAssertEqual(ids.identify("memory1", in: memory)?.id, 7)
        XCTAssertEqual(ids.existing("/sys/devices/system/memory/memory1"), 7)
        XCTAssertEqual(ids.existing("/"), FUSEConst.rootID)
        XCTAssertNil(ids.existing("/sys/devices/system/memory/memory2"))
        XCTAssertEqual(ids.existing("memory0", in: memory), 6)
        XCTAssertNil(ids.existing("memory0", in: 6))
        XCTAssertNil(ids.identify("x", in: 99))  // a parent the kernel was never given
        XCTAssertEqual(ids.identify("sys", in: FUSEConst.rootID)?.path, "/sys")
        XCTAssertNil(ids.path(99))
        XCTAssertNil(ids.path(0))
    }

    /// READDIRPLUS of a memory block's directory gives only `valid_zones` its entry; every
    /// other directory gives all of them.
    func testBlockListingCarriesValidZonesOnly() {
        XCTAssertTrue(FUSEServer.isBlockDirectory("/sys/devices/system/memory/memory12"))
        XCTAssertFalse(FUSEServer.isBlockDirectory("/sys/devices/system/memory"))
        XCTAssertFalse(FUSEServer.isBlockDirectory("/sys/devices/system/memory/memory12/power"))
        XCTAssertFalse(FUSEServer.isBlockDirectory("/sys/devices/system/node/node0"))
        XCTAssertTrue(FUSEServer.blockListingCarries("valid_zones"))
        for name in ["state", "removable", "online", "phys_index", "phys_device", "uevent", "subsystem", "node0"] {
            XCTAssertFalse(FUSEServer.blockListingCarries(name), name)
        }
    }

    func testOpcodeNumbersMatchFuseH() {
        XCTAssertEqual(FUSEOpcode.lookup.rawValue, 1)
        XCTAssertEqual(FUSEOpcode.setattr.rawValue, 4)
        XCTAssertEqual(FUSEOpcode.write.rawValue, 16)
        XCTAssertEqual(FUSEOpcode.initialize.rawValue, 26)
        XCTAssertEqual(FUSEOpcode.interrupt.rawValue, 36)
        XCTAssertEqual(FUSEOpcode.readdirplus.rawValue, 44)
        XCTAssertNil(FUSEOpcode(rawValue: 9999))
    }
}
