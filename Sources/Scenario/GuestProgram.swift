import MemoryModel

/// One instruction of the guest program. The kernel runner writes each as a line of `/steps`
/// for memhp-guest.c (`encoded`); the model runner performs the same instruction on the model,
/// so both runners execute one program.
public enum GuestInstruction: Sendable, Equatable {
    /// `echo QUERY > /proc/dynamic_debug/control` (the kernel's pr_debug lines; the model has none to enable).
    case dyndbg(query: String)
    /// `step n=K label=`.
    case step(n: Int, label: String)
    /// One open + write(2) + close of `value` (plus a newline unless `nonl`). `offline` writes
    /// also report `timeout_s` and `timed_out`: the writer's timer fires after `timeoutSeconds`.
    case write(path: String, value: String, nonl: Bool, offline: Bool, timeoutSeconds: Int)
    /// Read a whole file.
    case read(path: String)
    /// Ask the host for hot-plug step `n` (1-based in `GuestProgram.hostSteps`), then wait up to
    /// `timeoutSeconds` for the memory blocks to settle.
    case host(n: Int, timeoutSeconds: Int, step: Step)
    case hold(kind: HoldKind, id: String, sizeBytes: Int, node: Int?)
    case release(id: String)
    case fill(node: Int, marginPages: Int, id: String)
    case dump(DumpItem)
    /// `usleep(ms * 1000)`.
    case sleep(milliseconds: Int)

    /// The `/steps` line memhp-guest.c's main loop parses: a command word, numbers, strings
    /// hex-encoded (`-` for the empty string) so any byte survives `sscanf`.
    public var encoded: String {
        typealias H = GuestProgram
        switch self {
        case .dyndbg(let q): return "DYNDBG \(H.hex(q))"
        case .step(let n, let label): return "STEP \(n) \(H.hex(label))"
        case .write(let path, let value, let nonl, let offline, let timeout):
            return "WRITE \(offline ? 1 : 0) \(nonl ? 1 : 0) \(timeout) \(H.hex(path)) \(H.hex(value))"
        case .read(let path): return "READ \(H.hex(path))"
        case .host(let n, let timeout, let step): return "HOST \(n) \(timeout) \(H.hex(step.line))"
        case .hold(let kind, let id, let size, let node):
            return "HOLD \(HoldKind.allCases.firstIndex(of: kind) ?? 0) \(H.hex(id)) \(size) \(node ?? -1)"
        case .release(let id): return "RELEASE \(H.hex(id))"
        case .fill(let node, let margin, let id): return "FILL \(node) \(margin) \(H.hex(id))"
        case .dump(let item):
            switch item {
            case .blocks(let sel), .pageflags(let sel):
                return "DUMP \(item.keyword) \(sel.map { $0.map(String.init).joined(separator: ",") } ?? "-")"
            default:
                return "DUMP \(item.keyword) -"
            }
        case .sleep(let ms): return "SLEEP \(ms)"
        }
    }
}

/// A module the guest loads before the first step (`finit_module`), with its arguments.
public struct GuestModule: Sendable, Equatable {
    public var name: String
    public var args: String
}

/// The scenario compiled into the guest program: one definition of what the guest does, which
/// memhp-guest.c executes on the real kernel (from `/steps`) and `ModelRunner` executes on the
/// model. The observations each instruction prints are `ObservationSchema`'s.
public struct GuestProgram: Sendable {
    /// Run once before the scenario's steps (kernel-only: dynamic debug).
    public var preamble: [GuestInstruction] = []
    /// The instructions of each scenario step, in order (`steps[i]` comes from `scenario.steps[i]`).
    public var steps: [[GuestInstruction]] = []
    /// `.host(n:)` refers to `hostSteps[n-1]`: what the host does over QMP.
    public var hostSteps: [Step] = []
    /// Modules in load order (dependencies first).
    public var modules: [GuestModule] = []
    /// The runner's buffers made resident before anything else (`GuestFootprint`): set when a
    /// step counts pages per block.
    public var prefault: [GuestFootprint.Group] = []

    /// What every guest kernel boots with, before the scenario's own `cmdline:`: the console
    /// on ttyS0 (the control port is ttyS1), a panic powers off, no KASLR (the captures'
    /// `Memory:` line depends on where the image sits).
    public static let baseCmdline = "console=ttyS0 quiet panic=-1 nokaslr"
    /// The guest program's process name (comm), as the kernel's OOM killer reports it.
    public static let processName = "memhp-guest"
    /// Heap pages memhp-guest's first `opendir` faults in (`list_blocks`, `block_node`,
    /// `hsizes`: glibc mallocs the DIR with its 32 KiB getdents buffer at the top of the heap;
    /// later calls reuse the freed chunk). Measured on 6.1.0-57 (meminfo's AnonPages after a
    /// stat_refresh, 1 GiB guest, no prefault): 168 kB before, 172 kB after a first
    /// `dump hugepages`, whose only opendir is hsizes'.
    public static let opendirHeapPages = 1
    /// .bss pages memhp-guest's first `list_blocks` faults in: the first page of its static
    /// `blocks` array (dump blocks, settle). Measured as above: 172 -> 176 kB at a `dump blocks`
    /// after that `dump hugepages`; 168 -> 176 kB at a first `dump blocks`, then nothing at the
    /// next dimm-add's settle; 168 -> 176 kB at a first dimm-add's settle, then nothing at a
    /// later `dump blocks`.
    public static let blockListPages = 1
    /// memhp-guest's static `chunk` buffer (1 MiB, `char chunk[1 << 20]`), which every hold and
    /// fill writes before anything else: 256 anonymous pages on their first touch. Campaign seed
    /// 40 probed on 6.1.0-57 with zone dumps after every step: its first hold (anon 128M) takes
    /// 322 pages besides its own 32768 from node 0 DMA32 (256 + 64 PTE tables + 2 tables).
    public static let chunkPages = (1 << 20) >> 12
    /// A `pinned` hold's io_uring: memhp-guest's do_hold calls io_uring_setup(4, ...) after
    /// touching the mapping, then registers it as iovecs of at most 1 GiB (`io_buffer_validate`'s
    /// limit): ceil(size / 1 GiB) of them, all full but the last.
    public static let pinRingEntries = 4
    public static func pinIovecPages(_ pages: Int) -> [Int] {
        let perIovec = IOUringSizes.maxBufferBytes / GuestFootprint.pageSize
        return stride(from: 0, to: pages, by: perIovec).map { Swift.min(perIovec, pages - $0) }
    }

    /// The kernel command line of the scenario's guest (QEMU's `-append`; the model's `guest cmdline=`).
    public static func kernelCommandLine(_ sc: Scenario) -> String {
        sc.machine.cmdline.isEmpty ? baseCmdline : baseCmdline + " " + sc.machine.cmdline
    }

    /// Where dynamic debug is turned on, so `memory offlining [mem ...] failed due to <reason>`,
    /// `Offlined Pages N` and the like reach the log (pr_debug is compiled out of the log otherwise).
    public static let dyndbgQueries = [
        "file mm/memory_hotplug.c +p",
        "file mm/page_isolation.c +p",
        "file mm/page_alloc.c +p",
        "file mm/hugetlb.c +p",
        "file mm/hugetlb_vmemmap.c +p",
        "file mm/migrate.c +p",
        "file drivers/base/memory.c +p",
        "file drivers/acpi/acpi_memhotplug.c +p"
    ]

    /// Lower-case hex of the UTF-8 bytes; `-` for the empty string.
    static func hex(_ s: String) -> String {
        guard !s.isEmpty else { return "-" }
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(s.utf8.count * 2)
        for b in s.utf8 { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return out
    }

    public init(_ sc: Scenario) {
        // virtio-mem devices need their driver (Debian builds it as a module).
        if !sc.machine.virtioMem.isEmpty && !sc.modules.contains(where: { $0.name == "virtio_mem" }) {
            modules.append(GuestModule(name: "virtio_pci", args: ""))
            modules.append(GuestModule(name: "virtio_mem", args: "dyndbg=+p"))
        }
        for m in sc.modules { modules.append(GuestModule(name: m.name, args: m.args)) }
        preamble = Self.dyndbgQueries.map { .dyndbg(query: $0) }
        prefault = GuestFootprint.groups(sc.steps)
        var stepN = 0
        for step in sc.steps {
            var ins: [GuestInstruction] = []
            switch step {
            case .step(let name):
                stepN += 1
                ins.append(.step(n: stepN, label: name))
            case .write(let path, let value, let newline, let timeout):
                ins.append(.write(path: path, value: value, nonl: !newline, offline: false, timeoutSeconds: timeout))
            case .read(let path):
                ins.append(.read(path: path))
            case .online(let block, let type):
                ins.append(
                    .write(
                        path: ScenarioPaths.blockState(block), value: type.name, nonl: false, offline: false,
                        timeoutSeconds: Step.defaultWriteTimeout))
            case .offline(let block, let timeout):
                ins.append(
                    .write(
                        path: ScenarioPaths.blockState(block), value: "offline", nonl: false, offline: true,
                        timeoutSeconds: timeout))
            case .dimmAdd, .dimmDel, .vmemResize:
                hostSteps.append(step)
                ins.append(.host(n: hostSteps.count, timeoutSeconds: Self.hostTimeout(step), step: step))
            case .hold(let kind, let id, let size, let node):
                ins.append(.hold(kind: kind, id: id, sizeBytes: size, node: node))
            case .release(let id):
                ins.append(.release(id: id))
            case .fillKernel(let node, let margin, let id):
                ins.append(.fill(node: node, marginPages: margin, id: id))
            case .dump(let items):
                ins += items.map { .dump($0) }
            case .sleep(let s):
                // The scenario's decimal seconds, truncated to milliseconds.
                ins.append(.sleep(milliseconds: Int(max(0, s * 1000))))
            }
            steps.append(ins)
        }
    }

    /// How long the guest waits for the host's answer (and then for the blocks to settle).
    static func hostTimeout(_ s: Step) -> Int {
        switch s {
        case .dimmDel(_, let t): return t
        case .vmemResize(_, _, let t): return t
        default: return 60
        }
    }

    /// Every instruction's `/steps` line, preamble first.
    public var commands: [String] { (preamble + steps.joined()).map(\.encoded) }

    /// `/steps`: the PREFAULT line when there is one (the runner reads it before anything
    /// else), INSMOD lines (the runner reports each as `insmod`; `moduleFiles` are the .ko files
    /// with their dependencies, in load order), then the program.
    public func stepsFile(moduleFiles: [(name: String, file: String, args: String)] = []) -> String {
        let ins = moduleFiles.map { "INSMOD \(Self.hex($0.file)) \(Self.hex($0.args)) \(Self.hex($0.name))" }
        let pre = GuestFootprint.stepsLine(prefault).map { [$0] } ?? []
        return (pre + ins + commands).joined(separator: "\n") + "\n"
    }
}
