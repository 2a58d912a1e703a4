import SystemPackage
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// memory-notifier-error-inject's debugfs files (lib/notifier-error-inject.c,
/// lib/memory-notifier-error-inject.c, fs/libfs.c simple attributes), as the
/// notifier-error-inject capture shows them.
final class DebugfsNotifierInjectTests: XCTestCase {
    let dir = "/sys/kernel/debug/notifier-error-inject/memory/actions"

    func boot() throws -> KernelFS {
        KernelFS(
            machine: try Machine.boot(
                MachineConfig(
                    memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                    dimms: [DIMMConfig(id: "d1", sizeBytes: 256 << 20)])))
    }

    func errno(_ body: () throws -> Any) -> Errno? {
        do { _ = try body(); return nil } catch let e as KernelError { return e.errno } catch { return nil }
    }

    func testFilesExistOnlyWhileTheModuleIsLoaded() throws {
        let fs = try boot()
        XCTAssertEqual(try fs.list("/sys/kernel/debug"), ["memhp"])
        XCTAssertEqual(errno { try fs.read(self.dir + "/MEM_GOING_ONLINE/error") }, .noSuchFileOrDirectory)
        XCTAssertEqual(errno { try fs.write(self.dir + "/MEM_GOING_ONLINE/error", "-12\n") }, .noSuchFileOrDirectory)
        try fs.withLock { try $0.loadMemoryNotifierErrorInject() }
        XCTAssertEqual(errno { try fs.withLock { try $0.loadMemoryNotifierErrorInject() } }, .fileExists)
        XCTAssertEqual(try fs.list("/sys/kernel/debug"), ["memhp", "notifier-error-inject"])
        XCTAssertEqual(try fs.list("/sys/kernel/debug/notifier-error-inject"), ["memory"])
        XCTAssertEqual(try fs.list(dir), ["MEM_GOING_OFFLINE", "MEM_GOING_ONLINE"])
        XCTAssertEqual(try fs.list(dir + "/MEM_GOING_OFFLINE"), ["error"])
        XCTAssertEqual(errno { try fs.read(self.dir + "/MEM_ONLINE/error") }, .noSuchFileOrDirectory)
        guard case .file(let f) = try fs.lookup(dir + "/MEM_GOING_ONLINE/error") else { return XCTFail("no file") }
        XCTAssertEqual(f.mode, 0o600)  // S_IFREG | S_IRUSR | S_IWUSR
        XCTAssertEqual(try fs.read(dir + "/MEM_GOING_ONLINE/error"), "0\n")
        try fs.write(dir + "/MEM_GOING_ONLINE/error", "-12\n")
        // rmmod: the files go, and a new load starts from 0.
        try fs.withLock { try $0.unloadMemoryNotifierErrorInject() }
        XCTAssertEqual(errno { try fs.withLock { try $0.unloadMemoryNotifierErrorInject() } }, .noSuchFileOrDirectory)
        XCTAssertEqual(errno { try fs.read(self.dir + "/MEM_GOING_ONLINE/error") }, .noSuchFileOrDirectory)
        try fs.withLock { try $0.loadMemoryNotifierErrorInject() }
        XCTAssertEqual(try fs.read(dir + "/MEM_GOING_ONLINE/error"), "0\n")
    }

    func testWritesParseLikeKstrtollAndClampToAnErrno() throws {
        let fs = try boot()
        try fs.withLock { try $0.loadMemoryNotifierErrorInject() }
        let p = dir + "/MEM_GOING_OFFLINE/error"
        func put(_ s: String) throws -> String {
            XCTAssertEqual(try fs.write(p, s), s.utf8.count); return try fs.read(p)
        }
        XCTAssertEqual(try put("-5000\n"), "-4095\n")  // the capture
        XCTAssertEqual(try put("7\n"), "0\n")  // the capture
        XCTAssertEqual(try put("-16"), "-16\n")
        XCTAssertEqual(try put("-0x1c\n"), "-28\n")  // base 0: hex
        XCTAssertEqual(try put("-014\n"), "-12\n")  // base 0: octal
        XCTAssertEqual(try put("4294967284\n"), "-12\n")  // 0xfffffff4 cut to an int first
        // Only 23 bytes reach kstrtoll: the 24th (junk) is never seen; leading 0 makes it octal 12.
        let long = "-" + String(repeating: "0", count: 20) + "12x"
        XCTAssertEqual(long.utf8.count, 24)
        XCTAssertEqual(try put(long), "-10\n")
        // Rejected writes leave the value alone.
        for (bad, e) in [
            ("abc\n", Errno.invalidArgument), ("", .invalidArgument), (" -5\n", .invalidArgument),
            ("-5\n\n", .invalidArgument), ("-+5", .invalidArgument), ("99999999999999999999", .outOfRange)
        ] {
            XCTAssertEqual(errno { try fs.write(p, bad) }, e, bad)
            XCTAssertEqual(try fs.read(p), "-10\n", bad)
        }
    }

    /// The capture: -12 makes onlining ENOMEM, -16 EBUSY (also for offlining), each with
    /// notifier_err_inject_callback's message; 0 lets it through.
    func testInjectedErrorsFailOnlineAndOffline() throws {
        let fs = try boot()
        try fs.withLock { try $0.loadMemoryNotifierErrorInject() }
        let state = "/sys/devices/system/memory/memory32/state"
        try fs.write(dir + "/MEM_GOING_ONLINE/error", "-12\n")
        XCTAssertEqual(errno { try fs.write(state, "online_movable\n") }, .noMemory)
        XCTAssertEqual(fs.machine.kmsg.last, "<6>Injecting error (-12) to MEM_GOING_ONLINE")
        try fs.write(dir + "/MEM_GOING_ONLINE/error", "-16\n")
        XCTAssertEqual(errno { try fs.write(state, "online_movable\n") }, .resourceBusy)
        try fs.write(dir + "/MEM_GOING_ONLINE/error", "0\n")
        try fs.write(state, "online_movable\n")
        try fs.write(dir + "/MEM_GOING_OFFLINE/error", "-16\n")
        XCTAssertEqual(errno { try fs.write(state, "offline\n") }, .resourceBusy)
        XCTAssertEqual(try fs.read(state), "online\n")
        try fs.write(dir + "/MEM_GOING_OFFLINE/error", "0\n")
        try fs.write(state, "offline\n")
        XCTAssertEqual(try fs.read(state), "offline\n")
    }

    /// The module loader by modprobe's names: `_` and `-` alike, others ENOENT, twice EEXIST.
    func testLoadModuleByName() throws {
        let fs = try boot()
        try fs.withLock { try $0.loadModule("memory_notifier_error_inject") }
        XCTAssertEqual(try fs.read(dir + "/MEM_GOING_OFFLINE/error"), "0\n")
        XCTAssertEqual(errno { try fs.withLock { try $0.loadModule("memory-notifier-error-inject") } }, .fileExists)
        XCTAssertNoThrow(try fs.withLock { try $0.loadModule("notifier-error-inject") })
        for bad in ["", "virtio_mem_x", "memory-notifier-error-inject ", "MEMORY-NOTIFIER-ERROR-INJECT"] {
            XCTAssertEqual(errno { try fs.withLock { try $0.loadModule(bad) } }, .noSuchFileOrDirectory, bad)
        }
    }

    /// memhp's debugfs `explain`: root-only, one `[time] subject: reason` line per entry, the
    /// reason a refused write got.
    func testExplainFileSaysWhy() throws {
        let fs = try boot()
        guard case .file(let f) = try fs.lookup("/sys/kernel/debug/memhp/explain") else { return XCTFail("no file") }
        XCTAssertEqual(f.mode, 0o400)
        XCTAssertEqual(errno { try fs.write("/sys/kernel/debug/memhp/explain", "x\n") }, .permissionDenied)
        XCTAssertEqual(
            errno { try fs.write("/sys/devices/system/memory/memory0/state", "offline\n") }, .invalidArgument)
        let text = try fs.read("/sys/kernel/debug/memhp/explain")
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("["), last)
        XCTAssertTrue(
            last.hasSuffix(
                "] memory0: memory0 spans several zones or nodes (valid_zones: none): mem->zone is NULL, offline is EINVAL"
            ), last)
        XCTAssertEqual(errno { try fs.read("/sys/kernel/debug/memhp/nothing") }, .noSuchFileOrDirectory)
    }
}
