import XCTest

@testable import KernelFS
@testable import MemoryModel

/// The journal behind `--state`: every write that reached a store, refused ones too (with
/// their result), in order, and replaying them on a freshly booted identical machine gives
/// the same tree.
final class JournalTests: XCTestCase {
    func boot() throws -> KernelFS { try KernelFS.journaledTestMachine() }

    func testEveryStoreIsJournaledWithItsResultAndReplayReproducesTheState() throws {
        let a = try boot()
        try a.write("/sys/devices/system/memory/memory33/state", "online_movable\n")
        // EINVAL: already online.
        XCTAssertThrowsError(try a.write("/sys/devices/system/memory/memory33/state", "online_movable\n"))
        // EINVAL: spans zones.
        XCTAssertThrowsError(try a.write("/sys/devices/system/memory/memory0/state", "offline\n"))
        try a.write("/proc/sys/vm/nr_hugepages", "3\n")
        // First-time path walks are journaled as reads; the writes are the stores.
        let writes = a.journal.filter { $0.kind == .write }
        XCTAssertEqual(
            writes.map(\.path),
            [
                "/sys/devices/system/memory/memory33/state", "/sys/devices/system/memory/memory33/state",
                "/sys/devices/system/memory/memory0/state", "/proc/sys/vm/nr_hugepages"
            ])
        XCTAssertEqual(writes.map(\.result), [15, -22, -22, 2])

        let b = try boot()
        try b.replay(a.journal)
        for p in [
            "/sys/devices/system/memory/memory33/valid_zones", "/proc/meminfo", "/proc/zoneinfo", "/proc/buddyinfo"
        ] {
            XCTAssertEqual(try a.read(p), try b.read(p), p)
        }
    }
}

extension JournalTests {
    /// A write through a node's memoryN link is journaled under the link's path, so the
    /// replay walks the names the writer walked: the reloaded machine's dcache (names, free
    /// dentry/inode objects, slabs taken) and meminfo's Slab lines are the live machine's. A
    /// replay of the resolved path looked up memory/memory33 and its `online` afresh.
    func testAWriteThroughANodeLinkReplaysTheLinksWalk() throws {
        let a = try boot()
        let link = "/sys/devices/system/node/node0/memory33/online"
        XCTAssertEqual(try a.write(link, "1\n"), 2)
        XCTAssertEqual(try a.read("/sys/devices/system/memory/memory33/state"), "online\n")
        XCTAssertEqual(a.journal.filter { $0.kind == .write }.map(\.path), [link])

        let b = try boot()
        try b.replay(a.journal)
        XCTAssertEqual(b.machine.dcache.positive, a.machine.dcache.positive)
        XCTAssertEqual(b.machine.dcache.free, a.machine.dcache.free)
        XCTAssertEqual(b.machine.dcache.slabsTaken, a.machine.dcache.slabsTaken)
        func slabLines(_ fs: KernelFS) throws -> [Substring] {
            try fs.read("/proc/meminfo").split(separator: "\n").filter {
                $0.hasPrefix("Slab:") || $0.hasPrefix("SReclaimable:") || $0.hasPrefix("SUnreclaim:")
            }
        }
        XCTAssertEqual(try slabLines(b), try slabLines(a))
        XCTAssertFalse(b.machine.dcache.positive.contains("sys/devices/system/memory/memory33/online"))
    }
}
