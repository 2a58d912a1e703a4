/// State of the drivers that bring memory to memory hotplug: the ACPI memory device driver
/// (drivers/acpi/acpi_memhotplug.c) and virtio-mem (drivers/virtio/virtio_mem.c). They are
/// clients of hotplug: they call its API (add_memory, offline_and_remove_memory,
/// remove_memory) and hear from it only through the memory notifier chain and page flags
/// (PageOffline); hotplug and the rest of mm never read this state.
public struct MemoryDrivers: Sendable {
    /// ACPI memory devices (PNP0C80) by QEMU id.
    public internal(set) var acpiDevices: [String: ACPIMemoryDevice] = [:]
    /// QEMU DIMMs whose ACPI add failed in the guest (no handler attached, no memory added):
    /// QEMU's device still exists and keeps its address range, by id.
    public internal(set) var unattachedDIMMs: [String: PFNRange] = [:]
    /// virtio-mem devices by QEMU id (VirtioMem.swift).
    public internal(set) var virtioMem: [String: VirtioMemDevice] = [:]
    /// offline_and_remove_memory() successes of virtio-mem (each retriggers its worker).
    var virtioMemRemovals = 0
    /// A virtio-mem worker is running (`wq_active`).
    var virtioMemWorkerActive = false
    /// Blocks being offlined whose fake-offline pages the virtio-mem driver let go of in
    /// MEM_GOING_OFFLINE (refcount 0, counted as managed again) until MEM_OFFLINE or
    /// MEM_CANCEL_OFFLINE (`vm->hotplug_active`).
    var virtioMemGoingOffline: Set<Int> = []
    /// `_OST` status codes the guest reported to the firmware: (device, status), in order.
    public internal(set) var ostEvents: [(device: String, status: Int)] = []
    /// The eject whose worker is spinning in offline_pages() (ACPIMemory.swift), if any: the
    /// kernel's one ACPI hotplug worker does nothing else meanwhile.
    var pendingEject: PendingEject?
    /// DIMMs QEMU placed while that worker spins: their insertion events wait on the ordered
    /// kacpi_hotplug workqueue and run, in order, once the eject ends (id and node; the range
    /// is in `unattachedDIMMs` meanwhile).
    var queuedDIMMAdds: [(id: String, node: Int)] = []
}
