import Foundation
import MemhpTestSupport
import MemoryModel
import XCTest

@testable import memhp

/// Machine options and `--assume K=V` given wrong values: seeded mutants of each valid value
/// (cut, a bit flipped, a number replaced by 20 digits, -1, 0x..., 16E, 4P, invalid UTF-8...),
/// each on an otherwise valid command line. Each boots, or is refused with status 2 and a
/// message of the subcommand; never a trap.
final class OptionMutationTests: XCTestCase {
    static let machine: [(String, String)] = [
        ("--mem", "1G"), ("--maxmem", "4G"), ("--slots", "2"), ("--dimm", "512M@1"), ("--nodes", "512M,512M"),
        ("--cmdline", "movablecore=256M hugetlb_free_vmemmap=on"), ("--seed", "7")
    ]

    /// One mutant of `value` per call, drawn from `rng`.
    func mutate(_ value: String, _ rng: inout SplitMix64) -> Mutant {
        let all = InputMutation.mutants(of: Array(value.utf8), count: 24, seed: rng.next())
        return all[rng.below(all.count)]
    }

    /// A mutant's outcome: no trap, and either success or status 2 with the subcommand's
    /// message (`prefix`); counted by status.
    func check(
        _ r: InProcessCLI.Result, _ what: String, refusedWith prefix: String, _ outcomes: inout [Int32: Int]
    ) {
        XCTAssertFalse(r.err.contains("Fatal error"), "\(what): \(r.err)")
        XCTAssertTrue(r.status == 0 || r.status == 2, "\(what): status \(r.status): \(r.err)")
        if r.status == 2 { XCTAssertTrue(r.err.hasPrefix(prefix), "\(what): \(r.err)") }
        outcomes[r.status, default: 0] += 1
    }

    func testMutatedMachineOptions() throws {
        let dir = try MemhpBinary.temporaryDirectory("option-mutants")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 0x5EED_0601)
        var outcomes: [Int32: Int] = [:]
        for k in 0..<84 {
            let i = k % Self.machine.count
            let m = mutate(Self.machine[i].1, &rng)
            var args = ["read"]
            for (j, (name, value)) in Self.machine.enumerated() {
                args += [name, j == i ? String(decoding: m.bytes, as: UTF8.self) : value]
            }
            args.append("/proc/meminfo")
            let r = InProcessCLI.run(args, in: dir.path)
            check(r, "\(Self.machine[i].0) \(m.what): \(args)", refusedWith: "memhp read: ", &outcomes)
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 25, "\(outcomes)")
        XCTAssertGreaterThan(outcomes[0] ?? 0, 8, "\(outcomes)")
    }

    func testMutatedAssumptions() throws {
        let dir = try MemhpBinary.temporaryDirectory("assume-mutants")
        defer { try? FileManager.default.removeItem(at: dir) }
        let snapshot = dir.path + "/host.memhp"
        let log = MemhpBinary.packageRoot.appendingPathComponent("tests/snapshot/snap-small-ramfs.kernel.txt").path
        XCTAssertEqual(InProcessCLI.run(["snapshot", "--from-log", log, "-o", snapshot], in: dir.path).status, 0)
        let valid = [
            "pinned=1000-2000", "ramfs=stuck", "hvo=sysctl", "flagless=free", "offline-pages=held", "dirty=migrates"
        ]
        var rng = SplitMix64(seed: 0x5EED_0602)
        var outcomes: [Int32: Int] = [:]
        for k in 0..<60 {
            let m = mutate(valid[k % valid.count], &rng)
            let a = String(decoding: m.bytes, as: UTF8.self)
            let r = InProcessCLI.run(["predict", "--snapshot", snapshot, "--assume", a], in: dir.path)
            check(r, "--assume \(a) (\(m.what))", refusedWith: "memhp predict: --assume ", &outcomes)
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 20, "\(outcomes)")
    }
}
