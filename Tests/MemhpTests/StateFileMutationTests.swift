import Foundation
import KernelFS
import MemhpTestSupport
import XCTest

@testable import memhp

/// `--state FILE` given a damaged saved session: a few hundred seeded mutants of a real one
/// (made by the CLI's own setup and save), each loaded through `memhp export --state`. Each
/// either loads, or is refused with FILE:LINE and status 2; the file is never rewritten.
final class StateFileMutationTests: XCTestCase {
    static let mem = "/sys/devices/system/memory"

    /// A session of a 256 MiB machine with a 256 MiB DIMM: its setup write, a module load
    /// (an event), accepted and refused writes, a pool resize and root's chmod (an attr).
    func makeState(at path: String) throws {
        let machine = try MachineOptions.parse(["--mem", "256M", "--maxmem", "1G", "--slots", "1", "--dimm", "256M"])
        let setup = try ModelSetupOptions.parse([
            "--state", path, "--write", "\(Self.mem)/memory32/state=online_movable",
            "--module", "memory-notifier-error-inject"
        ])
        let fs = try setup.makeKernelFS(machine)
        try fs.write("\(Self.mem)/memory33/state", "online\n")
        XCTAssertThrowsError(try fs.write("\(Self.mem)/memory33/state", "bogus\n"))
        try fs.write("/proc/sys/vm/nr_hugepages", "8\n")
        try fs.write("\(Self.mem)/memory33/state", "offline\n")
        try fs.setAttributes("\(Self.mem)/memory33/online", AttributeOverride(mode: 0o600, uid: 7))
        try setup.save(fs, machine: machine)
    }

    func testDamagedStateFilesAreRefusedWithFileAndLineAndKept() throws {
        let dir = try MemhpBinary.temporaryDirectory("state-mutants")
        let path = dir.path + "/session.state"
        try makeState(at: path)
        let valid = try XCTUnwrap(FileManager.default.contents(atPath: path))
        // The export's target is under a missing directory: a state that loads then fails
        // there with status 1 (mkdtemp), after the whole load; nothing is written.
        let target = dir.path + "/missing/tree"
        let rule = MalformedInput(
            path: path, refused: { $0.hasPrefix("memhp: export: cannot create a temporary directory") })
        let export = try InProcessCLI.Parsed(["export", target, "--state", path])
        let sound = export.run(in: dir.path)
        XCTAssertEqual(sound.status, 1, sound.err)
        XCTAssertTrue(rule.refused(sound.err), sound.err)
        var outcomes: [Int32: Int] = [:]
        for m in InputMutation.mutants(of: Array(valid), count: 150, seed: 0x5EED_0001) {
            let bytes = Data(m.bytes)
            try bytes.write(to: URL(fileURLWithPath: path))
            let r = export.run(in: dir.path)
            rule.check(r, m.what)
            outcomes[r.status, default: 0] += 1
            XCTAssertEqual(FileManager.default.contents(atPath: path), bytes, "\(m.what): the state file changed")
        }
        // Most mutants are refused; some (a flipped bit in a hex digit's case, a duplicated
        // read) load.
        XCTAssertGreaterThan(outcomes[2] ?? 0, 90, "\(outcomes)")
        // A directory, a missing file.
        try FileManager.default.removeItem(atPath: path)
        let missing = InProcessCLI.run(["export", target, "--state", path], in: dir.path)
        XCTAssertEqual(missing.status, 1, "a missing state file starts a new session: \(missing.err)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let isDir = InProcessCLI.run(["export", target, "--state", path], in: dir.path)
        XCTAssertEqual(isDir.status, 2, isDir.err)
        XCTAssertTrue(isDir.err.contains("--state \(path): Is a directory"), isDir.err)
        try? FileManager.default.removeItem(at: dir)
    }

    /// The same through the built binary, for a few mutants: no signal, status 2, the file kept.
    func testDamagedStateThroughTheBinary() throws {
        let dir = try MemhpBinary.temporaryDirectory("state-binary")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path + "/session.state"
        try makeState(at: path)
        let valid = try XCTUnwrap(FileManager.default.contents(atPath: path))
        for m in InputMutation.mutants(of: Array(valid), count: 6, seed: 0x5EED_0002) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = try MemhpBinary.run(["export", dir.path + "/tree", "--state", path])
            XCTAssertFalse(r.signaled, "\(m.what): signal \(r.status): \(r.err)")
            XCTAssertTrue(r.status == 0 || r.status == 2, "\(m.what): status \(r.status): \(r.err)")
            if r.status == 2 { XCTAssertTrue(r.err.contains(path + ":"), "\(m.what): \(r.err)") }
            XCTAssertEqual(FileManager.default.contents(atPath: path), Data(m.bytes), m.what)
        }
    }
}
