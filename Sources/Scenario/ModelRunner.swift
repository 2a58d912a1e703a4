import KernelFS
import MemoryModel

/// What a model run produced.
public struct ModelRunResult: Sendable {
    /// The observation log, header included, one line each (no trailing newlines).
    public var lines: [String]
    /// The explain log: why the model did what it did, in the kernel's words (what only
    /// dynamic debug or a kernel developer would see), one line per entry.
    public var explain: [String]
    /// Every step ran (the model booted; nothing was aborted).
    public var completed: Bool
    /// Steps the model cannot perform yet (their API is not written): `unsupported` lines.
    public var unsupported: [String]
    /// Virtual time at the end, in nanoseconds.
    public var virtualNanoseconds: UInt64
    public var text: String { lines.joined(separator: "\n") + "\n" }
}

/// Runs a `Scenario` on a freshly booted model machine and writes the same observation log
/// `memhp kernel-run` writes from the real kernel: the same kinds, keys, key order and value
/// formats, so the two logs diff line by line (`ObservationDiff`).
///
/// The model is driven the way memhp-guest drives Linux: every step that a guest program
/// performs goes through `KernelFS` paths (open/write/read of /sys and /proc), and every dump
/// reads the model's files and parses them with the guest's parsing rules. Only what is not
/// a file access — QEMU's hot-plug actions and the guest's workloads — touches the machine
/// directly. Nothing here reads wall time or host state, so the log is a function of the
/// scenario (and its seed) alone: the same input gives byte-identical output.
public final class ModelRunner {
    public let scenario: Scenario
    let boot: (MachineConfig) throws -> Machine
    var out: [String] = []
    var explainOut: [String] = []
    var unsupported: [String] = []
    var fs: KernelFS!
    var machine: Machine!
    var kmsgSeen = 0
    var explainSeen = 0
    var stepN = 0
    /// Which scenario line is running (for the explain log).
    var currentLine = 0
    var holds: [String: Int] = [:]

    /// `boot` defaults to `Machine.boot`; tests may pass a prepared machine.
    public init(scenario: Scenario, boot: @escaping (MachineConfig) throws -> Machine = Machine.boot) {
        self.scenario = scenario
        self.boot = boot
    }

    /// The kernel runner prepends this to every command line; the model reports it the same way.
    public static let baseCmdline = "console=ttyS0 quiet panic=-1 nokaslr"

    public func run() -> ModelRunResult {
        let sc = scenario
        out = [
            "# memhp observations v1",
            "# scenario: \(sc.name) (\(sc.file))",
            "# description: \(sc.description)",
            "# runner: model",
            "# model: memhp MemoryModel seed=\(sc.machine.seed)",
        ]
        do {
            machine = try boot(sc.machine)
        } catch {
            out.append("# boot failed: \(error)")
            out.append("scenario_exit rc=-1")
            out.append(Observation("end", [.init("completed", "0"), .init("reason", "boot"), .init("scenario_rc", "-"),
                                           .init("qemu_rc", "0"), .init("boot_s", "-"), .init("total_s", "0.0"),
                                           .init("build_s", "0.0")]).line)
            return ModelRunResult(lines: out, explain: ["boot: \(error)"], completed: false, unsupported: [],
                                  virtualNanoseconds: 0)
        }
        fs = KernelFS(machine: machine)
        let bootClock = machine.clock

        var cmdline = Self.baseCmdline
        if !sc.machine.cmdline.isEmpty { cmdline += " " + sc.machine.cmdline }
        out.append(Observation("guest", [.init("cmdline", cmdline, quoted: true)]).line)
        drainKmsg(boot: true)
        collectExplain()
        loadModules()

        var started = false
        for (i, step) in sc.steps.enumerated() {
            currentLine = sc.stepLines.indices.contains(i) ? sc.stepLines[i] : 0
            if !started {
                drainKmsg(boot: false)
                out.append("stage name=scenario-start")
                started = true
            }
            perform(step)
            drainKmsg(boot: false)
            collectExplain()
        }
        if !started { drainKmsg(boot: false); out.append("stage name=scenario-start") }
        out.append("scenario_exit rc=0")
        var end = Observation("end")
        end.add("completed", 1)
        end.add("scenario_rc", 0)
        end.add("qemu_rc", 0)
        end.add("boot_s", Self.seconds(bootClock, decimals: 1))
        end.add("total_s", Self.seconds(machine.clock, decimals: 1))
        end.add("build_s", "0.0")
        out.append(end.line)
        return ModelRunResult(lines: out, explain: explainOut, completed: true, unsupported: unsupported,
                              virtualNanoseconds: machine.clock)
    }

    /// The kernel runner insmods the scenario's modules before the first step (dependencies
    /// first). The model has no module loader: the modules it models are loaded through
    /// their Machine calls (the kernel-only `insmod` lines are then left out); any other is
    /// reported unsupported.
    func loadModules() {
        for m in scenario.modules {
            if m.args.isEmpty, (try? fs.withLock({ try $0.loadModule(m.name) })) != nil { continue }
            let text = "module: " + m.name + (m.args.isEmpty ? "" : " " + m.args)
            unsupported.append(text)
            out.append(Observation("unsupported", [.init("step", text, quoted: true),
                                                   .init("reason", "the model does not provide this module's files", quoted: true)]).line)
        }
    }

    // MARK: - Steps

    func perform(_ step: Step) {
        switch step {
        case .step(let name):
            stepN += 1
            out.append(Observation("step", [.init("n", String(stepN)), .init("label", name, quoted: true)]).line)
        case .write(let path, let value, let newline, let timeout):
            doWrite(offline: false, nonl: !newline, timeout: timeout, path: path, value: value)
        case .read(let path):
            doRead(path)
        case .online(let block, let type):
            doWrite(offline: false, nonl: false, timeout: Step.defaultWriteTimeout, path: ScenarioPaths.blockState(block), value: type.name)
        case .offline(let block, let timeout):
            doWrite(offline: true, nonl: false, timeout: timeout, path: ScenarioPaths.blockState(block), value: "offline")
        case .dimmAdd, .dimmDel, .vmemResize:
            hostAction(step)
        case .hold(let kind, let id, let size, let node):
            doHold(kind: kind, id: id, bytes: size, node: node)
        case .release(let id):
            doRelease(id)
        case .fillKernel(let node, let margin, let id):
            doFill(node: node, margin: margin, id: id)
        case .dump(let items):
            for item in items { dump(item) }
        case .sleep(let s):
            // `usleep(ms * 1000)` in the guest: the scenario's decimals, truncated to milliseconds.
            let ms = UInt64(max(0, s * 1000))
            machine.advance(nanoseconds: ms * 1_000_000)
        }
        // Virtual time passed: virtio-mem retry timers that expired meanwhile fire now.
        machine.virtioMemRunTimers()
    }

    /// Records a step the model cannot perform yet. Never fakes a result.
    func markUnsupported(_ step: Step, _ why: String) {
        let text = step.line
        unsupported.append(text)
        out.append(Observation("unsupported", [.init("step", text, quoted: true), .init("reason", why, quoted: true)]).line)
    }

    // MARK: writes and reads

    /// One open + write(2) + close, as memhp-guest's `do_write`: the errno, a short write's
    /// count, and (for offline) whether the writer's timer fired. The deadline is virtual time.
    func doWrite(offline: Bool, nonl: Bool, timeout: Int, path: String, value: String) {
        var bytes = Array(value.utf8.prefix(4095))
        let shown = String(decoding: bytes, as: UTF8.self)
        if !nonl { bytes.append(10) }
        let t0 = machine.clock
        let deadline = t0 &+ UInt64(max(0, timeout)) &* 1_000_000_000
        var errSym = "0", errText = ""
        var written: Int?
        do {
            let n = try fs.write(path, bytes, context: WriteContext(deadline: deadline))
            if n < bytes.count { written = n }
        } catch let e as KernelError {
            errSym = e.errno.symbol; errText = e.errno.message
        } catch {
            errSym = "EIO"; errText = "Input/output error"
        }
        let elapsed = machine.clock &- t0
        var o = Observation("write")
        o.add("path", path)
        o.addQuoted("value", shown)
        if nonl { o.add("nonl", 1) }
        if offline {
            o.add("timeout_s", timeout)
            o.add("timed_out", elapsed >= UInt64(max(0, timeout)) &* 1_000_000_000 ? 1 : 0)
        }
        o.add("rc", errSym == "0" ? 0 : 1)
        o.add("errno", errSym)
        if let written { o.add("written", written) }
        o.add("elapsed_cs", elapsed / 10_000_000)
        // What busybox `echo VALUE > PATH` would have printed (the captures' `err=`).
        o.addQuoted("err", errText.isEmpty ? "" : "sh: write error: " + errText)
        out.append(o.line)
    }

    func doRead(_ path: String) {
        var o = Observation("read")
        o.add("path", path)
        switch readFile(path) {
        case .success(var text):
            if text.hasSuffix("\n") { text.removeLast() }
            o.addQuoted("value", text)
        case .failure(let e):
            o.add("errno", e.symbol)
        }
        out.append(o.line)
    }

    struct ReadError: Error { var symbol: String }

    func readFile(_ path: String) -> Result<String, ReadError> {
        do { return .success(try fs.read(path)) } catch let e as KernelError {
            return .failure(ReadError(symbol: e.errno.symbol))
        } catch {
            return .failure(ReadError(symbol: "EIO"))
        }
    }

    /// `readline1`: the first line without its newline, "" on any error.
    func firstLine(_ path: String) -> String {
        guard case .success(let t) = readFile(path) else { return "" }
        if let nl = t.firstIndex(of: "\n") { return String(t[..<nl]) }
        return t
    }

    func exists(_ path: String) -> Bool { (try? fs.lookup(path)) != nil }

    func list(_ path: String) -> [String] { (try? fs.list(path)) ?? [] }

    // MARK: workloads

    static func pageKind(_ k: HoldKind) -> PageKind {
        switch k {
        case .anon: .anon
        case .shmem: .shmem
        case .ramfs: .ramfs
        case .pinned: .pinned
        }
    }

    /// Owner names of scenario workloads, apart from the kernel's own owners.
    static func ownerName(_ id: String) -> String { "hold:" + id }

    /// `hold KIND ID SIZE [node=N]`: the guest's mmap+touch, memfd or ramfs write, with MPOL_BIND
    /// when a node is given. A short allocation is the guest's ENOMEM.
    func doHold(kind: HoldKind, id: String, bytes: Int, node: Int?) {
        var err = "0"
        let pages = (bytes + 4095) / 4096
        do {
            let owner = try machine.createOwner(name: Self.ownerName(id), kind: Self.pageKind(kind), node: node ?? 0, bound: node != nil)
            holds[id] = owner
            if machine.allocate(owner: owner, blocks: pages) < pages { err = "ENOMEM" }
        } catch let e as KernelError {
            err = e.errno.symbol
        } catch {
            err = "EIO"
        }
        out.append(Observation("hold", [.init("id", id), .init("kind", kind.rawValue), .init("size", String(bytes)),
                                        .init("node", node.map(String.init) ?? "-"), .init("rc", err == "0" ? "0" : "1"),
                                        .init("errno", err)]).line)
    }

    /// `release ID`: closing the fd / munmap frees everything, without allocating.
    func doRelease(_ id: String) {
        var rc = 1
        if let owner = holds.removeValue(forKey: id) {
            machine.destroyOwner(owner)
            rc = 0
        }
        out.append(Observation("release", [.init("id", id), .init("rc", String(rc))]).line)
    }

    /// `fill-kernel NODE MARGIN`: memhp-guest's do_fill, step for step — ramfs pages bound to
    /// the node, written in shrinking chunks while the headroom read from /proc/zoneinfo is
    /// above the margin.
    func doFill(node: Int, margin: Int, id: String) {
        var err = "0"
        var pages = 0
        var owner: Int?
        do {
            let o = try machine.createOwner(name: Self.ownerName(id), kind: .ramfs, node: node, bound: true)
            holds[id] = o
            owner = o
        } catch let e as KernelError {
            err = e.errno.symbol
        } catch {
            err = "EIO"
        }
        var hr = headroom(node: node)
        if let owner {
            var iter = 0
            while err == "0" && iter < 100_000 {
                iter += 1
                let want = hr - margin
                if want <= 0 { break }
                var step = want > 2048 ? want / 2 : (want > 64 ? want / 4 : 1)
                if step > 65536 { step = 65536 }
                let got = machine.allocate(owner: owner, blocks: step)
                if got < step { err = "ENOMEM" } else { pages += step }
                hr = headroom(node: node)
            }
        }
        out.append(Observation("fill", [.init("id", id), .init("node", String(node)), .init("margin", String(margin)),
                                        .init("pages", String(pages)), .init("headroom", String(hr)),
                                        .init("rc", err == "0" ? "0" : "1"), .init("errno", err)]).line)
    }

    /// Pages of the node's kernel zones above min + lowmem_reserve[ZONE_NORMAL], from /proc/zoneinfo.
    func headroom(node: Int) -> Int {
        var h = 0
        for z in parseZoneinfo() where z.node == node && z.managed != 0 && ["DMA", "DMA32", "Normal"].contains(z.name) {
            let r = z.free - z.min - (z.prot.count > 2 ? z.prot[2] : 0)
            if r > 0 { h += r }
        }
        return h
    }

    // MARK: host actions

    /// QEMU's side of a hot-plug step (QMP `device_add`, `device_del`, `qom-set`) and the
    /// guest's wait for the blocks to settle. The model performs these only once the
    /// hot-plug APIs exist; until then the step is reported `unsupported`.
    func hostAction(_ step: Step) {
        let t0 = machine.clock
        var o = Observation("hotplug")
        switch step {
        case .dimmAdd(let id, let size, let node):
            o.add("action", "dimm-add"); o.add("id", id); o.add("size", size); o.add("node", node)
            let before = machine.drivers.ostEvents.count
            var failure: String?
            do { try machine.hotAddDIMM(id: id, sizeBytes: size, node: node) } catch let e { failure = "\(e)" }
            let ost = machine.drivers.ostEvents[before...].filter { $0.device == id }.map(\.status)
            if ost.isEmpty {
                // QEMU itself refused the device (no room in the device memory region).
                o.add("ok", 0); o.addQuoted("error", failure ?? "device_add failed")
            } else {
                let bs = Geometry.minMemoryBlockSize
                if let dev = machine.drivers.acpiDevices[id] {
                    let addr = dev.range.start << Geometry.pageShift
                    o.add("addr", "0x" + String(addr, radix: 16))
                    o.add("blocks", "\(addr / bs)-\((addr + size) / bs - 1)")
                }
                o.add("ost", ost.map(String.init).joined(separator: ","))
                o.add("ok", 1)
            }
        case .dimmDel(let id, let timeout):
            o.add("action", "dimm-del"); o.add("id", id)
            guard machine.drivers.acpiDevices[id] != nil else {
                o.add("deleted", 0); o.add("ok", 0); o.addQuoted("error", "device_del failed")
                break
            }
            let before = machine.drivers.ostEvents.count
            var deleted = true
            do {
                try machine.acpiEjectDIMM(id: id, deadline: t0 &+ UInt64(max(0, timeout)) &* 1_000_000_000)
            } catch {
                deleted = false
            }
            let ost = machine.drivers.ostEvents[before...].map(\.status)
            let refused = ost.contains { $0 != 0x84 && $0 != 0 }
            o.add("deleted", deleted ? 1 : 0)
            o.add("ost", ost.isEmpty ? "-" : ost.map(String.init).joined(separator: ","))
            o.add("ok", deleted || refused ? 1 : 0)
        case .vmemResize(let id, let size, let timeout):
            o.add("action", "vmem-resize"); o.add("id", id); o.add("requested", size)
            guard machine.drivers.virtioMem[id] != nil else {
                o.add("size", 0); o.add("ok", 0); o.addQuoted("error", "qom-set failed")
                break
            }
            let before = machine.drivers.virtioMem[id]!.sizeChanges.count
            var ok = true
            do {
                try machine.virtioMemSetRequestedSize(id: id, bytes: size)
                ok = machine.virtioMemWait(id: id, until: t0 &+ UInt64(max(0, timeout)) &* 1_000_000_000)
            } catch {
                ok = false
            }
            let dev = machine.drivers.virtioMem[id]!
            o.add("size", dev.pluggedBytes)
            o.add("ok", ok ? 1 : 0)
            o.add("elapsed_s", Self.seconds(machine.clock &- t0, decimals: 1))
            out.append(o.line)
            // QEMU rate-limits MEMORY_DEVICE_SIZE_CHANGE (1 s): the first change at once, the
            // last one when the limit expires.
            let changes = dev.sizeChanges[before...].map(\.size)
            var sent: [Int] = []
            if let first = changes.first { sent.append(first) }
            if let last = changes.last, changes.count > 1, last != sent.last { sent.append(last) }
            for sz in sent {
                let data = "{'size':\(sz),'qom-path':'/machine/peripheral/\(id)','id':'\(id)'}"
                out.append(Observation("qmp_event", [.init("name", "MEMORY_DEVICE_SIZE_CHANGE"), .init("data", data, quoted: true)]).line)
            }
            return
        default:
            markUnsupported(step, "the model has no API for this host action yet")
            return
        }
        o.add("elapsed_s", Self.seconds(machine.clock &- t0, decimals: 1))
        out.append(o.line)
    }

    // MARK: - Dumps

    func dump(_ item: DumpItem) {
        switch item {
        case .blocks(let sel): dumpBlocks(sel)
        case .meminfo: dumpMeminfo()
        case .zones: dumpZones()
        case .buddyinfo: dumpBuddyinfo()
        case .hugepages: dumpHugepages()
        case .pageflags(let sel): dumpPageflags(sel)
        case .params: dumpParams()
        case .layout: dumpLayout()
        case .vmstat: dumpVmstat()
        }
    }

    static let memdir = "/sys/devices/system/memory"

    func blockIDs() -> [Int] {
        list(Self.memdir).compactMap { name -> Int? in
            guard name.hasPrefix("memory"), let n = Int(name.dropFirst(6)) else { return nil }
            return n
        }.sorted()
    }

    /// `block_size_bytes` parsed as hex (0 when unreadable, as strtol gives).
    func blockSizeBytes() -> Int { Self.strtol(firstLine(Self.memdir + "/block_size_bytes"), radix: 16) }

    func dumpBlocks(_ sel: [Int]?) {
        out.append("block_size_bytes value=0x" + String(blockSizeBytes(), radix: 16))
        let all = blockIDs()
        for i in sel ?? all { printBlock(i) }
        out.append("blocks_total count=\(all.count)")
    }

    func printBlock(_ i: Int) {
        let dir = Self.memdir + "/memory\(i)"
        guard exists(dir) else { out.append("block idx=\(i) state=absent"); return }
        var node = -1
        for e in list(dir) where e.hasPrefix("node") {
            if let n = Int(e.dropFirst(4)) { node = n }
        }
        var o = Observation("block")
        o.add("idx", i)
        o.add("phys_index", "0x" + firstLine(dir + "/phys_index"))
        o.add("state", firstLine(dir + "/state"))
        o.addQuoted("valid_zones", firstLine(dir + "/valid_zones"))
        o.add("removable", firstLine(dir + "/removable"))
        o.add("node", node)
        o.add("phys_device", firstLine(dir + "/phys_device"))
        out.append(o.line)
    }

    /// `key: value` lines (meminfo) or `key value` lines (vmstat) into a dictionary of the leading integer.
    static func keyed(_ text: String, separator: Character) -> [String: Int] {
        var d: [String: Int] = [:]
        for l in text.split(separator: "\n") {
            guard let sep = l.firstIndex(of: separator) else { continue }
            let k = String(l[..<sep])
            if d[k] == nil { d[k] = strtol(String(l[l.index(after: sep)...]), radix: 10) }
        }
        return d
    }

    static let meminfoKeys = ["MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Unevictable", "AnonPages", "Shmem",
                              "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables", "HugePages_Total",
                              "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb"]

    func meminfo() -> [String: Int]? {
        guard case .success(let t) = readFile("/proc/meminfo") else { return nil }
        return Self.keyed(t, separator: ":")
    }

    func dumpMeminfo() {
        let d = meminfo()
        var o = Observation("meminfo")
        for k in Self.meminfoKeys { o.add(k, d?[k] ?? -1) }
        out.append(o.line)
    }

    static let vmstatKeys = ["nr_free_pages", "nr_unevictable", "nr_kernel_stack", "nr_page_table_pages", "allocstall_normal",
                             "allocstall_movable", "pgsteal_kswapd", "pgsteal_direct", "oom_kill", "pgmigrate_success",
                             "pgmigrate_fail", "compact_stall", "compact_fail", "compact_success", "htlb_buddy_alloc_success",
                             "htlb_buddy_alloc_fail"]

    func dumpVmstat() {
        guard case .success(let t) = readFile("/proc/vmstat") else { return }
        let d = Self.keyed(t, separator: " ")
        var o = Observation("vmstat")
        for k in Self.vmstatKeys { o.add(k, d[k] ?? -1) }
        out.append(o.line)
    }

    struct ZoneInfo {
        var node: Int
        var name: String
        var free = 0, pcp = 0, min = 0, low = 0, high = 0, spanned = 0, present = 0, managed = 0
        var prot: [Int] = []
        var startPFN = -1
    }

    /// /proc/zoneinfo with memhp-guest's `parse_zoneinfo` rules: watermarks and sizes between
    /// `pages free` and `protection:`, `count:` summed over the per-cpu pagesets.
    func parseZoneinfo() -> [ZoneInfo] {
        guard case .success(let t) = readFile("/proc/zoneinfo") else { return [] }
        // Byte-level: fill-kernel reads this file after every chunk, and most of its lines are
        // per-zone vmstat counters that are skipped by their first letter alone.
        let b = Array(t.utf8)
        var zones: [ZoneInfo] = []
        var inWM = false
        var i = 0
        let n = b.count
        func has(_ s: StaticString, at p: Int) -> Bool {
            let c = s.utf8CodeUnitCount
            guard p + c <= n else { return false }
            return s.withUTF8Buffer { u in
                for k in 0..<c where b[p + k] != u[k] { return false }
                return true
            }
        }
        func number(from p: Int) -> (Int, Int)? {
            var q = p
            while q < n, b[q] == 32 { q += 1 }
            var neg = false
            if q < n, b[q] == 45 { neg = true; q += 1 }
            let s = q
            var v = 0
            while q < n, b[q] >= 48, b[q] <= 57 { v = v * 10 + Int(b[q] - 48); q += 1 }
            return q > s ? (neg ? -v : v, q) : nil
        }
        while i < n {
            var e = i
            while e < n, b[e] != 10 { e += 1 }
            defer { i = e + 1 }
            if has("Node ", at: i), let (node, p) = number(from: i + 5), has(", zone ", at: p) {
                var q = p + 7
                while q < e, b[q] == 32 { q += 1 }
                zones.append(ZoneInfo(node: node, name: String(decoding: b[q..<e], as: UTF8.self)))
                inWM = false
                continue
            }
            guard !zones.isEmpty else { continue }
            var p = i
            while p < e, b[p] == 32 { p += 1 }
            let z = zones.count - 1
            if has("pages free", at: p), let (v, _) = number(from: p + 10) { zones[z].free = v; inWM = true; continue }
            if has("protection: (", at: p) {
                var q = p + 13
                var prot: [Int] = []
                while prot.count < 5, let (v, r) = number(from: q) {
                    prot.append(v); q = r
                    while q < e, b[q] == 44 || b[q] == 32 { q += 1 }
                }
                zones[z].prot = prot
                inWM = false
                continue
            }
            if has("count:", at: p), let (v, _) = number(from: p + 6) { zones[z].pcp += v; continue }
            if has("start_pfn:", at: p), let (v, _) = number(from: p + 10) { zones[z].startPFN = v; continue }
            guard inWM else { continue }
            for (key, path) in [("min", \ZoneInfo.min), ("low", \.low), ("high", \.high), ("spanned", \.spanned),
                                ("present", \.present), ("managed", \.managed)] as [(StaticString, WritableKeyPath<ZoneInfo, Int>)] {
                let c = key.utf8CodeUnitCount
                if has(key, at: p), p + c < e, b[p + c] == 32, let (v, _) = number(from: p + c) {
                    zones[z][keyPath: path] = v
                    break
                }
            }
        }
        return zones
    }

    func dumpZones() {
        for z in parseZoneinfo() {
            var o = Observation("zone")
            o.add("node", z.node); o.add("zone", z.name); o.add("free", z.free); o.add("pcp", z.pcp)
            o.add("min", z.min); o.add("low", z.low); o.add("high", z.high); o.add("spanned", z.spanned)
            o.add("present", z.present); o.add("managed", z.managed)
            o.add("protection", z.prot.map(String.init).joined(separator: ","))
            o.add("start_pfn", z.startPFN >= 0 ? String(z.startPFN) : "-")
            out.append(o.line)
        }
    }

    func dumpBuddyinfo() {
        guard case .success(let t) = readFile("/proc/buddyinfo") else { return }
        for l in t.split(separator: "\n") {
            let words = l.split(whereSeparator: { $0 == " " || $0 == "," })
            guard words.count >= 4, words[0] == "Node", let node = Int(words[1]), words[2] == "zone" else { continue }
            var orders: [String] = []
            for w in words.dropFirst(4) { guard let v = Int(w) else { break }; orders.append(String(v)) }
            out.append("buddy node=\(node) zone=\(words[3]) orders=\(orders.joined(separator: ","))")
        }
    }

    /// `readlong`: strtol of the first line; -1 when the file is missing or empty.
    func readLong(_ path: String) -> Int {
        let l = firstLine(path)
        return l.isEmpty ? -1 : Self.strtol(l, radix: 10)
    }

    func dumpHugepages() {
        let hp = "/sys/kernel/mm/hugepages"
        func h(_ kb: Int, _ f: String) -> Int { readLong("\(hp)/hugepages-\(kb)kB/\(f)") }
        let mi = meminfo()
        var o = Observation("hugepages")
        o.add("sysctl_nr_hugepages", readLong("/proc/sys/vm/nr_hugepages"))
        o.add("nr_hugepages", h(2048, "nr_hugepages")); o.add("free", h(2048, "free_hugepages"))
        o.add("resv", h(2048, "resv_hugepages")); o.add("surplus", h(2048, "surplus_hugepages"))
        o.add("overcommit", h(2048, "nr_overcommit_hugepages"))
        o.add("meminfo_total", mi?["HugePages_Total"] ?? -1)
        o.add("MemFree", mi?["MemFree"] ?? -1); o.add("MemTotal", mi?["MemTotal"] ?? -1)
        out.append(o.line)
        let sizes = list(hp).compactMap { n -> Int? in
            guard n.hasPrefix("hugepages-") else { return nil }
            return Self.strtol(String(n.dropFirst(10)), radix: 10)
        }.sorted()
        for kb in sizes {
            out.append("hstate size_kB=\(kb) nr=\(h(kb, "nr_hugepages")) free=\(h(kb, "free_hugepages")) resv=\(h(kb, "resv_hugepages")) surplus=\(h(kb, "surplus_hugepages")) overcommit=\(h(kb, "nr_overcommit_hugepages"))")
        }
        for node in 0..<64 where exists("/sys/devices/system/node/node\(node)") {
            for kb in sizes {
                let p = "/sys/devices/system/node/node\(node)/hugepages/hugepages-\(kb)kB/"
                out.append("hstate_node node=\(node) size_kB=\(kb) nr=\(readLong(p + "nr_hugepages")) free=\(readLong(p + "free_hugepages")) surplus=\(readLong(p + "surplus_hugepages"))")
            }
        }
    }

    static let paramPaths = [
        memdir + "/auto_online_blocks",
        "/sys/module/memory_hotplug/parameters/auto_movable_numa_aware",
        "/sys/module/memory_hotplug/parameters/auto_movable_ratio",
        "/sys/module/memory_hotplug/parameters/memmap_on_memory",
        "/sys/module/memory_hotplug/parameters/online_policy",
        "/proc/sys/vm/hugetlb_optimize_vmemmap", "/proc/sys/vm/nr_hugepages", "/proc/sys/vm/nr_overcommit_hugepages",
        "/proc/sys/vm/min_free_kbytes", "/proc/sys/vm/lowmem_reserve_ratio", "/proc/sys/vm/watermark_scale_factor",
        "/proc/sys/vm/overcommit_memory",
    ]

    func dumpParams() {
        for p in Self.paramPaths {
            switch readFile(p) {
            case .success(var t):
                if t.hasSuffix("\n") { t.removeLast() }
                out.append(Observation("param", [.init("path", p), .init("value", t.replacingTabs(), quoted: true)]).line)
            case .failure(let e):
                out.append("param path=\(p) errno=\(e.symbol)")
            }
        }
    }

    func dumpLayout() {
        guard case .success(let t) = readFile("/proc/iomem") else { return }
        for l in t.split(separator: "\n") where !l.hasPrefix(" ") && l.contains("System RAM") {
            out.append(Observation("iomem", [.init("line", String(l), quoted: true)]).line)
        }
    }

    /// Per-block page kinds from /proc/kpageflags, computed as memhp-guest's `dump_pageflags`
    /// does: one pread of a block's words per selected block (blocks that do not exist are
    /// `state=absent`), each page counted once, in the guest's order of precedence.
    func dumpPageflags(_ sel: [Int]?) {
        let path = "/proc/kpageflags"
        guard exists(path) else {
            out.append("pageflags errno=ENOENT")
            return
        }
        let bs = blockSizeBytes() >> 12
        for b in sel ?? blockIDs() {
            guard exists(Self.memdir + "/memory\(b)") else { out.append("pageflags block=\(b) state=absent"); continue }
            let bytes = (try? fs.readBytes(path, offset: b * bs * 8, count: bs * 8)) ?? []
            out.append(Self.pageflagsLine(block: b, bytes))
        }
    }

    /// The guest's classification of kpageflags words (bit numbers of kernel-page-flags.h).
    static func pageflagsLine(block: Int, _ bytes: [UInt8]) -> String {
        var c = [String: Int]()
        let keys = ["nopage", "reserved", "offline", "buddy", "lru", "anon", "file", "unevictable", "mlocked",
                    "slab", "pgtable", "huge", "huge_heads", "thp", "other"]
        for k in keys { c[k] = 0 }
        let n = bytes.count / 8
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                func bit(_ k: Int) -> Bool { (v >> UInt64(k)) & 1 != 0 }
                if bit(KPF.nopage) { c["nopage"]! += 1; continue }
                if bit(KPF.reserved) { c["reserved"]! += 1; continue }
                if bit(KPF.offline) { c["offline"]! += 1; continue }
                if bit(KPF.buddy) { c["buddy"]! += 1; continue }
                if bit(KPF.huge) { c["huge"]! += 1; if bit(KPF.compoundHead) { c["huge_heads"]! += 1 }; continue }
                if bit(KPF.thp) { c["thp"]! += 1; continue }
                if bit(KPF.slab) { c["slab"]! += 1; continue }
                if bit(KPF.pgtable) { c["pgtable"]! += 1; continue }
                if bit(KPF.lru) || bit(KPF.unevictable) {
                    c["lru"]! += 1
                    if bit(KPF.anon) { c["anon"]! += 1 } else { c["file"]! += 1 }
                    if bit(KPF.unevictable) { c["unevictable"]! += 1 }
                    if bit(KPF.mlocked) { c["mlocked"]! += 1 }
                    continue
                }
                c["other"]! += 1
            }
        }
        return "pageflags block=\(block) pages=\(n) " + keys.map { "\($0)=\(c[$0]!)" }.joined(separator: " ")
    }

    // MARK: - Kernel log and explain log

    /// The boot lines memhp-guest keeps (`boot_line_wanted`).
    static let bootKeys = ["SRAT", "Zone ranges", "  DMA ", "  DMA32 ", "  Normal ", "  Device ", "  Movable ", "Movable zone start",
                           "Early memory node ranges", "  node ", "Memory:", "HugeTLB", "NUMA:", "Initmem setup node", "kernelcore",
                           "movablecore", "Built 1 zonelists", "Built 2 zonelists", "hugetlb", "memory", "Memory"]

    /// New kernel messages since the last call: at boot the interesting ones as `dmesg`, later
    /// every one as `kmsg prio= msg=`. Both kinds are kernel-only for the diff; the model has
    /// no log timestamps, so boot lines carry `[    0.000000]`.
    func drainKmsg(boot: Bool) {
        let lines = machine.kmsg
        guard kmsgSeen < lines.count else { kmsgSeen = lines.count; return }
        for var msg in lines[kmsgSeen...] {
            var prio = 6
            if msg.hasPrefix("<"), let close = msg.firstIndex(of: ">"), let p = Int(msg[msg.index(after: msg.startIndex)..<close]) {
                prio = p & 7
                msg = String(msg[msg.index(after: close)...])
            }
            if boot {
                if Self.bootKeys.contains(where: { msg.contains($0) }) { out.append("dmesg [    0.000000] " + msg) }
            } else {
                out.append(Observation("kmsg", [.init("prio", String(prio)), .init("msg", msg, quoted: true)]).line)
            }
        }
        kmsgSeen = lines.count
    }

    /// New explain entries, tagged with the scenario line that caused them.
    func collectExplain() {
        let entries = machine.explain.entries
        guard explainSeen < entries.count else { explainSeen = entries.count; return }
        for e in entries[explainSeen...] {
            let place = currentLine > 0 ? "\(scenario.file):\(currentLine)" : "\(scenario.file):boot"
            explainOut.append("\(place) [\(Self.timestamp(e.time))] \(e.subject): \(e.message)")
        }
        explainSeen = entries.count
    }

    // MARK: - Formatting without Foundation

    static func timestamp(_ ns: UInt64) -> String { DebugfsArea.printkTime(ns) }

    /// Seconds with `decimals` decimals, rounded half up (`%.1f` for the `end` line's times).
    static func seconds(_ ns: UInt64, decimals: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let unit = 1_000_000_000 / scale
        let v = (ns + unit / 2) / unit
        let whole = String(v / scale)
        guard decimals > 0 else { return whole }
        let frac = String(v % scale)
        return whole + "." + String(repeating: "0", count: decimals - frac.count) + frac
    }

    /// C's strtol: leading blanks, an optional sign, the longest run of digits; 0 when none.
    static func strtol(_ s: String, radix: Int) -> Int {
        var it = Substring(s).drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" })
        var neg = false
        if let f = it.first, f == "-" || f == "+" { neg = f == "-"; it = it.dropFirst() }
        if radix == 16, it.hasPrefix("0x") || it.hasPrefix("0X") { it = it.dropFirst(2) }
        var v = 0
        for c in it {
            guard let d = c.hexDigitValue, d < radix else { break }
            let (m, o1) = v.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return neg ? Int.min : Int.max }
            v = a
        }
        return neg ? -v : v
    }
}

extension String {
    fileprivate func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
