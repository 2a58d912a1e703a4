import MemoryModel

/// debugfs: memhp's `explain` file, and
/// `/sys/kernel/debug/notifier-error-inject/memory` (lib/notifier-error-inject.c,
/// lib/memory-notifier-error-inject.c), present only while memory-notifier-error-inject is
/// loaded: `actions/MEM_GOING_ONLINE/error` and `actions/MEM_GOING_OFFLINE/error`, each 0600.
///
/// The files are debugfs "simple attributes" of a signed errno:
/// - a read prints the int with `%lld` and a newline (`-16\n`);
/// - a write takes at most the first 23 bytes (the attribute's 24-byte buffer, NUL
///   terminated), parses them with `kstrtoll(buf, 0)` (EINVAL / ERANGE as that gives), then
///   stores `clamp_t(int, val, -MAX_ERRNO, 0)`: the value is cut to an int first, then
///   clamped to [-4095, 0], so `7` stores 0, `-5000` stores -4095 and `4294967284`
///   (0xfffffff4 as an int) stores -12. Success claims the whole write.
public enum DebugfsArea: KernelFileArea {
    public static let mountPoint = ["sys", "kernel", "debug"]

    static let inject = "notifier-error-inject"
    /// `sizeof(attr->set_buf) - 1`.
    static let setBufBytes = 23

    static func errorFile(_ event: MemoryNotifierEvent) -> KernelFile {
        KernelFile(
            mode: 0o600, show: { "\($0.memoryNotifierError(event))\n" },
            store: { m, written, _ in
                let val = try kstrtoll(Array(written.prefix(setBufBytes)), base: 0)
                m.injectMemoryNotifierError(event, errno: Int(Int32(truncatingIfNeeded: val)))
                return written.count
            })
    }

    /// memhp's own debugfs directory: `explain`, why each operation failed in the kernel's
    /// words (what only dynamic debug would print on Linux), one `[time] subject: reason` a line.
    static let memhp = "memhp"
    static let explainFile = KernelFile.readOnlyRoot { m in
        m.explain.entries.map { "[\(printkTime($0.time))] \($0.subject): \($0.message)\n" }.joined()
    }

    /// `%5llu.%06llu` of nanoseconds, as printk prints its timestamps.
    public static func printkTime(_ ns: UInt64) -> String {
        let s = String(ns / 1_000_000_000)
        let us = String((ns / 1000) % 1_000_000)
        return String(repeating: " ", count: max(0, 5 - s.count)) + s + "."
            + String(repeating: "0", count: 6 - us.count) + us
    }

    public static func lookup(_ relative: ArraySlice<String>, machine: Machine) -> KernelNode? {
        let loaded = machine.hotplug.notifierErrorInjectLoaded
        let c = Array(relative)
        if c.isEmpty { return .directory(.fixed(loaded ? [memhp, inject] : [memhp])) }
        if c[0] == memhp {
            if c.count == 1 { return .directory(.fixed(["explain"])) }
            return c.count == 2 && c[1] == "explain" ? .file(explainFile) : nil
        }
        guard loaded, c[0] == inject else { return nil }
        let actions = Machine.injectableMemoryNotifierEvents
        switch c.count {
        case 1: return .directory(.fixed(["memory"]))
        case 2: return c[1] == "memory" ? .directory(.fixed(["actions"])) : nil
        case 3: return c[1] == "memory" && c[2] == "actions" ? .directory(.fixed(actions.map(\.name))) : nil
        default:
            guard c[1] == "memory", c[2] == "actions", let e = actions.first(where: { $0.name == c[3] }) else {
                return nil
            }
            if c.count == 4 { return .directory(.fixed(["error"])) }
            return c.count == 5 && c[4] == "error" ? .file(errorFile(e)) : nil
        }
    }
}
