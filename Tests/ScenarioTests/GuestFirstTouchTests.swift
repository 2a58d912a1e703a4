import XCTest

@testable import Scenario

/// The runner's pages that its first directory listing faults in, once per run: the first
/// `opendir` a heap page, the first `list_blocks` the first page of its static `blocks` array.
/// Measured on 6.1.0-57 (1 GiB guest, no prefault, meminfo's AnonPages after a stat_refresh):
/// `dump hugepages` first: +4 kB, then `dump blocks` +4 kB, then a dimm-add's settle +0;
/// `dump blocks` first: +8 kB, then settles +0; a dimm-add first: its settle +8 kB, then a
/// `dump blocks` +0.
final class GuestFirstTouchTests: XCTestCase {
    /// AnonPages (kB) of each `meminfo` line, relative to the first one.
    func anonGrowth(_ steps: String) throws -> [Int] {
        let sc = try Scenario.parse("mem: 1G\nmaxmem: 4G\nslots: 4\n---\nstep s1\n" + steps, file: "first-touch.scn")
        let r = ModelRunner(scenario: sc).run()
        XCTAssertTrue(r.completed)
        let anon = try r.lines.filter { $0.hasPrefix("meminfo ") }.map { line -> Int in
            let field = try XCTUnwrap(line.split(separator: " ").first { $0.hasPrefix("AnonPages=") })
            return try XCTUnwrap(Int(field.dropFirst("AnonPages=".count)))
        }
        return anon.map { $0 - anon[0] }
    }

    func testOpendirThenBlockListThenSettle() throws {
        let growth = try anonGrowth(
            "dump meminfo\ndump hugepages\ndump meminfo\ndump blocks\ndump meminfo\ndimm-add hp1 128M\ndump meminfo\n")
        XCTAssertEqual(growth, [0, 4, 8, 8])
    }

    func testFirstDumpBlocksTakesWhatTheSettleWouldHave() throws {
        let growth = try anonGrowth(
            "dump meminfo\ndump blocks\ndump meminfo\ndimm-add hp1 128M\ndump meminfo\ndimm-add hp2 128M\ndump meminfo\n"
        )
        XCTAssertEqual(growth, [0, 8, 8, 8])
    }

    func testFirstSettleTakesBoth() throws {
        let growth = try anonGrowth(
            "dump meminfo\ndimm-add hp1 128M\ndump meminfo\ndimm-add hp2 128M\ndump meminfo\ndump blocks\ndump meminfo\n"
        )
        XCTAssertEqual(growth, [0, 8, 8, 8])
    }
}
