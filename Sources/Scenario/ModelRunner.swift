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
/// The model runs the scenario's `GuestProgram`, the one memhp-guest.c runs on Linux: every
/// instruction that is a file access goes through `KernelFS` paths (open/write/read of /sys and
/// /proc), and every dump reads the model's files and parses them with the guest's rules
/// (`GuestReading`) into `ObservationSchema`'s kinds. Only what is not
/// a file access — QEMU's hot-plug actions and the guest's workloads — touches the machine
/// directly. Nothing here reads wall time or host state, so the log is a function of the
/// scenario (and its seed) alone: the same input gives byte-identical output.
public final class ModelRunner {
    public let scenario: Scenario
    /// What the guest program does, compiled from the scenario once for both runners.
    public let program: GuestProgram
    let boot: (MachineConfig) throws -> Machine
    var out: [String] = []
    var explainOut: [String] = []
    var unsupported: [String] = []
    var fs: KernelFS!
    var machine: Machine!
    var kmsgSeen = 0
    var explainSeen = 0
    /// Which scenario line is running (for the explain log).
    var currentLine = 0
    var holds: [String: Int] = [:]
    /// The guest program has opened a directory once (`guestOpendir`).
    var openedDirOnce = false
    /// The guest program has listed the memory blocks once (`guestListBlocks`).
    var listedBlocksOnce = false
    /// The guest program's `chunk` buffer has been written (`guestChunk`).
    var chunkTouched = false
    /// Page-table owners of anonymous and pinned holds, by hold id.
    var holdTables: [String: Int] = [:]
    /// Holds that keep a file open: the inode cache of its inode (nil: not modelled).
    var holdFiles: [String: LookupSlabCache?] = [:]
    /// The io_uring instance of each pinned hold, by hold id.
    var holdRings: [String: IOUringInstance] = [:]
    /// Where the log is cut when the OOM killer kills the guest inside the instruction that
    /// is running: nil cuts before the instruction's output; a host request's settle sets
    /// it after its `hotplug` line (the host runner writes that line, not the guest).
    var killMark: Int?
    /// A write the kernel would restart forever (`DeviceHotplugLockBusy`: the guest's only
    /// process is stuck in it, and the pages the eject waits for are its own): the run ends
    /// there, as the kernel runner's does at the scenario's timeout.
    var hungWrite: DeviceHotplugLockBusy?

    /// `boot` defaults to `Machine.boot`; tests may pass a prepared machine.
    public init(scenario: Scenario, boot: @escaping (MachineConfig) throws -> Machine = Machine.boot) {
        self.scenario = scenario
        self.program = GuestProgram(scenario)
        self.boot = boot
    }

    public func run() -> ModelRunResult {
        let sc = scenario
        out = [
            "# memhp observations v1",
            "# scenario: \(sc.name) (\(sc.file))",
            "# description: \(sc.description)",
            "# runner: model",
            "# model: memhp MemoryModel seed=\(sc.machine.seed)"
        ]
        do {
            // The guest runner's prefaulted buffers are user pages it has before the first step.
            var config = sc.machine
            config.guestPrefaultPages = GuestFootprint.pages(program.prefault)
            machine = try boot(config)
            // The prefaulted runner already has its heap (64 KiB of it), its static buffers
            // and its chunk buffer (the hold group): its first listing and first hold fault
            // nothing in.
            if !program.prefault.isEmpty {
                openedDirOnce = true
                listedBlocksOnce = true
                chunkTouched = true
            }
        } catch {
            out.append("# boot failed: \(error)")
            out.append("scenario_exit rc=-1")
            out.append(
                Observation(
                    "end",
                    [
                        .init("completed", "0"), .init("reason", "boot"), .init("scenario_rc", "-"),
                        .init("qemu_rc", "0"), .init("boot_s", "-"), .init("total_s", "0.0"),
                        .init("build_s", "0.0")
                    ]
                ).line)
            return ModelRunResult(
                lines: out, explain: ["boot: \(error)"], completed: false, unsupported: [],
                virtualNanoseconds: 0)
        }
        fs = KernelFS(machine: machine)
        // All holds live in the guest program's address space; the kernel's OOM killer picks
        // it over init whether or not the model tracks a hold of its own to kill.
        machine.untrackedOOMVictim = GuestProgram.processName
        // The kernel runner's guest turns dynamic debug on for mm/memory_hotplug.c first.
        machine.dynamicDebug = true
        let bootClock = machine.clock

        out.append(Observation("guest", [.init("cmdline", GuestProgram.kernelCommandLine(sc), quoted: true)]).line)
        drainKmsg(boot: true)
        collectExplain()
        loadModules()

        // The program's preamble (dynamic debug) is the kernel's alone.
        var started = false
        for (i, instructions) in program.steps.enumerated() {
            currentLine = sc.stepLines.indices.contains(i) ? sc.stepLines[i] : 0
            if !started {
                drainKmsg(boot: false)
                out.append("stage name=scenario-start")
                started = true
            }
            for ins in instructions {
                let kills = machine.vmstat.oomKill, mark = out.count
                killMark = nil
                perform(ins)
                if machine.vmstat.oomKill != kills {
                    return guestKilled(keeping: killMark ?? mark, bootClock: bootClock)
                }
                if let hung = hungWrite { return guestHung(hung, bootClock: bootClock) }
            }
            // Virtual time passed: virtio-mem retry timers that expired meanwhile fire now.
            let kills = machine.vmstat.oomKill
            machine.virtioMemRunTimers()
            if machine.vmstat.oomKill != kills { return guestKilled(keeping: out.count, bootClock: bootClock) }
            drainKmsg(boot: false)
            collectExplain()
        }
        if !started { drainKmsg(boot: false); out.append("stage name=scenario-start") }
        return finish(scenarioRC: 0, reason: nil, bootClock: bootClock)
    }

    /// The log's last lines, as the kernel runner writes them: `scenario_exit` with the guest
    /// program's status (-1: it did not exit on its own) and the runner's `end`.
    func finish(scenarioRC: Int, reason: String?, bootClock: UInt64) -> ModelRunResult {
        out.append("scenario_exit rc=\(scenarioRC)")
        var end = Observation("end")
        end.add("completed", reason == nil ? 1 : 0)
        if let reason { end.add("reason", reason) }
        end.add("scenario_rc", scenarioRC < 0 ? "-" : String(scenarioRC))
        end.add("qemu_rc", 0)
        end.add("boot_s", Self.seconds(bootClock, decimals: 1))
        end.add("total_s", Self.seconds(machine.clock, decimals: 1))
        end.add("build_s", "0.0")
        out.append(end.line)
        return ModelRunResult(
            lines: out, explain: explainOut, completed: reason == nil, unsupported: unsupported,
            virtualNanoseconds: machine.clock)
    }

    /// The OOM killer killed the guest program (`oom_kill_process`): every hold was in its
    /// address space, so whichever hold the model chose, the kernel's victim is the guest. Its
    /// last instruction never printed a line (the output from `mark` on is dropped) and no
    /// step runs after it.
    func guestKilled(keeping mark: Int, bootClock: UInt64) -> ModelRunResult {
        out.removeSubrange(mark...)
        drainKmsg(boot: false)
        collectExplain()
        out.append(Observation("oom_kill", [.init("process", GuestProgram.processName)]).line)
        return finish(scenarioRC: -1, reason: "oom-kill", bootClock: bootClock)
    }

    /// The guest program is stuck in a write that `lock_device_hotplug_sysfs` restarts until
    /// the ACPI worker's eject ends, which waits for pages only the guest could free: no line
    /// after it, and the kernel runner gives up at the scenario's `timeout:` (`end ...
    /// reason=timeout`, `scenario_exit rc=-1`). Its SIGALRM does not end the write: the
    /// restart (-ERESTARTNOINTR) follows the handler.
    func guestHung(_ busy: DeviceHotplugLockBusy, bootClock: UInt64) -> ModelRunResult {
        drainKmsg(boot: false)
        collectExplain()
        explainOut.append("\(scenario.file):\(currentLine) [\(Self.timestamp(machine.clock))] guest: \(busy)")
        machine.advance(nanoseconds: UInt64(max(0, scenario.timeoutSeconds)) &* 1_000_000_000)
        return finish(scenarioRC: -1, reason: "timeout", bootClock: bootClock)
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
            out.append(
                Observation(
                    "unsupported",
                    [
                        .init("step", text, quoted: true),
                        .init("reason", "the model does not provide this module's files", quoted: true)
                    ]
                ).line)
        }
    }

    // MARK: - Steps

    /// One instruction of the guest program, on the model.
    func perform(_ ins: GuestInstruction) {
        switch ins {
        case .dyndbg:
            break
        case .step(let n, let label):
            out.append(Observation("step", [.init("n", String(n)), .init("label", label, quoted: true)]).line)
        case .write(let path, let value, let nonl, let offline, let timeout):
            doWrite(offline: offline, nonl: nonl, timeout: timeout, path: path, value: value)
        case .read(let path):
            doRead(path)
        case .host(_, _, let step):
            hostAction(step)
            guestSettle()
            settleReads()
        case .hold(let kind, let id, let size, let node):
            doHold(kind: kind, id: id, bytes: size, node: node)
        case .release(let id):
            doRelease(id)
        case .fill(let node, let margin, let id):
            doFill(node: node, margin: margin, id: id)
        case .dump(let item):
            dump(item)
        case .sleep(let ms):
            machine.advance(nanoseconds: UInt64(max(0, ms)) * 1_000_000)
        }
    }

    /// memhp-guest's `settle()` after a host request: it lists the memory blocks
    /// (`list_blocks`), which faults in the runner's pages when it is the first listing
    /// (`guestListBlocks`); where none can be had (a failed hot-add left the zones at their
    /// min watermark: campaign seeds 51 and 54) the OOM killer kills the guest there, after
    /// the host runner wrote the step's `hotplug` line.
    func guestSettle() {
        killMark = out.count
        guestListBlocks()
    }

    /// What every `settle()` reads: the memory directory's entries and each block's `state`
    /// (first-time lookups of new blocks' names).
    func settleReads() {
        for b in blockIDs() { _ = firstLine(Self.memdir + "/memory\(b)/state") }
    }

    /// Records a step the model cannot perform yet. Never fakes a result.
    func markUnsupported(_ step: Step, _ why: String) {
        let text = step.line
        unsupported.append(text)
        out.append(
            Observation("unsupported", [.init("step", text, quoted: true), .init("reason", why, quoted: true)]).line)
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
        } catch let busy as DeviceHotplugLockBusy {
            hungWrite = busy
            return
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
        case .slab: .slabUnreclaimable
        case .pagetable: .pageTable
        }
    }

    /// The blocks a hold of `pages` 4 KiB pages allocates and their order, as the guest's
    /// workload makes the kernel allocate them: a 4048-byte message plus its 48-byte msg_msg is
    /// one kmalloc-cg-4k object (alloc_msg), SLUB packs eight to an order-3 slab (calculate_order
    /// with one CPU: min_objects 8); a PTE page per 2 MiB read (pte_alloc) plus a PMD page per
    /// 1 GiB (pmd_alloc_one; both counted in PageTables). Checked on 6.1 by the conformance
    /// fixtures hold-slab (SUnreclaim +65540 kB for 64 MiB) and hold-pagetable (+4096 + 8 pages).
    static func holdBlocks(_ k: HoldKind, pages: Int) -> (order: Int, count: Int) {
        switch k {
        case .slab: (3, (pages + 7) / 8)
        case .pagetable: (0, pages + (pages + 511) / 512)
        default: (0, pages)
        }
    }

    /// Owner names of scenario workloads, apart from the kernel's own owners.
    static func ownerName(_ id: String) -> String { "hold:" + id }

    /// `hold KIND ID SIZE [node=N]`: the guest's mmap+touch, memfd or ramfs write, with MPOL_BIND
    /// when a node is given. A short allocation is the guest's ENOMEM.
    func doHold(kind: HoldKind, id: String, bytes: Int, node: Int?) {
        var err = "0"
        let pages = (bytes + 4095) / 4096
        machine.kernelActivityRuns()  // the process's page tables or its file's XArray nodes
        guestChunk()
        guestFiles(kind, id: id)
        do {
            // ramfs and memfd pages are a file's page cache, indexed by its XArray.
            let (order, count) = Self.holdBlocks(kind, pages: pages)
            // A pinned hold is an anonymous mapping first (GFP_HIGHUSER_MOVABLE faults); the
            // io_uring registration pins it afterwards.
            let name = Self.ownerName(id), pageKind = kind == .pinned ? .anon : Self.pageKind(kind)
            let owner =
                kind == .ramfs || kind == .shmem
                ? try machine.createFileOwner(name: name, kind: pageKind, node: node ?? 0, bound: node != nil)
                : try machine.createOwner(name: name, kind: pageKind, node: node ?? 0, bound: node != nil, order: order)
            holds[id] = owner
            if kind == .anon || kind == .pinned {
                let tables = try machine.createOwner(
                    name: name + ":pgtables", kind: .pageTable, node: node ?? 0, bound: node != nil)
                holdTables[id] = tables
                if faultInMapping(owner: owner, tables: tables, pages: count) < count {
                    err = "ENOMEM"
                } else if kind == .pinned {
                    var ring = try machine.ioUringSetup(
                        name: name + ":io_uring", entries: GuestProgram.pinRingEntries, node: node)
                    defer { holdRings[id] = ring }
                    try machine.ioUringRegisterBuffers(
                        &ring, owner: owner, iovecPages: GuestProgram.pinIovecPages(count))
                }
            } else if machine.allocateFilePages(owner: owner, pages: count) < count {
                err = "ENOMEM"
            }
        } catch let e as KernelError {
            err = e.errno.symbol
        } catch {
            err = "EIO"
        }
        out.append(
            Observation(
                "hold",
                [
                    .init("id", id), .init("kind", kind.rawValue), .init("size", String(bytes)),
                    .init("node", node.map(String.init) ?? "-"), .init("rc", err == "0" ? "0" : "1"),
                    .init("errno", err)
                ]
            ).line)
    }

    /// The files a hold opens before its memory (memhp-guest's do_hold): a ramfs file (its
    /// dentry, inode and LSM blob), a memfd (dentry, blob; the shmem inode's cache is not
    /// modelled), io_uring's anon inode for a pin (`anon_inode_getfile_secure`: all three),
    /// or the write of /proc/sys/kernel/msgmnb before a slab hold's queue (a path walk).
    func guestFiles(_ kind: HoldKind, id: String) {
        switch kind {
        case .ramfs, .pinned: holdFiles[id] = .inode
        case .shmem: holdFiles[id] = .some(nil)
        case .slab:
            machine.pathWalk(["proc", "sys", "kernel", "msgmnb"], existing: 4)
            return
        default: return
        }
        machine.guestFile(inode: holdFiles[id]!, released: false)
    }

    /// memhp-guest's hold and fill start by filling its 1 MiB static `chunk` buffer (the
    /// bytes they write): the first one faults its 256 pages in (anonymous .bss pages of the
    /// guest, GFP_HIGHUSER_MOVABLE, under the default policy), once for the run.
    func guestChunk() {
        guard !chunkTouched else { return }
        chunkTouched = true
        let name = GuestProgram.processName + ":chunk"
        guard let owner = machine.ownerID(named: name) ?? (try? machine.createOwner(name: name, kind: .anon)) else {
            return
        }
        machine.allocate(owner: owner, blocks: GuestProgram.chunkPages)
    }

    /// The guest's touch of a fresh private anonymous mapping, one page every 4 KiB in address
    /// order: the first fault in each 1 GiB allocates a PMD table (`__pmd_alloc`), the first in
    /// each 2 MiB a PTE table (`__pte_alloc`, GFP_PGTABLE_USER: unmovable, under the task's
    /// policy), then the page itself. Returns the pages mapped.
    func faultInMapping(owner: Int, tables: Int, pages: Int) -> Int {
        var done = 0
        while done < pages {
            if done % (512 * 512) == 0 && machine.allocate(owner: tables, blocks: 1) < 1 { break }
            if machine.allocate(owner: tables, blocks: 1) < 1 { break }
            let n = Swift.min(512, pages - done)
            let got = machine.allocate(owner: owner, blocks: n)
            done += got
            if got < n { break }
        }
        return done
    }

    /// `release ID`: closing the fd / munmap frees everything, without allocating: the
    /// mapping's pages (`unmap_vmas`), then its page tables (`free_pgtables`).
    func doRelease(_ id: String) {
        var rc = 1
        if let owner = holds.removeValue(forKey: id) {
            // IORING_UNREGISTER_BUFFERS and close(ring) come before the munmap.
            if let ring = holdRings.removeValue(forKey: id) { machine.ioUringClose(ring) }
            machine.destroyOwner(owner)
            if let tables = holdTables.removeValue(forKey: id) { machine.destroyOwner(tables) }
            if let inode = holdFiles.removeValue(forKey: id) { machine.guestFile(inode: inode, released: true) }
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
        machine.kernelActivityRuns()  // the guest reads zoneinfo and fills a ramfs file
        guestChunk()
        holdFiles[id] = .inode
        machine.guestFile(inode: .inode, released: false)
        do {
            let o = try machine.createFileOwner(name: Self.ownerName(id), kind: .ramfs, node: node, bound: true)
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
                let got = machine.allocateFilePages(owner: owner, pages: step)
                if got < step { err = "ENOMEM" } else { pages += step }
                hr = headroom(node: node)
            }
        }
        out.append(
            Observation(
                "fill",
                [
                    .init("id", id), .init("node", String(node)), .init("margin", String(margin)),
                    .init("pages", String(pages)), .init("headroom", String(hr)),
                    .init("rc", err == "0" ? "0" : "1"), .init("errno", err)
                ]
            ).line)
    }

    /// Pages of the node's kernel zones above min + lowmem_reserve[ZONE_NORMAL], as the guest
    /// reads them from /proc/zoneinfo (`headroomFromZoneinfo`): the same figures taken from the
    /// zones /proc/zoneinfo prints (pages free, min, protection), without rendering and parsing
    /// the file after every chunk of the fill. ModelRunnerTests checks the two agree.
    func headroom(node: Int) -> Int {
        guard machine.nodes.indices.contains(node), machine.nodes[node].exists else { return 0 }
        var h = 0
        for t in [ZoneType.dma, .dma32, .normal] {
            let z = machine.zone(node: node, type: t)
            guard z.managedPages != 0 else { continue }
            let r = z.freePages - z.watermark.min - (z.lowmemReserve.count > 2 ? z.lowmemReserve[2] : 0)
            if r > 0 { h += r }
        }
        return h
    }

    /// The guest's reading of the headroom: memhp-guest's do_fill parses /proc/zoneinfo.
    func headroomFromZoneinfo(node: Int) -> Int {
        var h = 0
        for z in zoneinfo() where z.node == node && z.managed != 0 && ["DMA", "DMA32", "Normal"].contains(z.name) {
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
            let placed = machine.drivers.acpiDevices[id] != nil || machine.drivers.unattachedDIMMs[id] != nil
            if ost.isEmpty && !placed {
                // QEMU itself refused the device (no room in the device memory region).
                o.add("ok", 0); o.addQuoted("error", failure ?? "device_add failed")
            } else if ost.isEmpty, let range = machine.drivers.unattachedDIMMs[id] {
                // Placed, but the guest's ACPI hotplug worker is busy (a spinning eject): no
                // _OST within the runner's 60 s wait.
                machine.advance(nanoseconds: 60_000_000_000)
                let addr = range.start << Geometry.pageShift, bs = Geometry.minMemoryBlockSize
                o.add("addr", "0x" + String(addr, radix: 16))
                o.add("blocks", "\(addr / bs)-\((addr + size) / bs - 1)")
                o.add("ost", "-")
                o.add("ok", 0)
            } else {
                let bs = Geometry.minMemoryBlockSize
                if let range = machine.drivers.acpiDevices[id]?.range ?? machine.drivers.unattachedDIMMs[id] {
                    let addr = range.start << Geometry.pageShift
                    o.add("addr", "0x" + String(addr, radix: 16))
                    o.add("blocks", "\(addr / bs)-\((addr + size) / bs - 1)")
                }
                o.add("ost", ost.map(String.init).joined(separator: ","))
                o.add("ok", 1)
            }
        case .dimmDel(let id, let timeout):
            o.add("action", "dimm-del"); o.add("id", id)
            guard machine.drivers.acpiDevices[id] != nil || machine.drivers.unattachedDIMMs[id] != nil else {
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
                out.append(
                    Observation(
                        "qmp_event", [.init("name", "MEMORY_DEVICE_SIZE_CHANGE"), .init("data", data, quoted: true)]
                    ).line)
            }
            return
        default:
            markUnsupported(step, "the model has no API for this host action yet")
            return
        }
        o.add("elapsed_s", Self.seconds(machine.clock &- t0, decimals: 1))
        out.append(o.line)
    }

    // MARK: - Kernel log and explain log

    /// New kernel messages since the last call: at boot the interesting ones as `dmesg`, later
    /// every one as `kmsg prio= msg=`. Both kinds are kernel-only for the diff; the model has
    /// no log timestamps, so boot lines carry `[    0.000000]`.
    func drainKmsg(boot: Bool) {
        let lines = machine.kmsg
        guard kmsgSeen < lines.count else { kmsgSeen = lines.count; return }
        for var msg in lines[kmsgSeen...] {
            var prio = 6
            if msg.hasPrefix("<"), let close = msg.firstIndex(of: ">"),
                let p = Int(msg[msg.index(after: msg.startIndex)..<close])
            {
                prio = p & 7
                msg = String(msg[msg.index(after: close)...])
            }
            if boot {
                if ObservationSchema.bootLogKeys.contains(where: { msg.contains($0) }) {
                    out.append("dmesg [    0.000000] " + msg)
                }
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

}
