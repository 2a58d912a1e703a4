import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

/// Each thing a new user met (issue 10, item 4), run through the built binary: the status,
/// what stdout and stderr say. Expected figures are QEMU's or the kernel's, worked by hand.
final class CLIBehaviourTests: XCTestCase {
    let run = MemhpBinary.run

    /// Errors say which subcommand they belong to and show its usage, never the top level's
    /// or demo's; nothing goes to stdout.
    func assertUsageError(_ args: [String], _ needles: [String], file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let r = try run(args, nil)
        XCTAssertEqual(r.status, 2, "\(args): \(r.err)", file: file, line: line)
        XCTAssertEqual(r.out, "", "\(args)", file: file, line: line)
        for n in needles { XCTAssertTrue(r.err.contains(n), "\(args): want \(n) in\n\(r.err)", file: file, line: line) }
        XCTAssertFalse(r.err.contains("Usage: memhp <subcommand>"), "\(args): \(r.err)", file: file, line: line)
        XCTAssertFalse(r.err.contains("memhp demo [--seed"), "\(args): \(r.err)", file: file, line: line)
    }

    /// `boot --show dmesg` prints the kernel log (the help lists the name); an unknown path
    /// is an error on stderr with exit status 1, an unknown name a usage error.
    func testBootShowDmesg() throws {
        let r = try run(["boot", "--show", "dmesg"], nil)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("# dmesg (memory)\nCommand line: \n"), r.out)
        // QEMU's 1 GiB pc machine: the usable RAM below the BIOS' top 128 KiB.
        XCTAssertTrue(r.out.contains("BIOS-e820: [mem 0x0000000000100000-0x000000003ffdffff] usable\n"), r.out)
        XCTAssertFalse(r.out.contains("ENOENT"))
        let both = try run(["boot", "--show", "blocks", "--show", "/proc/nope"], nil)
        XCTAssertEqual(both.status, 1)
        XCTAssertEqual(both.err, "memhp: /proc/nope: No such file or directory\n")
        XCTAssertTrue(both.out.hasPrefix("# /sys/devices/system/memory\nmemory0 state=online"), both.out)
        try assertUsageError(["boot", "--show", "frob"], ["memhp boot: ", "'frob'", "dmesg"])
    }

    /// Sizes as QEMU reads them: `--mem 1.5G` boots 1.5 GiB (12 memory blocks of 128 MiB);
    /// `--mem 1024` is MiB as `-m` reads it; `--maxmem 4294967296` is bytes as `maxmem=` reads it.
    func testSizesAsQEMUReadsThem() throws {
        let r = try run(
            [
                "read", "--mem", "1.5G", "/sys/devices/system/memory/memory11/state",
                "/sys/devices/system/memory/memory12/state"
            ], nil)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.out, "online\n")
        XCTAssertTrue(r.err.contains("memory12/state: No such file or directory"), r.err)
        let bare = try run(
            ["read", "--mem", "1024", "--maxmem", "4294967296", "/sys/devices/system/memory/memory7/state"], nil)
        XCTAssertEqual(bare.status, 0, bare.err)
        XCTAssertEqual(bare.out, "online\n")
        try assertUsageError(
            ["boot", "--mem", "-1"], ["memhp boot: --mem '-1': a size cannot be negative", "Usage: memhp boot ["])
        try assertUsageError(["boot", "--mem", "1.5"], ["--mem '1.5': a fraction needs a unit"])
        try assertUsageError(["boot", "--mem", "1e3"], ["--mem '1e3': not a size"])
        try assertUsageError(["boot", "--maxmem", "99999999999T"], ["--maxmem '99999999999T': too large"])
        // QEMU's pc_memory_init bound, at the model's 52 physical address bits: 4 GiB + 4 PiB
        // of device memory + 4 slots' GiB + the 2 GiB 64-bit PCI hole (it trapped in MemMap).
        try assertUsageError(
            ["read", "--maxmem", "4P", "/proc/meminfo"],
            ["memhp read: Address space limit 0xfffffffffffff < 0x1000023fffffff phys-bits too low (52)"])
        try assertUsageError(
            ["boot", "--dimm", "512"], ["backend memory size must be multiple of 0x200000", "512 is 512 bytes"])
        try assertUsageError(
            ["read", "--slots", "-3", "/proc/meminfo"], ["--slots -3: not between 0 and 256", "Usage: memhp read ["])
    }

    /// QEMU plugs a 100 MiB DIMM (a multiple of its 2 MiB backend alignment), but the
    /// kernel's add_memory() takes only whole 128 MiB blocks: memhp says so, and no block appears.
    func testMisalignedDIMMIsReported() throws {
        let r = try run(["boot", "--dimm", "100M", "--show", "blocks"], nil)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(
            r.err.hasPrefix(
                "memhp: warning: DIMM dimm1 (100M at 0x100000000) is not in the guest: not aligned to the memory block size (128 MiB)"
            ), r.err)
        // 1 GiB of boot memory: memory0-7 and nothing else.
        XCTAssertEqual(r.out.split(separator: "\n").filter { $0.hasPrefix("memory") }.count, 8, r.out)
        let json = try run(["boot", "--dimm", "100M", "--show", "blocks", "--json"], nil)
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: json.outBytes) as? [String: Any])
        let dimm = try XCTUnwrap(((o["machine"] as? [String: Any])?["dimms"] as? [[String: Any]])?.first)
        XCTAssertEqual(dimm["added"] as? Bool, false)
        XCTAssertEqual(dimm["size_bytes"] as? Int, 100 << 20)
    }

    /// `--mem 4G --nodes 2G,2G` with the default maxmem: QEMU's own text, then the hint.
    func testMaxmemHint() throws {
        try assertUsageError(
            ["boot", "--mem", "4G", "--nodes", "2G,2G"],
            [
                "memhp boot: invalid value of maxmem: memory slots were specified but maximum memory size equals initial memory size (0x100000000)",
                "--maxmem defaults to 4G", "--maxmem 8G", "--slots 0", "Usage: memhp boot ["
            ])
        let ok = try run(
            ["read", "--mem", "4G", "--nodes", "2G,2G", "--maxmem", "8G", "/sys/devices/system/node/online"], nil)
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertEqual(ok.out, "0-1\n")
    }

    /// Unknown commands are named; `--version` exists; `memhp` alone still runs the demo.
    func testUnknownCommandAndVersion() throws {
        let r = try run(["frobnicate"], nil)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.hasPrefix("memhp: unknown command 'frobnicate'; the commands are demo, boot, read,"), r.err)
        XCTAssertFalse(r.err.contains("demo [--seed"))
        let v = try run(["--version"], nil)
        XCTAssertEqual(v.status, 0, v.err)
        XCTAssertEqual(v.out, "memhp \(MemHP.version) (a model of Linux 6.1 memory hotplug on QEMU 7.2's pc machine)\n")
        let option = try run(["--frobnicate"], nil)
        XCTAssertEqual(option.status, 2)
        XCTAssertTrue(
            option.err.hasPrefix("memhp: Unknown option '--frobnicate'\nUsage: memhp <subcommand>"), option.err)
        try assertUsageError(["boot", "--frob"], ["memhp boot: Unknown option '--frob'", "Usage: memhp boot ["])
    }

    /// `sandbox` without `--` says how to use it (validation runs before it needs root or FUSE).
    func testSandboxExplainsTheTerminator() throws {
        try assertUsageError(["sandbox"], ["memhp sandbox: no COMMAND to run: give it after `--`", "-- lsmem -a"])
        try assertUsageError(["sandbox", "--mem", "2G"], ["after `--`"])
    }

    /// `conformance` where there are no fixtures says where it looked and exits 2.
    func testConformanceWithoutFixturesExits2() throws {
        let empty = try MemhpBinary.temporaryDirectory("conf")
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try run(["conformance"], empty)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("\(empty.path)/tests/conformance"), r.err)
        XCTAssertTrue(r.err.contains("No such file or directory"), r.err)
        XCTAssertFalse(r.out.contains("0 passed"), r.out)
        let none = try run(["conformance", "--dir", empty.path], nil)
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.err.contains("no scenario with a fixture in \(empty.path)"), none.err)
        // A named scenario without a fixture compares nothing: a failure, not a pass.
        let scn = empty.appendingPathComponent("lonely.scn")
        try "mem: 1G\n---\nstep one\n".write(to: scn, atomically: true, encoding: .utf8)
        let lonely = try run(["conformance", scn.path], nil)
        XCTAssertEqual(lonely.status, 1, lonely.err)
        XCTAssertTrue(lonely.err.contains("lonely: no fixture \(empty.path)/lonely.kernel.txt"), lonely.err)
    }

    /// /proc/kpageflags is binary: `read` refuses to print it as text and says how, and
    /// `--raw` writes one 64-bit word per pfn: 1 GiB is 262144 pfns, and pfn 0 (the BIOS
    /// page) is KPF_RESERVED (bit 32).
    func testKpageflagsNeedsRaw() throws {
        let r = try run(["read", "/proc/kpageflags"], nil)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.out, "")
        XCTAssertTrue(r.err.contains("/proc/kpageflags: a binary file") && r.err.contains("--raw"), r.err)
        XCTAssertFalse(r.err.contains("Permission denied"))
        let raw = try run(["read", "--raw", "/proc/kpageflags"], nil)
        XCTAssertEqual(raw.status, 0, raw.err)
        XCTAssertEqual(raw.outBytes.count, 262144 * 8)
        let word0 = raw.outBytes.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        XCTAssertEqual(word0, 1 << 32)
    }

    /// A malformed scenario points at the line at fault (the `maxmem:` line, not the `---`
    /// after it); an unreadable file or output path is named with the C library's words.
    func testFileErrorsNameFileAndLine() throws {
        let dir = try MemhpBinary.temporaryDirectory("files")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.scn")
        try "mem: 1G\nmaxmem: 1G\ndimm: d1 512M\n---\nstep x\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try run(["run", bad.path], nil)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.err, "\(bad.path):2: `maxmem:` 1G is smaller than mem + DIMMs + virtio-mem (1536M)\n")
        let missing = try run(["run", dir.appendingPathComponent("none.scn").path], nil)
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.err, "memhp: cannot read \(dir.path)/none.scn: No such file or directory\n")
        let good = dir.appendingPathComponent("good.scn")
        try "mem: 1G\n---\nstep one\n".write(to: good, atomically: true, encoding: .utf8)
        let out = try run(["run", good.path, "-o", "\(dir.path)/no/such/dir/log.txt"], nil)
        XCTAssertEqual(out.status, 2)
        XCTAssertTrue(out.err.contains("\(dir.path)/no/such/dir/log.txt: "), out.err)
        XCTAssertFalse(out.err.contains("NSCocoaErrorDomain"), out.err)
        let state = try run(["export", dir.appendingPathComponent("tree").path, "--state", dir.path], nil)
        XCTAssertEqual(state.status, 2)
        XCTAssertTrue(state.err.contains("--state \(dir.path): Is a directory"), state.err)
    }

    /// A slab hold the guest cannot take (its message queue would need msgmnb above INT_MAX) is
    /// refused when the file is read, by the model's runner and the kernel's alike: FILE:LINE,
    /// status 2, before anything boots.
    func testSlabHoldAboveMsgmnbIsRefusedByBothRunners() throws {
        let dir = try MemhpBinary.temporaryDirectory("slab")
        defer { try? FileManager.default.removeItem(at: dir) }
        let big = dir.appendingPathComponent("big.scn")
        try "mem: 4G\nmaxmem: 8G\n---\nstep s\nhold slab s1 3G node=0\n".write(
            to: big, atomically: true, encoding: .utf8)
        for command in ["run", "kernel-run"] {
            // An empty --kernel-dir: were the file accepted, kernel-run would stop there, not boot.
            let args = command == "run" ? [command, big.path] : [command, big.path, "--kernel-dir", dir.path]
            let r = try run(args, nil)
            XCTAssertEqual(r.status, 2, "\(command): \(r.err)")
            XCTAssertEqual(r.out, "", command)
            XCTAssertTrue(
                r.err.hasPrefix("\(big.path):5: a slab hold is at most 2122012K (2172940288 bytes)"),
                "\(command): \(r.err)")
        }
    }

    /// Issue 11 item 6: a scenario cut mid-line (no final newline; "online 3" of "online 32")
    /// is not run: FILE:LINE and status 2, nothing on stdout.
    func testScenarioCutMidLineExits2WithFileAndLine() throws {
        let dir = try MemhpBinary.temporaryDirectory("cut")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cut = dir.appendingPathComponent("cut.scn")
        try "mem: 1G\n---\nstep one\nread /proc/meminf".write(to: cut, atomically: true, encoding: .utf8)
        let r = try run(["run", cut.path], nil)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.out, "")
        XCTAssertEqual(r.err, "\(cut.path):4: the last line has no newline: the file was cut short\n")
    }

    /// Issue 11 item 6: a failed export leaves DIR as it was and nothing beside it (the tree
    /// is written to a temporary directory and renamed into place). Here DIR is a regular
    /// file, so the move fails after the whole tree was written.
    func testFailedExportLeavesTheTargetAsItWas() throws {
        let dir = try MemhpBinary.temporaryDirectory("export-fail")
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target")
        try "keep\n".write(to: target, atomically: true, encoding: .utf8)
        let r = try run(["export", target.path], nil)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.hasPrefix("memhp: export: "), r.err)
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "keep\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["target"])
    }
}
