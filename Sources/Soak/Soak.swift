import Foundation
import KernelFS
import MemoryModel

/// The fuzz-and-soak harness (issue 11): random file writes (malformed values and file
/// positions included), reads, root's chmod/chown, allocations up to OOM, DIMM hot-add and
/// eject, and bursts of
/// concurrent writers, on a live model; `verify()` at a fixed period; and at another period
/// the session is saved through the `--state` text form, reloaded into a freshly booted
/// machine, and compared with the live one file by file, after which the reloaded machine
/// carries on (so every later operation also checks that the reload was exact). Every
/// random choice comes from `seed`; the machine is rebooted every `epochOps` operations to
/// keep journals (and reload times) bounded, so it can run for hours.
public struct SoakOptions: Sendable {
    public var ops = 10_000
    public var seed: UInt64 = 1
    public var verifyEvery = 1_000
    public var reloadEvery = 10_000
    /// Short epochs keep the replay work of each reload (the journal since boot) small.
    public var epochOps = 20_000
    public var concurrency = true
    public init() {}
}

/// What a run found. `violations` must be empty.
public struct SoakReport: Sendable {
    public var ops = 0
    public var writes = 0, refusedWrites = 0, reads = 0, events = 0, bursts = 0, attributeChanges = 0
    public var verifies = 0, reloads = 0, boots = 0
    public var journalEntriesReplayed = 0
    public var violations: [String] = []
    public var seconds = 0.0, cpuSeconds = 0.0
}

public final class Soak {
    public let options: SoakOptions
    var rng: SplitMix64
    var fs: KernelFS
    var config: MachineConfig
    var writable: [String] = []
    var readable: [String] = []
    var report = SoakReport()
    var dimmSerial = 0
    var opsThisEpoch = 0
    /// Called with a line now and then (progress).
    public var progress: ((String) -> Void)?

    /// The machines the epochs cycle through.
    static let configs: [MachineConfig] = [
        MachineConfig(
            memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimms: [DIMMConfig(id: "d0", sizeBytes: 512 << 20)]),
        MachineConfig(memBytes: 2 << 30, maxmemBytes: 8 << 30, slots: 4, cmdline: "hugetlb_free_vmemmap=on"),
        MachineConfig(
            memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimms: [DIMMConfig(id: "d0", sizeBytes: 256 << 20)],
            cmdline: "memhp_default_state=online_movable")
    ]

    public init(options: SoakOptions) throws {
        self.options = options
        rng = SplitMix64(seed: options.seed)
        config = Soak.configs[0]
        fs = try Soak.boot(config)
    }

    static func boot(_ config: MachineConfig) throws -> KernelFS {
        let m = try Machine.boot(config)
        let fs = KernelFS(machine: m)
        fs.journaling = true
        return fs
    }

    public func run() -> SoakReport {
        let start = Date()
        var reported = 0
        do {
            try reboot()
            for i in 0..<options.ops {
                if opsThisEpoch >= options.epochOps { try reboot() }
                try step()
                report.ops += 1
                opsThisEpoch += 1
                if (i + 1) % options.verifyEvery == 0 { check() }
                if (i + 1) % options.reloadEvery == 0 { try reloadAndCompare() }
                if report.violations.count > reported {
                    for v in report.violations[reported...] { progress?("soak: violation: \(v)") }
                    reported = report.violations.count
                }
                if (i + 1) % 50_000 == 0 {
                    progress?(
                        "soak: \(i + 1) ops, \(report.reloads) reloads, \(report.violations.count) violations, \(Int(Date().timeIntervalSince(start))) s, \(Int(Soak.cpuSeconds())) s CPU"
                    )
                }
                if report.violations.count >= 20 { break }
            }
            check()
        } catch {
            report.violations.append("op \(report.ops): \(error)")
        }
        report.seconds = Date().timeIntervalSince(start)
        report.cpuSeconds = Soak.cpuSeconds()
        return report
    }

    /// CPU time of this process so far, all threads (CLOCK_PROCESS_CPUTIME_ID).
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func reboot() throws {
        config = Soak.configs[report.boots % Soak.configs.count]
        config.seed = rng.next()
        fs = try Soak.boot(config)
        report.boots += 1
        opsThisEpoch = 0
        refreshPaths()
    }

    func refreshPaths() {
        writable = []; readable = []
        guard let all = try? fs.walk() else { return }
        for (path, node) in all {
            if case .symlink = node, path.hasPrefix("/sys/devices/system/node/node"),
                path.split(separator: "/").last?.hasPrefix("memory") == true
            {
                // A node's memoryN link: its block's files through the link, whose walk a
                // replay must repeat as the writer and reader took it (not the target's).
                for name in ["state", "online"] { writable.append(path + "/" + name) }
                readable.append(path + "/state")
                continue
            }
            guard case .file(let f) = node else { continue }
            if f.mode & 0o222 != 0, f.store != nil { writable.append(path) }
            if f.mode & 0o444 != 0, f.show != nil, f.readBytes == nil { readable.append(path) }
        }
    }

    func check() {
        report.verifies += 1
        do { try fs.withLock { try $0.verify() } } catch {
            report.violations.append("op \(report.ops): verify: \(error)")
        }
    }

    // MARK: - Operations

    func step() throws {
        let r = rng.below(1000)
        switch r {
        case 0..<595: randomWrite(&rng, fs: fs, report: &report)
        case 595..<600: randomAttributes()
        case 600..<800:
            if let p = readable.isEmpty ? nil : rng.pick(readable) { _ = try? fs.read(p); report.reads += 1 }
        case 800..<990: try event()
        default:
            if options.concurrency { burst() } else { randomWrite(&rng, fs: fs, report: &report) }
        }
        if r >= 800 || rng.chance(2) { refreshPaths() }
    }

    func randomWrite(_ g: inout SplitMix64, fs: KernelFS, report: inout SoakReport) {
        Soak.randomWrite(&g, fs: fs, writable: writable, report: &report, realTime: false)
    }

    static func randomWrite(
        _ g: inout SplitMix64, fs: KernelFS, writable: [String], report: inout SoakReport, realTime: Bool
    ) {
        guard !writable.isEmpty else { return }
        let path = g.pick(writable)
        let value = Soak.value(for: path, &g)
        let position: Int64 = g.chance(5) ? Int64(1 + g.below(10)) : 0
        // A real-time writer with its signal already pending: an offline that would spin
        // ends at its first wait (EINTR), as a FUSE writer's Ctrl-C does.
        let signalled = realTime && g.chance(50)
        var ctx = WriteContext(position: position)
        if signalled { ctx.signalPending = Soak.signalAlreadyPending }
        report.writes += 1
        do { try fs.write(path, value, context: ctx) } catch { report.refusedWrites += 1 }
    }

    @Sendable static func signalAlreadyPending() -> Bool { true }

    /// Root's chmod or chown of a served file (a sysctl refuses it: EPERM).
    func randomAttributes() {
        let paths = rng.chance(50) ? writable : readable
        guard !paths.isEmpty else { return }
        let path = rng.pick(paths)
        var change = AttributeOverride()
        switch rng.below(3) {
        case 0: change.mode = UInt16(rng.below(0o1000))
        case 1: change.uid = UInt32(rng.below(3))
        default: (change.uid, change.gid) = (UInt32(rng.below(3)), UInt32(rng.below(3)))
        }
        report.attributeChanges += 1
        try? fs.setAttributes(path, change)
    }

    /// A value for `path`: mostly what its users write, often malformed.
    static func value(for path: String, _ g: inout SplitMix64) -> [UInt8] {
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        if g.chance(25) { return Array(g.pick(malformed).utf8) }
        if g.chance(3) { return (0..<g.below(40)).map { _ in UInt8(truncatingIfNeeded: g.next()) } }
        let nl = g.chance(90) ? "\n" : ""
        switch name {
        case "state", "auto_online_blocks":
            return Array((g.pick(["online", "offline", "online_kernel", "online_movable"]) + nl).utf8)
        case "online": return Array((g.pick(["0", "1"]) + nl).utf8)
        case "nr_hugepages", "nr_hugepages_mempolicy", "nr_overcommit_hugepages":
            return Array(("\(g.below(g.chance(80) ? 200 : 5000))" + nl).utf8)
        case "min_free_kbytes": return Array(("\(g.below(300_000))" + nl).utf8)
        case "drop_caches": return Array(("\(1 + g.below(4))" + nl).utf8)
        case "probe": return Array(("0x\(String(g.below(64) << 27, radix: 16))" + nl).utf8)
        case "lowmem_reserve_ratio":
            return Array(((0..<(1 + g.below(6))).map { _ in "\(g.below(600))" }.joined(separator: " ") + nl).utf8)
        default:
            if path.contains("notifier-error-inject") { return Array(("\(-g.below(20))" + nl).utf8) }
            return Array(("\(g.below(g.chance(50) ? 10 : 100_000))" + nl).utf8)
        }
    }

    static let malformed = [
        "", " ", "\n", "\n\n", "-1", "-0", "+1", "0x", "0x10", "010", "08", "1 2", "1\t2\n", "foo", "ONLINE",
        "online ", "online\n\n", "1\0junk", "\0", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "4294967295", "4294967296", "9223372036854775807", "9223372036854775808", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999", String(repeating: "9", count: 30),
        String(repeating: " ", count: 5000) + "1", "1" + String(repeating: " ", count: 5000),
        "0x7fffffffffffffff", "0xffffffffffffffff", "0x10000000000000000", "1e9", "1k", "1G", "-", "--1"
    ]

    /// A driver's operation, journaled as an event so a reload repeats it.
    func event() throws {
        let kinds = ["anon", "pageCache", "pinned", "slabUnreclaimable", "shmem"]
        let text: String
        switch rng.below(10) {
        case 0..<3:
            // Now and then far more than the machine has: the OOM path.
            let blocks = rng.chance(3) ? 1 << (18 + rng.below(2)) : 1 + rng.below(5_000)
            text = "hold \(rng.pick(kinds)) o\(rng.below(6)) \(blocks)"
        case 3..<5: text = "release o\(rng.below(6)) \(rng.below(30_000))"
        case 5..<7: text = "destroy o\(rng.below(6))"
        case 7:
            dimmSerial += 1
            text = "dimm-add x\(dimmSerial) \(rng.pick([128, 256, 512, 1024]) << 20)"
        case 8: text = "dimm-del \(rng.pick(["d0", "x\(dimmSerial)", "x\(Swift.max(1, dimmSerial - 1))"]))"
        default: text = "advance \(rng.below(3_000_000_000))"
        }
        report.events += 1
        try fs.perform(event: text) { m in try Soak.apply(event: text, m) }
    }

    /// Performs an event's text on the machine (used live and by the replay). A refused
    /// event (no such owner, QEMU refusing a DIMM) changes nothing and is no error.
    static func apply(event text: String, _ m: Machine) throws {
        let f = text.split(separator: " ").map(String.init)
        func int(_ i: Int) throws -> Int {
            guard i < f.count, let v = Int(f[i]) else { throw ReplayError(index: 0, message: "bad event `\(text)`") }
            return v
        }
        switch f.first {
        case "hold"?:
            guard f.count == 4, let kind = PageKind.allCases.first(where: { "\($0)" == f[1] }) else {
                throw ReplayError(index: 0, message: "bad event `\(text)`")
            }
            let id = try m.ownerID(named: f[2]) ?? m.createOwner(name: f[2], kind: kind)
            m.allocate(owner: id, blocks: try int(3))
        case "release"?:
            if let id = m.ownerID(named: f[1]) { m.release(owner: id, blocks: try int(2)) }
        case "destroy"?:
            if let id = m.ownerID(named: f[1]) { m.destroyOwner(id) }
        case "dimm-add"?:
            _ = try? m.hotAddDIMM(id: f[1], sizeBytes: try int(2))
        case "dimm-del"?:
            _ = try? m.acpiEjectDIMM(id: f[1])
        case "advance"?:
            m.advance(nanoseconds: UInt64(try int(1)))
        default:
            throw ReplayError(index: 0, message: "unknown event `\(text)`")
        }
    }

    /// Several writers at once (hotplug writers among them, some with a signal pending),
    /// each with its own seeded generator. The interleaving is the scheduler's; the journal
    /// records it, so the next reload still has to be exact.
    func burst() {
        report.bursts += 1
        let seeds = (0..<4).map { _ in rng.next() }
        final class Box: @unchecked Sendable {
            private var reports: [SoakReport] = []
            private let lock = NSLock()
            func add(_ r: SoakReport) { lock.lock(); reports.append(r); lock.unlock() }
            var all: [SoakReport] { lock.lock(); defer { lock.unlock() }; return reports }
        }
        let box = Box()
        let group = DispatchGroup()
        let (fs, writable, readable) = (fs, writable, readable)
        for s in seeds {
            group.enter()
            let t = Thread {
                var g = SplitMix64(seed: s)
                var r = SoakReport()
                for _ in 0..<8 {
                    if g.chance(75) {
                        Soak.randomWrite(&g, fs: fs, writable: writable, report: &r, realTime: true)
                    } else if !readable.isEmpty {
                        _ = try? fs.read(g.pick(readable)); r.reads += 1
                    }
                }
                box.add(r)
                group.leave()
            }
            t.start()
        }
        group.wait()
        for r in box.all { report.writes += r.writes; report.refusedWrites += r.refusedWrites; report.reads += r.reads }
    }

    // MARK: - Save and reload

    /// Save through the text form, reload into a fresh boot, compare every readable file and
    /// verify(); the reloaded machine carries on.
    func reloadAndCompare() throws {
        report.reloads += 1
        let text = SavedSession(options: [], setupWrites: [], entries: fs.withLock { _ in fs.journal }).encoded()
        let session: SavedSession
        do { session = try SavedSession(parsing: text, file: "soak.state") } catch {
            report.violations.append("op \(report.ops): the saved session does not parse: \(error)"); return
        }
        let b = try Soak.boot(config)
        do {
            try b.replay(session.entries) { text, m in try Soak.apply(event: text, m) }
        } catch {
            report.violations.append("op \(report.ops): reload: \(error)"); return
        }
        report.journalEntriesReplayed += session.entries.count
        if fs.allAttributeOverrides != b.allAttributeOverrides {
            report.violations.append("op \(report.ops): the reloaded machine's chmod/chown differ")
        }
        let ca = contents(fs), cb = contents(b)
        if ca != cb {
            let diff = ca.keys.sorted().filter { ca[$0] != cb[$0] }.prefix(3)
            report.violations.append(
                "op \(report.ops): the reloaded machine differs in \(diff.joined(separator: ", "))")
        }
        do { try b.withLock { try $0.verify() } } catch {
            report.violations.append("op \(report.ops): verify after reload: \(error)")
        }
        fs = b
        refreshPaths()
    }

    func contents(_ fs: KernelFS) -> [String: String] {
        var out: [String: String] = [:]
        for (path, node) in (try? fs.walk()) ?? [] {
            guard case .file(let f) = node, f.readBytes == nil, f.show != nil, f.mode & 0o444 != 0 else { continue }
            out[path] = (try? fs.read(path)) ?? "<error>"
        }
        return out
    }
}
