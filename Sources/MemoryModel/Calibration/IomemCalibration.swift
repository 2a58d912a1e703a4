/// The parts of /proc/iomem that are not RAM on QEMU's pc machine (SeaBIOS, i440FX, no
/// devices: `-nodefaults`), and where the Debian 6.1 kernel's sections sit inside its image.
/// Measured on the real kernel (`cat /proc/iomem` as root, 1 GiB guest).
public enum IomemCalibration {
    /// Offsets of `Kernel code`, `Kernel rodata`, `Kernel data`, `Kernel bss` from the start
    /// of the image, [start, end) in bytes, for vmlinuz-6.1.0-56-amd64.
    public static let kernelSections: [(name: String, start: Int, end: Int)] = [
        ("Kernel code", 0, 0xe01d32),
        ("Kernel rodata", 0x100_0000, 0x18e_b000),
        ("Kernel data", 0x1a0_0000, 0x1c4_8980),
        ("Kernel bss", 0x231_0000, 0x340_0000)
    ]
    /// Fixed platform resources: (start, end inclusive, name, children).
    public static let platform: [(Int, Int, String, [(Int, Int, String)])] = [
        (0x000c_0000, 0x000c_05ff, "Video ROM", []),
        (0xfec0_0000, 0xfec0_03ff, "IOAPIC 0", []),
        (0xfed0_0000, 0xfed0_03ff, "HPET 0", [(0xfed0_0000, 0xfed0_03ff, "PNP0103:00")]),
        (0xfee0_0000, 0xfee0_0fff, "Local APIC", [])
    ]
    /// i440FX's 64-bit PCI hole (QEMU default `pci-hole64-size`).
    public static let pciHole64Size = 2 << 30
}
