import Foundation
import MemoryModel
import Scenario

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a kernel run produced.
public struct KernelRunResult {
    /// The observation log, header included, one line each.
    public var lines: [String]
    /// The guest finished every step and powered off.
    public var completed: Bool
    /// Why not: `timeout`, `panic`, `guest-lost`, `qemu-exit`, `boot`, or nil.
    public var failure: String?
    public var console: String
    /// The OOM killer killed the guest program: the log ends with `oom_kill`, a complete
    /// outcome of the scenario even though the run did not finish (the kernel then usually
    /// panics, out of processes to kill).
    public var guestOOMKilled = false
    public var text: String { lines.joined(separator: "\n") + "\n" }
    /// A log worth keeping as the kernel's answer: every step ran, or the guest was OOM-killed.
    public var recordable: Bool { completed || guestOOMKilled }
}

public struct KernelRunOptions {
    public var kernel: KernelInstall
    /// `MEMHP_QEMU` when set (tests start a stand-in), else Debian's QEMU.
    public var qemu = ProcessInfo.processInfo.environment["MEMHP_QEMU"] ?? "/usr/bin/qemu-system-x86_64"
    /// Kept after the run when set (initramfs, console.log, qemu.log); otherwise a temp dir removed at the end.
    public var workDir: String?
    public var cache = KernelInstall.defaultCache
    /// Boot the uncompressed kernel through its PVH entry when kernel-setup extracted it
    /// (`KernelInstall.vmlinuxPVH`); false: the bzImage, decompressed in the guest.
    public var pvh = true
    /// Progress messages (stderr in the CLI).
    public var log: (String) -> Void = { _ in }
    public init(kernel: KernelInstall) { self.kernel = kernel }
}

/// Runs a scenario on the real kernel under QEMU TCG and records the observation log.
///
/// Host and guest: the guest's memhp-guest prints observations and `@` requests on ttyS1, a
/// unix socket this process listens on; QMP is a second socket. The kernel console (ttyS0) goes
/// to a file that is watched for panics. Everything is bounded by the scenario's `timeout:`.
public final class KernelRunner {
    let sc: Scenario
    let opt: KernelRunOptions
    var out: [String] = []
    var ctl: LineChannel?
    var qmp: LineChannel?
    var pendingEvents: [QMPMessage] = []
    var consoleText = ""
    var consoleOffset: UInt64 = 0

    public init(scenario: Scenario, options: KernelRunOptions) {
        sc = scenario; opt = options
    }

    // MARK: build

    /// The guest runner compiled with the host's gcc -static and the schema header
    /// (`GuestHeader`), cached by a hash of both.
    func guestBinary() throws -> String {
        let src = try GuestSource.load()
        let header = GuestHeader.render()
        let bin = "\(opt.cache)/guest-\(try GuestSource.fingerprint())"
        if FileManager.default.fileExists(atPath: bin) { return bin }
        try? FileManager.default.createDirectory(atPath: opt.cache, withIntermediateDirectories: true)
        let tmpDir = "\(bin).\(getpid()).d"
        let tmpBin = "\(bin).\(getpid()).tmp"
        RunnerCleanup.shared.addPath(tmpDir)
        RunnerCleanup.shared.addPath(tmpBin)
        try FileManager.default.createDirectory(atPath: tmpDir, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(atPath: tmpDir)
            RunnerCleanup.shared.removePath(tmpDir)
            RunnerCleanup.shared.removePath(tmpBin)
        }
        try src.write(toFile: tmpDir + "/memhp-guest.c", atomically: true, encoding: .utf8)
        try header.write(toFile: tmpDir + "/" + GuestHeader.fileName, atomically: true, encoding: .utf8)
        try sh(
            "gcc -static -O2 -Wall -Wno-format-truncation -o '\(tmpBin)' '\(tmpDir)/memhp-guest.c' && mv '\(tmpBin)' '\(bin)'"
        )
        return bin
    }

    /// Runs `cmd` with /bin/sh and returns what it printed. The shell leads a process group of
    /// its own, tied to memhp like QEMU (`TiedChild`), so a signal to memhp also ends the gcc or
    /// cpio it started instead of leaving them to finish alone.
    @discardableResult
    func sh(_ cmd: String) throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HarnessError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let child: TiedChild
        do {
            defer { close(fds[1]) }
            child = try TiedChild(executable: "/bin/sh", arguments: ["-c", cmd], output: fds[1], processGroup: true)
        }
        let d = reader.readDataToEndOfFile()
        child.waitUntilExit()
        let s = String(decoding: d, as: UTF8.self)
        guard child.terminationStatus == 0 else { throw HarnessError("`\(cmd)` failed: \(s)") }
        return s
    }

    func buildInitramfs(work: String, plan: GuestProgram) throws {
        let root = work + "/root"
        let fm = FileManager.default
        try? fm.removeItem(atPath: root)
        for d in ["bin", "dev", "proc", "sys", "mnt", "ko", "tmp"] {
            try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        try fm.copyItem(atPath: try guestBinary(), toPath: root + "/memhp-guest")
        var files: [(name: String, file: String, args: String)] = []
        var loaded: Set<String> = []
        for m in plan.modules {
            for (name, ko) in try opt.kernel.moduleFiles(m.name) where !loaded.contains(name) {
                loaded.insert(name)
                let dst = "/ko/\(name).ko"
                try fm.copyItem(atPath: ko, toPath: root + dst)
                let isTarget = name == m.name.replacingOccurrences(of: "-", with: "_")
                files.append((name, dst, isTarget ? m.args : ""))
            }
        }
        try GuestInit.script.write(toFile: root + "/init", atomically: true, encoding: .utf8)
        try plan.stepsFile(moduleFiles: files).write(toFile: root + "/steps", atomically: true, encoding: .utf8)
        try sh(
            "chmod 755 '\(root)/init' '\(root)/memhp-guest' && mknod '\(root)/dev/console' c 5 1 && cd '\(root)' && find . | cpio -o -H newc --quiet | gzip -1 > '\(work)/initrd.gz'"
        )
    }

    /// The QEMU command line; `-m`, `-numa`, DIMMs and virtio-mem from the scenario's machine.
    func qemuArgs(work: String) -> [String] {
        let m = sc.machine
        var a = ["-accel", "tcg", "-machine", "pc", "-nodefaults", "-display", "none", "-no-reboot"]
        var mem = SizeParser.format(m.memBytes)
        if m.maxmemBytes > m.memBytes { mem += ",slots=\(m.slots),maxmem=\(SizeParser.format(m.maxmemBytes))" }
        a += ["-m", mem, "-smp", "1"]
        if m.gbpages { a += ["-cpu", "qemu64,+pdpe1gb"] }
        a += [
            "-kernel", opt.kernel.bootImage(pvh: opt.pvh), "-initrd", work + "/initrd.gz",
            "-append", GuestProgram.kernelCommandLine(sc)
        ]
        a += ["-chardev", "file,id=con,path=\(work)/console.log", "-serial", "chardev:con"]
        a += ["-chardev", "socket,id=ctl,path=\(work)/ctl.sock", "-serial", "chardev:ctl"]
        a += ["-chardev", "socket,id=qmp,path=\(work)/qmp.sock", "-mon", "chardev=qmp,mode=control"]
        for n in m.nodes {
            a += [
                "-object", "memory-backend-ram,id=ram-node\(n.id),size=\(SizeParser.format(n.memBytes))",
                "-numa", "node,nodeid=\(n.id),memdev=ram-node\(n.id)" + (n.id == 0 ? ",cpus=0" : "")
            ]
        }
        if !m.distances.isEmpty {
            for i in 0..<m.distances.count {
                for j in 0..<m.distances.count where i < j {
                    a += ["-numa", "dist,src=\(i),dst=\(j),val=\(m.distances[i][j])"]
                }
            }
        }
        let numa = !m.nodes.isEmpty
        for d in m.dimms {
            a += [
                "-object", "memory-backend-ram,id=mem-\(d.id),size=\(SizeParser.format(d.sizeBytes))",
                "-device", "pc-dimm,id=\(d.id),memdev=mem-\(d.id)" + (numa ? ",node=\(d.node)" : "")
            ]
        }
        for v in m.virtioMem {
            var dev =
                "virtio-mem-pci,id=\(v.id),memdev=vmem-\(v.id),requested-size=\(SizeParser.format(v.requestedBytes))"
            if numa { dev += ",node=\(v.node)" }
            if v.blockBytes != 2 << 20 { dev += ",block-size=\(SizeParser.format(v.blockBytes))" }
            a += [
                "-object", "memory-backend-ram,id=vmem-\(v.id),size=\(SizeParser.format(v.regionBytes))", "-device", dev
            ]
        }
        return a
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "-_=,./:+$".contains($0) })
            ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: run

    public func run() throws -> KernelRunResult {
        let tStart = Date()
        let keep = opt.workDir != nil
        let work: String
        if let w = opt.workDir {
            work = w
            try FileManager.default.createDirectory(atPath: w, withIntermediateDirectories: true)
        } else {
            var tmpl = Array("/tmp/memhp-kr-XXXXXX".utf8CString)
            guard let p = mkdtemp(&tmpl) else { throw HarnessError("mkdtemp failed") }
            work = String(cString: p)
        }
        // The signals are taken from here on: a SIGTERM while the initramfs is built removes it too.
        RunnerCleanup.shared.install()
        if !keep { RunnerCleanup.shared.addPath(work) }
        defer {
            if !keep {
                try? FileManager.default.removeItem(atPath: work)
                RunnerCleanup.shared.removePath(work)
            }
        }

        let plan = GuestProgram(sc)
        try buildInitramfs(work: work, plan: plan)
        let buildS = Date().timeIntervalSince(tStart)
        let args = qemuArgs(work: work)
        let shown = ([opt.qemu] + args).map {
            Self.shellQuote(
                $0.replacingOccurrences(of: opt.kernel.dir, with: "$KERNEL_DIR").replacingOccurrences(
                    of: work, with: "$WORK"))
        }.joined(separator: " ")

        out = [
            "# memhp observations v1",
            "# scenario: \(sc.name) (\(sc.file))",
            "# description: \(sc.description)",
            "# runner: kernel",
            "# kernel: \(opt.kernel.abi) \(opt.kernel.package) \(opt.kernel.debVersion)",
            "# qemu: \(shown)"
        ]

        let ctlL = try UnixListener(path: work + "/ctl.sock")
        let qmpL = try UnixListener(path: work + "/qmp.sock")
        defer { ctlL.close(); qmpL.close() }
        _ = FileManager.default.createFile(atPath: work + "/qemu.log", contents: nil)
        guard let qlog = FileHandle(forWritingAtPath: work + "/qemu.log") else {
            throw HarnessError("cannot write \(work)/qemu.log")
        }
        let t0 = Date()
        // Tied to this thread (PR_SET_PDEATHSIG): it is reaped below before run() returns or throws.
        let proc = try TiedChild(executable: opt.qemu, arguments: args, output: qlog.fileDescriptor)
        defer {
            if proc.isRunning { proc.signal(SIGKILL) }
            proc.waitUntilExit()
        }
        opt.log("kernel-run: \(sc.name): QEMU started (pid \(proc.pid)), timeout \(sc.timeoutSeconds) s")
        let deadline = t0.addingTimeInterval(Double(sc.timeoutSeconds))

        var failure: String?
        var bootS: Double?
        var done = false
        var exitRC: Int?
        var sawScenarioExit = false

        ctl = ctlL.accept(timeout: 30)
        qmp = qmpL.accept(timeout: 30)
        if ctl == nil || qmp == nil {
            failure = "qemu-exit"
        } else {
            _ = qmpCommand("qmp_capabilities", [:], timeout: 30)
        }

        loop: while failure == nil && !done {
            if Date() > deadline { failure = "timeout"; break }
            waitReadable([ctl!.fd, qmp!.fd], timeout: 0.2)
            for m in drainQMP() { emitEvent(m) }
            for line in ctl!.readLines() {
                if line.hasPrefix("@hello") {
                    bootS = Date().timeIntervalSince(t0)
                    opt.log("kernel-run: \(sc.name): guest up after \(String(format: "%.1f", bootS!)) s")
                } else if line.hasPrefix("@host ") {
                    let parts = line.split(separator: " ")
                    guard parts.count >= 2, let n = Int(parts[1]), n >= 1, n <= plan.hostSteps.count else {
                        out.append("# bad host request: \(line)"); continue
                    }
                    let ack = performHostStep(plan.hostSteps[n - 1], deadline: deadline)
                    ctl!.send("@ack \(n)\(ack.isEmpty ? "" : " " + ack)\n")
                } else if line.hasPrefix("@done") {
                    done = true
                } else if line.hasPrefix("@exit ") {
                    exitRC = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
                    if exitRC != 0 || !sawScenarioExit { done = true }
                } else if line.hasPrefix("@") {
                    out.append("# guest: \(line)")
                } else if !line.isEmpty {
                    if line.hasPrefix("scenario_exit ") { sawScenarioExit = true; exitRC = 0 }
                    if (try? Observation.parse(line)) == nil {
                        out.append("# unparsable: \(line)")
                    } else {
                        out.append(line)
                    }
                }
            }
            pollConsole(work)
            if consoleText.contains("Kernel panic - not syncing") { failure = "panic"; break loop }
            if ctl!.eof || !proc.isRunning {
                if !done { failure = bootS == nil ? "boot" : "guest-lost" }
                break
            }
        }
        // The guest powers off after `@done`; give it a moment, then make sure QEMU is gone.
        let exitBy = Date().addingTimeInterval(done ? 15 : 2)
        while proc.isRunning && Date() < exitBy {
            if let q = qmp {
                waitReadable([q.fd], timeout: 0.2); for m in drainQMP() { emitEvent(m) }
            } else {
                usleep(200_000)
            }
        }
        if proc.isRunning {
            if let q = qmp { q.send(#"{"execute":"quit"}"# + "\n") }
            usleep(500_000)
            if proc.isRunning { proc.signal(SIGKILL) }
        }
        proc.waitUntilExit()
        try? qlog.close()
        for m in drainQMP() { emitEvent(m) }
        pollConsole(work)
        if failure == nil && consoleText.contains("Kernel panic - not syncing") { failure = "panic" }
        ctl?.close(); qmp?.close()

        // The OOM killer chose the guest program: its output ends where it died, a terminal
        // outcome the model predicts (ModelRunner.guestKilled), whatever init did afterwards.
        let guestOOMKilled = !sawScenarioExit && Self.oomKilled(GuestProgram.processName, console: consoleText)
        if guestOOMKilled { out.append(Observation("oom_kill", [.init("process", GuestProgram.processName)]).line) }
        if !sawScenarioExit { out.append("scenario_exit rc=\(exitRC ?? -1)") }
        let total = Date().timeIntervalSince(t0)
        let completed = done && failure == nil && (exitRC ?? 0) == 0
        var end = Observation("end")
        end.add("completed", completed ? 1 : 0)
        if let failure { end.add("reason", failure) }
        end.add("scenario_rc", exitRC.map(String.init) ?? "-")
        end.add("qemu_rc", proc.terminationStatus)
        end.add("boot_s", bootS.map { String(format: "%.1f", $0) } ?? "-")
        end.add("total_s", String(format: "%.1f", total))
        end.add("build_s", String(format: "%.1f", buildS))
        out.append(end.line)
        if failure != nil || !completed {
            // Keep what the console showed last: a panic or the OOM killer explains a lost guest.
            // The serial console ends lines with \r\n, a single Character in Swift: split on scalars.
            let lines = consoleText.unicodeScalars.split(separator: "\n").map {
                String(String.UnicodeScalarView($0)).replacingOccurrences(of: "\r", with: "")
            }
            for l in lines.suffix(40) { out.append("# console: \(l)") }
        }
        return KernelRunResult(
            lines: out, completed: completed, failure: failure ?? (completed ? nil : "incomplete"),
            console: consoleText,
            guestOOMKilled: guestOOMKilled)
    }

    /// Whether the console shows `oom_kill_process`'s "Out of memory: Killed process PID (COMM)"
    /// for this process name.
    static func oomKilled(_ comm: String, console: String) -> Bool {
        console.split(whereSeparator: \.isNewline).contains {
            $0.contains("Out of memory: Killed process ") && $0.contains("(\(comm))")
        }
    }

    func pollConsole(_ work: String) {
        guard let fh = FileHandle(forReadingAtPath: work + "/console.log") else { return }
        defer { try? fh.close() }
        try? fh.seek(toOffset: consoleOffset)
        let d = fh.readDataToEndOfFile()
        consoleOffset += UInt64(d.count)
        consoleText += String(decoding: d, as: UTF8.self)
    }

    // MARK: QMP

    func drainQMP() -> [QMPMessage] {
        guard let q = qmp else { return [] }
        var evs = pendingEvents
        pendingEvents = []
        for l in q.readLines() { if let m = QMPMessage(l), m.event != nil { evs.append(m) } }
        return evs
    }

    func emitEvent(_ m: QMPMessage) {
        var o = Observation("qmp_event")
        o.add("name", m.event ?? "?")
        o.addQuoted("data", m.compactData)
        out.append(o.line)
    }

    /// Sends a command and waits for its reply; events that arrive meanwhile are kept for later.
    @discardableResult
    func qmpCommand(_ cmd: String, _ args: [String: Any], timeout: Double) -> QMPMessage? {
        guard let q = qmp else { return nil }
        var msg: [String: Any] = ["execute": cmd]
        if !args.isEmpty { msg["arguments"] = args }
        guard let d = try? JSONSerialization.data(withJSONObject: msg) else { return nil }
        q.send(String(decoding: d, as: UTF8.self) + "\n")
        let until = Date().addingTimeInterval(timeout)
        while Date() < until && !q.eof {
            waitReadable([q.fd], timeout: 0.1)
            // Every line of the batch is kept: an event read in the same chunk after the reply
            // (device_del's _OST 0x84 "eject in progress") must not be lost with the rest.
            var reply: QMPMessage?
            for l in q.readLines() {
                guard let m = QMPMessage(l) else { continue }
                if m.event != nil {
                    pendingEvents.append(m)
                } else if reply == nil, m.isReturn || m.error != nil {
                    reply = m
                }
            }
            if let reply { return reply }
        }
        return nil
    }

    /// Collects events until `stop` says so or `until` passes.
    func waitEvents(until: Date, stop: ([QMPMessage]) -> Bool) -> [QMPMessage] {
        var seen: [QMPMessage] = []
        while Date() < until {
            seen += pendingEvents; pendingEvents = []
            if stop(seen) { break }
            guard let q = qmp, !q.eof else { break }
            waitReadable([q.fd], timeout: 0.1)
            for l in q.readLines() { if let m = QMPMessage(l), m.event != nil { pendingEvents.append(m) } }
        }
        seen += pendingEvents; pendingEvents = []
        return seen
    }

    static func ostStatus(_ m: QMPMessage, device: String?) -> Int? {
        guard m.event == "ACPI_DEVICE_OST", let info = (m.json["data"] as? [String: Any])?["info"] as? [String: Any]
        else { return nil }
        if let device, let d = info["device"] as? String, d != device { return nil }
        return (info["status"] as? NSNumber)?.intValue
    }

    /// Performs a hot-plug step over QMP; appends its `hotplug` and `qmp_event` lines and returns
    /// what the guest needs to wait for (`blocks=A-B`).
    func performHostStep(_ step: Step, deadline: Date) -> String {
        let t = Date()
        var o = Observation("hotplug")
        var ack = ""
        var events: [QMPMessage] = []
        let numa = !sc.machine.nodes.isEmpty
        switch step {
        case .dimmAdd(let id, let size, let node):
            o.add("action", "dimm-add"); o.add("id", id); o.add("size", size); o.add("node", node)
            var ok = false
            var err = ""
            if let r = qmpCommand(
                "object-add", ["qom-type": "memory-backend-ram", "id": "mem-\(id)", "size": size], timeout: 30),
                r.error == nil
            {
                var dev: [String: Any] = ["driver": "pc-dimm", "id": id, "memdev": "mem-\(id)"]
                if numa { dev["node"] = node }
                if let r2 = qmpCommand("device_add", dev, timeout: 30) {
                    if let e = r2.error { err = e } else { ok = true }
                } else {
                    err = "no reply"
                }
            } else {
                err = "object-add failed"
            }
            if ok {
                // The guest reports the insertion done with _OST (status 0) after adding (and auto-onlining) the blocks.
                events = waitEvents(until: min(deadline, t.addingTimeInterval(60))) { evs in
                    evs.contains { Self.ostStatus($0, device: id) != nil }
                }
                let addr =
                    (qmpCommand("qom-get", ["path": "/machine/peripheral/\(id)", "property": "addr"], timeout: 10)?
                    .json["return"] as? NSNumber)?.intValue ?? -1
                let bs = Geometry.minMemoryBlockSize
                o.add("addr", "0x" + String(addr, radix: 16))
                if addr >= 0 {
                    let blocks = "\(addr / bs)-\((addr + size) / bs - 1)"
                    o.add("blocks", blocks)
                    ack = "blocks=\(blocks)"
                }
                let ost = events.compactMap { Self.ostStatus($0, device: id) }
                o.add("ost", ost.isEmpty ? "-" : ost.map(String.init).joined(separator: ","))
                o.add("ok", ost.isEmpty ? 0 : 1)
            } else {
                o.add("ok", 0); o.addQuoted("error", err)
            }
        case .dimmDel(let id, let timeout):
            o.add("action", "dimm-del"); o.add("id", id)
            if let r = qmpCommand("device_del", ["id": id], timeout: 30), r.error == nil {
                // Done when QEMU deletes the device, or the guest refuses (_OST other than 0x84 "in progress").
                events = waitEvents(until: min(deadline, t.addingTimeInterval(Double(timeout)))) { evs in
                    evs.contains {
                        ($0.event == "DEVICE_DELETED"
                            && (($0.json["data"] as? [String: Any])?["device"] as? String) == id)
                            || (Self.ostStatus($0, device: id).map { $0 != 0x84 && $0 != 0 } ?? false)
                    }
                }
                // The final _OST after a removal carries no device name; collect it too.
                events += waitEvents(until: Date().addingTimeInterval(0.5)) { _ in false }
                let deleted = events.contains { $0.event == "DEVICE_DELETED" }
                let ost = events.compactMap { Self.ostStatus($0, device: nil) }
                let refused = ost.contains { $0 != 0x84 && $0 != 0 }
                o.add("deleted", deleted ? 1 : 0)
                o.add("ost", ost.isEmpty ? "-" : ost.map(String.init).joined(separator: ","))
                o.add("ok", deleted || refused ? 1 : 0)
            } else {
                o.add("deleted", 0); o.add("ok", 0); o.addQuoted("error", "device_del failed")
            }
        case .vmemResize(let id, let size, let timeout):
            o.add("action", "vmem-resize"); o.add("id", id); o.add("requested", size)
            let path = "/machine/peripheral/\(id)"
            qmpCommand("qom-set", ["path": path, "property": "requested-size", "value": size], timeout: 30)
            let until = min(deadline, t.addingTimeInterval(Double(timeout)))
            var cur = -1
            while Date() < until {
                cur =
                    (qmpCommand("qom-get", ["path": path, "property": "size"], timeout: 10)?.json["return"] as? NSNumber)?
                    .intValue ?? -1
                if cur == size { break }
                usleep(100_000)
            }
            events = pendingEvents; pendingEvents = []
            o.add("size", cur)
            o.add("ok", cur == size ? 1 : 0)
        default:
            break
        }
        o.add("elapsed_s", String(format: "%.1f", Date().timeIntervalSince(t)))
        out.append(o.line)
        for e in events { emitEvent(e) }
        return ack
    }
}

/// memhp-guest.c, shipped as a resource of this target.
public enum GuestSource {
    /// FNV-1a of the runner's source and schema header: names the cached binary and, in a
    /// campaign's RUNS, the runner a seed was recorded with.
    public static func fingerprint() throws -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in (try load() + GuestHeader.render()).utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16)
    }

    static func load() throws -> String {
        if let url = Bundle.module.url(forResource: "memhp-guest", withExtension: "c", subdirectory: "Guest"),
            let s = try? String(contentsOf: url, encoding: .utf8)
        {
            return s
        }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Guest/memhp-guest.c")
        if let s = try? String(contentsOf: here, encoding: .utf8) { return s }
        throw HarnessError("memhp-guest.c not found (neither in the resource bundle nor at \(here.path))")
    }
}
