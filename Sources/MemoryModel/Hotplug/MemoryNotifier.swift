/// The memory notifier chain (`memory_notify`, drivers/base/memory.c) and the
/// memory-notifier-error-inject module (lib/memory-notifier-error-inject.c), whose debugfs
/// `actions/<ACTION>/error` makes an action return a chosen errno.
extension Machine {
    /// Subscribe to memory notifications (virtio-mem, HugeTLB, ...). Callbacks run in
    /// registration order; the first non-zero return stops the chain.
    public func registerMemoryNotifier(name: String, _ callback: @escaping MemoryNotifierCallback) {
        hotplug.notifiers.append((name, callback))
    }

    public func unregisterMemoryNotifier(name: String) {
        hotplug.notifiers.removeAll { $0.name == name }
    }

    /// Set what memory-notifier-error-inject returns for an action: the debugfs file takes a
    /// negative errno and clamps it to [-4095, 0].
    public func injectMemoryNotifierError(_ event: MemoryNotifierEvent, errno: Int) {
        hotplug.notifierErrors[event] = Swift.min(0, Swift.max(-4095, errno))
    }

    /// The actions memory-notifier-error-inject offers (its debugfs `actions/` directories).
    public static let injectableMemoryNotifierEvents: [MemoryNotifierEvent] = [.goingOnline, .goingOffline]

    /// `insmod memory-notifier-error-inject`: its debugfs directory appears with every
    /// action's error at 0, and its notifier joins the chain. Loading twice is EEXIST.
    public func loadMemoryNotifierErrorInject() throws {
        guard !hotplug.notifierErrorInjectLoaded else { throw KernelError(.fileExists, "module already loaded") }
        hotplug.notifierErrorInjectLoaded = true
        hotplug.notifierErrors = [:]
    }

    /// `rmmod`: the files go, the errors with them (a new load starts at 0). ENOENT when not loaded.
    public func unloadMemoryNotifierErrorInject() throws {
        guard hotplug.notifierErrorInjectLoaded else { throw KernelError(.noSuchFileOrDirectory, "module not loaded") }
        hotplug.notifierErrorInjectLoaded = false
        hotplug.notifierErrors = [:]
    }

    /// The kernel modules the model provides, by the name modprobe takes (`-` and `_` alike):
    /// memory-notifier-error-inject, and its parent notifier-error-inject (only a debugfs
    /// directory, always there in the model). `insmod` of another name is ENOENT, as modprobe
    /// finds no such module; loading twice is EEXIST.
    public func loadModule(_ name: String) throws {
        switch String(name.map { $0 == "_" ? "-" : $0 }) {
        case "memory-notifier-error-inject": try loadMemoryNotifierErrorInject()
        case "notifier-error-inject": return
        default:
            throw KernelError(
                .noSuchFileOrDirectory, "module \(name) not found (the model provides memory-notifier-error-inject)")
        }
    }

    /// The error an action's debugfs file holds now (0 = no injection).
    public func memoryNotifierError(_ event: MemoryNotifierEvent) -> Int { hotplug.notifierErrors[event] ?? 0 }

    /// `memory_notify()` + `notifier_to_errno()`: 0, or the negative errno of the first
    /// subscriber that vetoed. Only the GOING_* actions' results are used by callers.
    @discardableResult
    func memoryNotify(_ event: MemoryNotifierEvent, _ arg: MemoryNotify) -> Int {
        var a = arg
        a.event = event
        hotplug.notifierLog.append(a)
        // The injection module registers at boot, before any driver.
        if let e = hotplug.notifierErrors[event], e != 0 {
            // notifier_err_inject_callback
            log("<6>Injecting error (\(e)) to \(event.name)")
            return e
        }
        for n in hotplug.notifiers {
            let r = n.callback(self, a)
            if r != 0 { return r }
        }
        return 0
    }
}
