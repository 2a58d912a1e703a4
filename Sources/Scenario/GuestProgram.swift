import Foundation
import MemoryModel


/// The scenario translated for the guest: the `/steps` command list memhp-guest.c executes,
/// the modules to load, and the hot-plug steps the host performs when the guest asks.
public struct GuestPlan {
    /// Lines of `/steps` (see memhp-guest.c's main loop for the commands).
    public var commands: [String] = []
    /// `@host N` refers to `hostSteps[N-1]`.
    public var hostSteps: [Step] = []
    /// Module names in load order (dependencies first), with their arguments.
    public var modules: [(name: String, args: String)] = []

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
        "file drivers/acpi/acpi_memhotplug.c +p",
    ]

    static func hex(_ s: String) -> String {
        s.isEmpty ? "-" : s.utf8.map { String(format: "%02x", $0) }.joined()
    }

    public init(_ sc: Scenario) {
        var stepN = 0
        var mods: [(String, String)] = []
        if !sc.machine.virtioMem.isEmpty && !sc.modules.contains(where: { $0.name == "virtio_mem" }) {
            mods.append(("virtio_pci", ""))
            mods.append(("virtio_mem", "dyndbg=+p"))
        }
        for m in sc.modules { mods.append((m.name, m.args)) }
        modules = mods
        for q in Self.dyndbgQueries { commands.append("DYNDBG \(Self.hex(q))") }
        for step in sc.steps {
            switch step {
            case .step(let name):
                stepN += 1
                commands.append("STEP \(stepN) \(Self.hex(name))")
            case .write(let path, let value, let newline, let timeout):
                commands.append("WRITE 0 \(newline ? 0 : 1) \(timeout) \(Self.hex(path)) \(Self.hex(value))")
            case .read(let path):
                commands.append("READ \(Self.hex(path))")
            case .online(let block, let type):
                commands.append("WRITE 0 0 \(Step.defaultWriteTimeout) \(Self.hex(ScenarioPaths.blockState(block))) \(Self.hex(type.name))")
            case .offline(let block, let timeout):
                commands.append("WRITE 1 0 \(timeout) \(Self.hex(ScenarioPaths.blockState(block))) \(Self.hex("offline"))")
            case .dimmAdd, .dimmDel, .vmemResize:
                hostSteps.append(step)
                commands.append("HOST \(hostSteps.count) \(Self.hostTimeout(step)) \(Self.hex(step.line))")
            case .hold(let kind, let id, let size, let node):
                let k = HoldKind.allCases.firstIndex(of: kind)!
                commands.append("HOLD \(k) \(Self.hex(id)) \(size) \(node ?? -1)")
            case .release(let id):
                commands.append("RELEASE \(Self.hex(id))")
            case .fillKernel(let node, let margin, let id):
                commands.append("FILL \(node) \(margin) \(Self.hex(id))")
            case .dump(let items):
                for item in items {
                    switch item {
                    case .blocks(let sel), .pageflags(let sel):
                        commands.append("DUMP \(item.keyword) \(sel.map { $0.map(String.init).joined(separator: ",") } ?? "-")")
                    default:
                        commands.append("DUMP \(item.keyword) -")
                    }
                }
            case .sleep(let s):
                commands.append("SLEEP \(Int(s * 1000))")
            }
        }
    }

    /// How long the guest waits for the host's answer (and then for the blocks to settle).
    static func hostTimeout(_ s: Step) -> Int {
        switch s {
        case .dimmAdd: return 60
        case .dimmDel(_, let t): return t
        case .vmemResize(_, _, let t): return t
        default: return 60
        }
    }

    public var stepsFile: String { commands.joined(separator: "\n") + "\n" }

    /// `/init`: mounts, then runs memhp-guest on ttyS1 (the control port) and powers off.
    /// The runner is a child, not PID 1, so the OOM killer may pick it rather than deadlock init;
    /// /init then still reports and powers off.
    public func initScript() -> String {
        var s = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        mount -t debugfs debugfs /sys/kernel/debug
        mkdir -p /mnt/ramfs /tmp
        mount -t ramfs ramfs /mnt/ramfs

        """
        s += """
        /memhp-guest /steps /dev/ttyS1
        rc=$?
        echo "@exit $rc" > /dev/ttyS1
        sync
        poweroff -f

        """
        return s
    }

    /// INSMOD commands go first in /steps (the runner reports each as `insmod`).
    public func stepsFile(moduleFiles: [(name: String, file: String, args: String)]) -> String {
        let ins = moduleFiles.map { "INSMOD \(Self.hex($0.file)) \(Self.hex($0.args)) \(Self.hex($0.name))" }
        return (ins + commands).joined(separator: "\n") + "\n"
    }
}
