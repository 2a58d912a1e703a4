import Foundation
import MemhpTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `memhp kernel-run` stopped in the middle takes its QEMU with it: a stand-in "QEMU" (a script
/// that writes its pid and sleeps) is started by the real runner path, then memhp gets a signal.
final class KernelRunSignalTests: XCTestCase {
    struct Run {
        var memhp: Process
        var qemuPID: pid_t
        var work: String
        var stderr: Pipe
    }

    static let cache = FileManager.default.temporaryDirectory.appendingPathComponent(
        "memhp-kr-signal-cache-\(getpid())")
    override class func tearDown() { try? FileManager.default.removeItem(at: cache) }

    /// A fake kernel install (VERSION and an empty vmlinuz) and a one-step scenario under `dir`.
    func fakeKernelAndScenario(in dir: URL) throws -> (kernel: URL, scenario: URL) {
        let kernel = dir.appendingPathComponent("kernel")
        try FileManager.default.createDirectory(at: kernel, withIntermediateDirectories: true)
        try "package=linux-image-test\nabi=test\ndeb_version=0\n".write(
            to: kernel.appendingPathComponent("VERSION"), atomically: true, encoding: .utf8)
        try Data().write(to: kernel.appendingPathComponent("vmlinuz"))
        let scn = dir.appendingPathComponent("signal.scn")
        try "description: runner signal test\nmem: 1G\ntimeout: 600\n---\ndump params\n".write(
            to: scn, atomically: true, encoding: .utf8)
        return (kernel, scn)
    }

    /// A fake kernel install, a one-step scenario, and memhp kernel-run started on them with
    /// `MEMHP_QEMU` naming the stand-in; returns once the stand-in has written its pid.
    func startRun(in dir: URL) throws -> Run {
        for tool in ["/bin/busybox", "/usr/bin/gcc", "/usr/bin/cpio"] {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: tool), "no \(tool) (scripts/kernel-setup.sh installs it)")
        }
        let (kernel, scn) = try fakeKernelAndScenario(in: dir)
        let pidFile = dir.appendingPathComponent("qemu.pid")
        let qemu = dir.appendingPathComponent("fake-qemu")
        try "#!/bin/sh\necho \"$@\" > '\(dir.path)/qemu.args'\necho $$ > '\(pidFile.path)'\nexec sleep 600\n".write(
            to: qemu, atomically: true, encoding: .utf8)
        chmod(qemu.path, 0o755)

        let p = Process()
        p.executableURL = try MemhpBinary.path()
        p.arguments = ["kernel-run", scn.path, "--kernel-dir", kernel.path, "--fixtures", dir.path, "-o", "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["MEMHP_QEMU"] = qemu.path
        env["MEMHP_CACHE"] = Self.cache.path  // the guest is compiled here, once for the class
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let until = Date().addingTimeInterval(120)
        while Date() < until && p.isRunning {
            if let s = try? String(contentsOf: pidFile, encoding: .utf8), s.hasSuffix("\n"),
                let pid = pid_t(s.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                let args = try String(contentsOf: dir.appendingPathComponent("qemu.args"), encoding: .utf8)
                // The work directory is where -initrd lives.
                let words = args.split(whereSeparator: \.isWhitespace).map(String.init)
                let initrd = try XCTUnwrap(words.firstIndex(of: "-initrd").map { words[$0 + 1] })
                return Run(
                    memhp: p, qemuPID: pid, work: (initrd as NSString).deletingLastPathComponent, stderr: err)
            }
            usleep(50_000)
        }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTFail("the stand-in QEMU never started: \(text)")
        throw CocoaError(.fileNoSuchFile)
    }

    /// Whether `pid` is gone (or a zombie nobody reaped yet: PID 1 in a container may not) and
    /// so no longer our sleeping stand-in.
    func gone(_ pid: pid_t, within seconds: Double) -> Bool {
        let until = Date().addingTimeInterval(seconds)
        repeat {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            if state == "Z" || state == "X" { return true }
            // The script before its exec, or the sleep after it; anything else: a reused pid.
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if !cmdline.contains("fake-qemu") && !cmdline.hasPrefix("sleep") { return true }
            usleep(50_000)
        } while Date() < until
        return false
    }

    /// SIGTERM and SIGINT: memhp kills and reaps its QEMU, removes its work directory and exits
    /// 128 + the signal.
    func testTerminatingSignalKillsQEMUAndRemovesTheWorkDirectory() throws {
        let dir = try MemhpBinary.temporaryDirectory("kr-signal")
        defer { try? FileManager.default.removeItem(at: dir) }
        for sig in [SIGTERM, SIGINT] {
            let run = try startRun(in: dir)
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.work + "/initrd.gz"))
            kill(run.memhp.processIdentifier, sig)
            run.memhp.waitUntilExit()
            let err = String(decoding: run.stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(run.memhp.terminationReason, .exit, err)
            XCTAssertEqual(run.memhp.terminationStatus, 128 + sig, err)
            XCTAssertTrue(gone(run.qemuPID, within: 0), "stand-in QEMU \(run.qemuPID) outlived memhp")
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.work), "\(run.work) left behind")
            XCTAssertTrue(err.contains("killed QEMU (pid \(run.qemuPID))"), err)
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("qemu.pid"))
        }
    }

    /// A signal while the guest program is being compiled ends the compiler too: the shell that
    /// runs gcc leads its own process group, which memhp kills as a whole. A stand-in `gcc` first
    /// on PATH writes its pid and sleeps; before, it outlived memhp (only the shell was killed).
    func testTerminatingSignalDuringTheGuestBuildKillsTheCompiler() throws {
        let dir = try MemhpBinary.temporaryDirectory("kr-signal-gcc")
        defer { try? FileManager.default.removeItem(at: dir) }
        for tool in ["/bin/busybox", "/usr/bin/cpio"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "no \(tool)")
        }
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let pidFile = dir.appendingPathComponent("gcc.pid")
        try "#!/bin/sh\necho $$ > '\(pidFile.path)'\nexec sleep 600\n".write(
            to: bin.appendingPathComponent("gcc"), atomically: true, encoding: .utf8)
        chmod(bin.appendingPathComponent("gcc").path, 0o755)
        let (kernel, scn) = try fakeKernelAndScenario(in: dir)

        let p = Process()
        p.executableURL = try MemhpBinary.path()
        p.arguments = ["kernel-run", scn.path, "--kernel-dir", kernel.path, "--fixtures", dir.path, "-o", "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = bin.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env["MEMHP_CACHE"] = dir.appendingPathComponent("cache").path  // empty: the guest is compiled
        env["MEMHP_QEMU"] = "/bin/false"
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        var gccPID: pid_t?
        let until = Date().addingTimeInterval(60)
        while Date() < until && p.isRunning && gccPID == nil {
            if let s = try? String(contentsOf: pidFile, encoding: .utf8), s.hasSuffix("\n") {
                gccPID = pid_t(s.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(50_000)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let pid = try XCTUnwrap(gccPID, "the stand-in gcc never started: \(text)")
        XCTAssertEqual(p.terminationStatus, 128 + SIGTERM, text)
        XCTAssertTrue(text.contains("killed the guest build"), text)
        let until2 = Date().addingTimeInterval(5)
        var alive = true
        while alive && Date() < until2 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            alive = !stat.isEmpty && state != "Z" && (cmdline.hasPrefix("sleep") || cmdline.contains("gcc"))
            if alive { usleep(50_000) }
        }
        if alive { kill(pid, SIGKILL) }
        XCTAssertFalse(alive, "the stand-in gcc \(pid) outlived memhp")
    }

    /// SIGKILL, which memhp cannot catch: the kernel kills QEMU (PR_SET_PDEATHSIG).
    func testSIGKILLTakesQEMUWithIt() throws {
        let dir = try MemhpBinary.temporaryDirectory("kr-sigkill")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try startRun(in: dir)
        defer { try? FileManager.default.removeItem(atPath: run.work) }
        XCTAssertFalse(gone(run.qemuPID, within: 0))
        kill(run.memhp.processIdentifier, SIGKILL)
        run.memhp.waitUntilExit()
        XCTAssertEqual(run.memhp.terminationReason, .uncaughtSignal)
        let isGone = gone(run.qemuPID, within: 5)
        if !isGone { kill(run.qemuPID, SIGKILL) }
        XCTAssertTrue(isGone, "stand-in QEMU \(run.qemuPID) outlived memhp's SIGKILL")
    }
}
