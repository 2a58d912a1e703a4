import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

/// `memhp campaign check --dir DIR` given damaged campaign files: seeded mutants of a committed
/// seed's kernel log and of EXPECTED-DIFFERENCES, and wrong `--seeds`. Each checks (status 0,
/// or 1 when the seed differs unlisted or agrees listed), or is refused with status 2 naming
/// the file; never a trap.
final class CampaignInputMutationTests: XCTestCase {
    func testDamagedCampaignFiles() throws {
        let dir = try MemhpBinary.temporaryDirectory("campaign-mutants")
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = MemhpBinary.packageRoot.appendingPathComponent("tests/campaign").path
        let fm = FileManager.default
        for f in ["seed-0000.scn", "seed-0000.kernel.txt"] {
            try fm.copyItem(atPath: src + "/" + f, toPath: dir.path + "/" + f)
        }
        let kernel = dir.path + "/seed-0000.kernel.txt", list = dir.path + "/EXPECTED-DIFFERENCES"
        let validList = Array("# seeds that differ for a known cause\nseed-0007  a cause\nseed-0011\tanother\n".utf8)
        let validKernel = try Array(XCTUnwrap(fm.contents(atPath: kernel)))
        func put(_ f: String, _ b: [UInt8]) throws { try Data(b).write(to: URL(fileURLWithPath: f)) }
        try put(list, validList)
        let check = try InProcessCLI.Parsed(["campaign", "check", "--dir", dir.path, "--seeds", "0", "--quiet"])
        let sound = check.run(in: dir.path)
        XCTAssertEqual(sound.status, 0, sound.out + sound.err)
        for (file, valid, count, seed) in [(kernel, validKernel, 80, 0x5EED_0801), (list, validList, 30, 0x5EED_0802)] {
            let rule = MalformedInput(path: file, refused: { _ in true })
            var outcomes: [Int32: Int] = [:]
            for m in InputMutation.mutants(of: valid, count: count, seed: UInt64(seed)) {
                try put(file, m.bytes)
                let r = check.run(in: dir.path)
                rule.check(r, "\(file): \(m.what)")
                outcomes[r.status, default: 0] += 1
            }
            try put(file, valid)
            XCTAssertGreaterThan(outcomes[0, default: 0], 0, "\(file): \(outcomes)")
        }
        // Seeds: negative, beyond a million, a range whose count overflows Int (it trapped).
        for seeds in [
            "3,-1", "0..9223372036854775807", "0,-9223372036854775808..9223372036854775807", "0..1000000", "5..3", "x"
        ] {
            let r = InProcessCLI.run(["campaign", "check", "--dir", dir.path, "--seeds", seeds], in: dir.path)
            XCTAssertEqual(r.status, 2, "\(seeds): \(r.err)")
            XCTAssertTrue(
                r.err.contains("--seeds: expected N, A..B or a comma list of seeds >= 0"), "\(seeds): \(r.err)")
        }
    }
}
