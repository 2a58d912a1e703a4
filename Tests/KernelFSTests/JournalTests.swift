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
