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

    /// `memory_notify()` + `notifier_to_errno()`: 0, or the negative errno of the first
    /// subscriber that vetoed. Only the GOING_* actions' results are used by callers.
    @discardableResult
    func memoryNotify(_ event: MemoryNotifierEvent, _ arg: MemoryNotify) -> Int {
        var a = arg
        a.event = event
        hotplug.notifierLog.append(a)
        // The injection module registers at boot, before any driver.
        if let e = hotplug.notifierErrors[event], e != 0 { return e }
        for n in hotplug.notifiers {
            let r = n.callback(self, a)
            if r != 0 { return r }
        }
        return 0
    }
}
