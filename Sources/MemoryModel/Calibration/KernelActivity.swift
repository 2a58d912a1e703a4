/// The kernel's own allocations after boot that the model cannot derive, fitted to the
/// captures (the boot-time ones are in BootProfile).
extension Machine {
    /// Slab pages the kernel's own steady activity (kernfs and seq_file buffers of the
    /// sysfs/procfs reads and writes that follow, the shell) takes right after an online
    /// makes a zone node 0's first GFP_KERNEL zone (`kernelActivityAfterNewFirstZone`).
    /// Calibrated: c-movablecore.kernel.txt, Normal free 32768 → 32761 right after memory6
    /// became node 0's only Normal block.
    static let slabPagesAfterOnline = 7
}
