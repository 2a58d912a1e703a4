/// `lock_device_hotplug_sysfs` (drivers/base/core.c): the memory block `state` and `online`
/// stores and `probe` take device_hotplug_lock only with `mutex_trylock`. When it is held they
/// sleep 5 ms and return `restart_syscall()` (TIF_SIGPENDING and -ERESTARTNOINTR), which the
/// signal code restarts even after a handler ran (arch/x86/kernel/signal.c): the writer never
/// sees an errno, it writes again until the lock is free or a fatal signal kills it.
///
/// The model's only holder that outlives an operation is the ACPI hotplug worker spinning in
/// offline_pages() (`acpi_device_hotplug` takes the lock around `acpi_scan_hot_remove`): while
/// an eject is pending these stores throw `DeviceHotplugLockBusy` instead of running, after
/// their parse (a malformed value is EINVAL without the lock, as in 6.1). The caller decides
/// how its writer waits (KernelFS restarts a real-time writer's store).
public struct DeviceHotplugLockBusy: Error, Sendable, Equatable, CustomStringConvertible {
    /// The ACPI device whose eject holds the lock, and the block its worker spins on.
    public var device: String
    public var block: Int
    public var description: String {
        "device_hotplug_lock is held by the ACPI hotplug worker ejecting \(device) (spinning in offline_pages() on memory\(block)): lock_device_hotplug_sysfs restarts the write until the eject ends"
    }
}

extension Machine {
    /// Takes device_hotplug_lock for a sysfs store, or throws `DeviceHotplugLockBusy` while
    /// a pending eject's worker holds it. Nothing to release: a store runs within one
    /// operation of the calling task.
    public func lockDeviceHotplugSysfs() throws {
        if let walk = drivers.pendingEject {
            throw DeviceHotplugLockBusy(device: walk.device, block: walk.spinning)
        }
    }

    /// Whether device_hotplug_lock is held by a kernel thread between operations (a pending
    /// eject's worker), so that a `state`/`online`/`probe` write would restart.
    public var deviceHotplugLockHeldByWorker: Bool { drivers.pendingEject != nil }
}
