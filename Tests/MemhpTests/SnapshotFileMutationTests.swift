import Foundation
import MemhpTestSupport
import XCTest

@testable import Snapshot
@testable import memhp

/// `memhp snapshot --from-log LOG` and `--snapshot FILE` given damaged input: seeded mutants
/// of a committed kernel log (tests/snapshot) and of the snapshot built from it. Each is
/// taken, or refused with status 2 naming the file (FILE:LINE for the log); never a trap.
final class SnapshotFileMutationTests: XCTestCase {
    static let log = MemhpBinary.packageRoot.appendingPathComponent("tests/snapshot/snap-small-ramfs.kernel.txt").path

    /// Kernel logs: whole-file mutants and mutants of the `kpf` lines (the census).
    func testDamagedGuestLogsAreRefusedWithFileAndLine() throws {
        let dir = try MemhpBinary.temporaryDirectory("fromlog-mutants")
        let path = dir.path + "/guest.kernel.txt"
        let valid = try Array(XCTUnwrap(FileManager.default.contents(atPath: Self.log)))
        let cmd = try InProcessCLI.Parsed(["snapshot", "--from-log", path, "-o", dir.path + "/out.memhp"])
        try Data(valid).write(to: URL(fileURLWithPath: path))
        let sound = cmd.run(in: dir.path)
        XCTAssertEqual(sound.status, 0, sound.err)
        let rule = MalformedInput(path: path)
        var outcomes: [Int32: Int] = [:]
        // The kpf lines alone, mutated in place: their run counts and words are the census.
        let lines = valid.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let kpf = lines.indices.filter { lines[$0].starts(with: "kpf ".utf8) }
        let kpfBytes = kpf.flatMap { Array(lines[$0]) + [UInt8(ascii: "\n")] }
        var mutants = InputMutation.mutants(of: valid, count: 120, seed: 0x5EED_0201)
        for m in InputMutation.mutants(of: kpfBytes, count: 120, seed: 0x5EED_0202) {
            var ls = Array(lines[..<kpf[0]]).map(Array.init)
            ls += m.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                .dropLast()
            ls += lines[(kpf.last! + 1)...].map(Array.init)
            mutants.append(
                Mutant(what: "kpf lines: " + m.what, bytes: Array(ls.joined(separator: [UInt8(ascii: "\n")]))))
        }
        for m in mutants {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = cmd.run(in: dir.path)
            rule.check(r, m.what)
            outcomes[r.status, default: 0] += 1
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 100, "\(outcomes)")
        try FileManager.default.removeItem(atPath: path)
        let missing = cmd.run(in: dir.path)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("\(path): No such file or directory"), missing.err)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let isDir = cmd.run(in: dir.path)
        XCTAssertEqual(isDir.status, 2)
        XCTAssertTrue(isDir.err.contains("\(path): Is a directory"), isDir.err)
        try? FileManager.default.removeItem(at: dir)
    }

    /// Snapshot files: whole-file mutants (the census hash and length catch most), and
    /// mutants of the JSON header with the census intact: its fields pretty-printed one a
    /// line, mutated, joined back onto line 2. `predict` reads every one; a few boot.
    func testDamagedSnapshotsAreRefused() throws {
        let dir = try MemhpBinary.temporaryDirectory("snapshot-mutants")
        let path = dir.path + "/host.memhp"
        let made = InProcessCLI.run(["snapshot", "--from-log", Self.log, "-o", path], in: dir.path)
        XCTAssertEqual(made.status, 0, made.err)
        let valid = try Array(XCTUnwrap(FileManager.default.contents(atPath: path)))
        let nl = UInt8(ascii: "\n")
        let first = valid.firstIndex(of: nl)!, second = valid[(first + 1)...].firstIndex(of: nl)!
        let (header, _) = try SnapshotFile.decode(valid, path: path)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let pretty = Array(try enc.encode(header))
        var mutants = InputMutation.mutants(of: valid, count: 60, seed: 0x5EED_0301)
        var headerMutants: [Mutant] = []
        for m in InputMutation.mutants(of: pretty, count: 200, seed: 0x5EED_0302).dropFirst() {
            let oneLine = m.bytes.map { $0 == nl ? UInt8(ascii: " ") : $0 }
            headerMutants.append(
                Mutant(what: "header: " + m.what, bytes: Array(valid[...first]) + oneLine + Array(valid[second...])))
        }
        mutants += headerMutants
        let predict = try InProcessCLI.Parsed(["predict", "--snapshot", path])
        XCTAssertEqual(predict.run(in: dir.path).status, 0)
        let rule = MalformedInput(path: path, line: false)
        var outcomes: [Int32: Int] = [:]
        for m in mutants {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = predict.run(in: dir.path)
            // predict names the line of every refusal (the header is line 2).
            MalformedInput(path: path).check(r, m.what)
            outcomes[r.status, default: 0] += 1
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 60, "\(outcomes)")
        XCTAssertGreaterThan(outcomes[0] ?? 0, 20, "\(outcomes)")
        // Booting a damaged header: --snapshot is checked while the command line is parsed.
        for m in headerMutants.enumerated().filter({ $0.offset % 5 == 0 }).map(\.element) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = InProcessCLI.run(["read", "--snapshot", path, "/proc/meminfo"], in: dir.path)
            rule.check(r, "boot, " + m.what)
        }
        // A file that cannot be read: the C library's words, no line ("FILE:0:" before).
        try FileManager.default.removeItem(atPath: path)
        let missing = predict.run(in: dir.path)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.hasPrefix("memhp predict: \(path): No such file or directory\n"), missing.err)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let isDir = predict.run(in: dir.path)
        XCTAssertEqual(isDir.status, 2)
        XCTAssertTrue(isDir.err.hasPrefix("memhp predict: \(path): Is a directory\n"), isDir.err)
        try? FileManager.default.removeItem(at: dir)
    }

    /// A few of each through the built binary: no signal, status 0 or 2.
    func testDamagedSnapshotsThroughTheBinary() throws {
        let dir = try MemhpBinary.temporaryDirectory("snapshot-binary")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path + "/in"
        let valid = try Array(XCTUnwrap(FileManager.default.contents(atPath: Self.log)))
        for m in InputMutation.mutants(of: valid, count: 4, seed: 0x5EED_0203) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = try MemhpBinary.run(["snapshot", "--from-log", path, "-o", dir.path + "/s.memhp"])
            XCTAssertFalse(r.signaled, "\(m.what): signal \(r.status): \(r.err)")
            XCTAssertTrue(r.status == 0 || r.status == 2, "\(m.what): status \(r.status): \(r.err)")
            guard r.status == 0 else { continue }
            let b = try MemhpBinary.run(["boot", "--snapshot", dir.path + "/s.memhp", "--show", "meminfo"])
            XCTAssertFalse(b.signaled, "\(m.what): boot: signal \(b.status): \(b.err)")
            XCTAssertTrue(b.status == 0 || b.status == 2, "\(m.what): boot: status \(b.status): \(b.err)")
        }
    }
}
