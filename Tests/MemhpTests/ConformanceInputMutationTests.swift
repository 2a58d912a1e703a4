import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

/// `memhp conformance NAME --dir DIR --log LOG` given damaged files: seeded mutants of a
/// committed kernel fixture (with `# range` rules added to it), of its `.ranges` file and of
/// the log diffed against it. Each compares (status 0, or 1 when the logs differ), or is
/// refused with status 2 naming FILE:LINE; never a trap.
final class ConformanceInputMutationTests: XCTestCase {
    static let ranges = """
        # rules the fixture's runs justify
        range meminfo : MemFree=800000..900000 Cached=*   # boot variance
        range block idx=7 : valid_zones="DMA32"|"Normal"
        range zone node=0 zone=DMA32 step=1 : free=*

        """

    func testDamagedFixturesRangesAndLogs() throws {
        let dir = try MemhpBinary.temporaryDirectory("conformance-mutants")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = MemhpBinary.packageRoot.appendingPathComponent("tests/conformance").path
        let fm = FileManager.default
        try fm.copyItem(atPath: src + "/a-baseline.scn", toPath: dir.path + "/a-baseline.scn")
        let fixture = dir.path + "/a-baseline.kernel.txt", side = dir.path + "/a-baseline.ranges"
        let log = dir.path + "/other.kernel.txt"
        let kernel = try String(contentsOfFile: src + "/a-baseline.kernel.txt", encoding: .utf8)
        let validFixture = Array(
            (Self.ranges.split(separator: "\n").map { "# " + $0 }.joined(separator: "\n") + "\n" + kernel).utf8)
        let validRanges = Array(Self.ranges.utf8)
        let validLog = Array(kernel.utf8)
        func put(_ f: String, _ b: [UInt8]) throws { try Data(b).write(to: URL(fileURLWithPath: f)) }
        try put(fixture, validFixture); try put(side, validRanges); try put(log, validLog)
        let cmd = try InProcessCLI.Parsed(["conformance", "a-baseline", "--dir", dir.path, "--log", log])
        let sound = cmd.run(in: dir.path)
        XCTAssertEqual(sound.status, 0, sound.out + sound.err)
        for (file, valid, seed) in [
            (fixture, validFixture, 0x5EED_0701), (side, validRanges, 0x5EED_0702), (log, validLog, 0x5EED_0703)
        ] {
            let rule = MalformedInput(path: file, refused: { _ in true })
            var outcomes: [Int32: Int] = [:]
            for m in InputMutation.mutants(of: valid, count: 100, seed: UInt64(seed)) {
                try put(file, m.bytes)
                let r = cmd.run(in: dir.path)
                rule.check(r, "\(file): \(m.what)")
                if r.status == 1 { XCTAssertTrue(r.out.contains("1 failed"), "\(file): \(m.what): \(r.out)\(r.err)") }
                outcomes[r.status, default: 0] += 1
            }
            try put(file, valid)
            XCTAssertGreaterThan(outcomes[1, default: 0] + outcomes[2, default: 0], 15, "\(file): \(outcomes)")
        }
    }
}
