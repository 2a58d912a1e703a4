#if os(Linux)
import Foundation
import Glibc
import KernelFS
import MemoryModel
import XCTest

@testable import FUSEServer

/// The served tree over a real FUSE mount, as `memhp mount` serves it (root and /dev/fuse; a
/// private mount namespace, so nothing shows on the host). The kernel keeps names and
/// attributes for an hour (`FUSEConst.entryTimeout`): a change must still show at once.
final class FUSEMountTests: XCTestCase {
    /// Mounts `fs` on a fresh directory, serves it on a thread and runs `body` with the mount point.
    func withMount(_ fs: KernelFS, _ body: (String) throws -> Void) throws {
        try withMount(fs) { root, _ in try body(root) }
    }

    /// `withMount`, with the server (to tell it of a change made to the model directly).
    func withMount(_ fs: KernelFS, _ body: (String, FUSEServer) throws -> Void) throws {
        guard getuid() == 0, access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw XCTSkip("needs root and /dev/fuse (as memhp mount does)")
        }
        guard unshareMountNamespace(), mount("none", "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw XCTSkip("cannot make a private mount namespace")
        }
        var template = Array("/tmp/memhp-fuse-test.XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { return XCTFail("mkdtemp: \(errno)") }
        let root = String(cString: dir)
        defer { rmdir(root) }
        let server = FUSEServer(fs: fs, mountPoint: root)
        try server.mount()
        let serving = server.serveInBackground()
        defer { serving.finish() }
        try body(root, server)
    }

    func listing(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func write(_ path: String, _ text: String) -> Int32 {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } < 0 ? errno : 0
    }

    /// A DIMM hot-added while the memory directory's names and listing are cached shows in
    /// the next listing once the server is told (`modelChanged`: the hot-add is the test's,
    /// not a write through the mount); a write then a read sees the new state; once the DIMM
    /// is ejected, its blocks are gone from a listing and from a stat at once (the names the
    /// kernel cached for an hour and the listing it keeps are taken back,
    /// FUSE_NOTIFY_INVAL_ENTRY and FUSE_NOTIFY_INVAL_INODE, before the next write returns).
    func testHotAddAndEjectShowAtOnceDespiteCachedNames() throws {
        let fs = KernelFS(machine: try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4)))
        try withMount(fs) { root, server in
            let mem = root + "/sys/devices/system/memory"
            let boot = (0..<8).map { "memory\($0)" }
            XCTAssertEqual(try listing(mem).filter { $0.hasPrefix("memory") }, boot.sorted())
            XCTAssertFalse(exists(mem + "/memory32"))  // a missing name is not cached

            _ = try fs.withHotplugLock { try $0.hotAddDIMM(id: "d1", sizeBytes: 256 << 20) }
            server.modelChanged()
            XCTAssertEqual(
                try listing(mem).filter { $0.hasPrefix("memory") }, (boot + ["memory32", "memory33"]).sorted())
            XCTAssertEqual(try read(mem + "/memory32/state"), "offline\n")

            XCTAssertEqual(write(mem + "/memory32/state", "online_movable\n"), 0)
            XCTAssertEqual(try read(mem + "/memory32/state"), "online\n")
            XCTAssertEqual(try read(mem + "/memory32/valid_zones"), "Movable\n")
            XCTAssertEqual(write(mem + "/memory32/state", "offline\n"), 0)
            XCTAssertEqual(try read(mem + "/memory32/state"), "offline\n")

            try fs.withHotplugLock { try $0.acpiEjectDIMM(id: "d1") }
            // The next write through the mount, refused or not, takes the names back.
            XCTAssertEqual(write(mem + "/memory0/state", "bogus\n"), EINVAL)
            XCTAssertFalse(exists(mem + "/memory32"))
            XCTAssertFalse(exists(mem + "/memory33/state"))
            XCTAssertEqual(try listing(mem).filter { $0.hasPrefix("memory") }, boot.sorted())
        }
    }

    /// Listings page through large directories (readdirplus replies of a page each, their
    /// entries looked up together) and give every entry its own attributes: the memory
    /// directory of a 32 GiB guest (256 blocks) and a block's directory, name for name and
    /// mode for mode what the model serves.
    func testListingsAndAttributesAreTheModels() throws {
        let fs = KernelFS(machine: try Machine.boot(MachineConfig(memBytes: 32 << 30, maxmemBytes: 33 << 30, slots: 1)))
        try withMount(fs) { root in
            for dir in [
                "/sys/devices/system/memory", "/sys/devices/system/memory/memory100", "/sys/devices/system/node/node0"
            ] {
                let names = try listing(root + dir)
                XCTAssertEqual(names, try fs.list(dir), dir)
                XCTAssertGreaterThan(names.count, 5, dir)
                for name in names {
                    var st = stat()
                    XCTAssertEqual(lstat(root + dir + "/" + name, &st), 0, name)
                    switch try fs.lookup(dir + "/" + name) {
                    case .directory: XCTAssertEqual(st.st_mode, S_IFDIR | 0o755, name)
                    case .symlink: XCTAssertEqual(st.st_mode & S_IFMT, S_IFLNK, name)
                    case .file(let f):
                        XCTAssertEqual(st.st_mode, S_IFREG | mode_t(f.mode), name)
                        XCTAssertEqual(st.st_size, 4096, name)
                    }
                }
            }
            XCTAssertEqual(
                try listing(root + "/sys/devices/system/memory").filter { $0.hasPrefix("memory") }.count, 256)
        }
    }
}
#endif
