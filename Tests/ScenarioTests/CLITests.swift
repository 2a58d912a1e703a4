import Foundation
import MemhpTestSupport
import XCTest

/// The `memhp` executable as a user meets it: bad input exits with status 2 and a message
/// naming the problem; good input prints the kernel's text. Runs the built binary (MemhpBinary).
final class CLITests: XCTestCase {
    func memhp(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = try MemhpBinary.run(args)
        return (r.status, r.out, r.err)
    }

    func testBadMachineOptionsExitWithStatus2AndSayWhy() throws {
        let cases: [([String], String)] = [
            (["boot", "--mem", "0"], "needs memory"),
            (["boot", "--mem", "foo"], "not a size"),
            (["boot", "--mem", "1G", "--maxmem", "512M"], "maxmem"),
            (["boot", "--dimm", "8G"], "memory devices"),
            (["boot", "--slots", "-3"], "slots"),
            (["boot", "--nodes", "512M,256M"], "NUMA"),
            (["read", "--mem", "99999999999T", "/proc/meminfo"], "too large"),
            (["frobnicate"], "frobnicate")
        ]
        for (args, needle) in cases {
            let r = try memhp(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
            XCTAssertTrue(r.err.localizedCaseInsensitiveContains(needle), "\(args): stderr was \(r.err)")
            XCTAssertTrue(r.out.isEmpty, "\(args): nothing on stdout, got \(r.out)")
        }
    }

    func testMalformedScenarioExitsWithStatus2NamingFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memhp-cli-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let f = dir.appendingPathComponent("bad.scn")
        try "mem: 1G\n---\nonline 32 sideways\n".write(to: f, atomically: true, encoding: .utf8)
        let r = try memhp(["run", f.path])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("bad.scn:3"), r.err)
    }

    func testReadPrintsTheKernelText() throws {
        let r = try memhp([
            "read", "/sys/devices/system/memory/block_size_bytes", "/sys/devices/system/memory/memory0/valid_zones"
        ])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "8000000\nnone\n")
        let missing = try memhp(["read", "/sys/devices/system/memory/memory99/state"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("No such file or directory"), missing.err)
    }

    /// `--trace`: each write with the kernel's answer and the model's reason, on stderr. An
    /// export whose --write is refused exits 1 after saying why.
    func testTraceExplainsRefusedWrites() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memhp-trace-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let mem = "/sys/devices/system/memory"
        let ok = try memhp([
            "export", dir.path, "--mem", "1G", "--maxmem", "4G", "--slots", "4", "--dimm", "512M", "--trace",
            "--write", "\(mem)/memory32/state=online_movable"
        ])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertTrue(ok.err.contains("memhp: \(mem)/memory32/state <- \"online_movable\\n\": OK\n"), ok.err)
        let refused = try memhp([
            "export", dir.path, "--mem", "1G", "--maxmem", "4G", "--slots", "4", "--trace",
            "--write", "\(mem)/memory0/state=offline"
        ])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.err.contains(
                "memhp: \(mem)/memory0/state <- \"offline\\n\": EINVAL (Invalid argument)\n    why: memory0: "),
            refused.err)
        XCTAssertTrue(refused.err.contains("spans several zones"), refused.err)
        // Without --trace, nothing but the error itself.
        let quiet = try memhp([
            "export", dir.path, "--mem", "1G", "--maxmem", "4G", "--slots", "4",
            "--write", "\(mem)/memory0/state=offline"
        ])
        XCTAssertFalse(quiet.err.contains("why:"), quiet.err)
        let bad = try memhp(["export", dir.path, "--trace=yes"])
        XCTAssertEqual(bad.status, 2, bad.err)
    }
}
