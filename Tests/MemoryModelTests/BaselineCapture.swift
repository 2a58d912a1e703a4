/// Lines of the a-baseline capture (QEMU `-m 1G,slots=4,maxmem=4G`), in
/// /work/shared/reference/linux-6.1-captures, that several tests compare the model with.
enum BaselineCapture {
    /// a-baseline.dmesg.txt lines 4-10: the firmware's memory map as the kernel prints it.
    static let e820 = [
        "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable",
        "BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
        "BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved",
        "BIOS-e820: [mem 0x0000000000100000-0x000000003ffdffff] usable",
        "BIOS-e820: [mem 0x000000003ffe0000-0x000000003fffffff] reserved",
        "BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved",
        "BIOS-e820: [mem 0x000000fd00000000-0x000000ffffffffff] reserved"
    ]
}
