/// The kernel's own allocations after boot that the model cannot derive, fitted to the
/// captures (the boot-time ones are in BootProfile).
extension Machine {
    /// Slab pages the kernel's own steady activity (the dentries and inodes of the sysfs/procfs
    /// files the guest looks up next: reclaimable caches) takes right after an online makes a
    /// zone node 0's first GFP_KERNEL zone (`kernelActivityAfterNewFirstZone`).
    /// Calibrated: c-movablecore.kernel.txt, Normal free 32768 → 32761 right after memory6
    /// became node 0's only Normal block (a 6.1.0-57 probe: 6 pages of a Reclaimable block).
    static let slabPagesAfterOnline = 7
}
