/// What a user-space process leaves behind in the kernel when it opens, writes and closes a
/// sysfs file: dentries and inodes of the paths it looked up, kernfs state, slab objects of
/// its own life. Individually the model cannot know them; together they decide whether a
/// block holds an unmovable page when it is offlined later. A slab page allocated right
/// after a kernel block came online comes from the head of ZONE_NORMAL's free lists, i.e.
/// from that block, and stays: that is why the b capture's DIMM eject is refused (a slab page
/// at memory33's first pfn) and why c's memory6 cannot go offline again after being onlined
/// to the kernel.
extension Machine {
    /// Unmovable slab pages one write leaves behind. Calibrated, not derived: with it the
    /// scenario runner reproduces captures b and c block by block (with none, memory33
    /// offlines and dimm1 is ejected). It overstates growth: the captures' Slab line stays
    /// level within ±50 kB over dozens of writes (the kernel frees as it allocates), while
    /// this residue adds 16 kB a write and is never freed.
    public static let writeResiduePages = 4

    /// Allocate one write's residue from the allocator, as the kernel would (GFP_KERNEL).
    public func allocateWriteResidue() {
        let id = ownerID(named: "user:write-residue")
            ?? (try! createOwner(name: "user:write-residue", kind: .slabUnreclaimable))
        allocate(owner: id, blocks: Machine.writeResiduePages)
    }
}
