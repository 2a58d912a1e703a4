/// Values /proc/meminfo needs that the model does not track, measured on the real kernel
/// (Debian 6.1.0-56-amd64, QEMU 7.2 pc, TCG, `-m 1G,slots=4,maxmem=4G -smp 1`, busybox
/// initramfs, idle, right after boot). They are per-boot constants of that guest.
public enum MeminfoCalibration {
    /// Mapped: initramfs pages mapped by the running processes (init's shell and the runner,
    /// both on tmpfs), never more than the page cache + shmem there is. 6.1.0-57 with the
    /// runner's initramfs: zoneinfo nr_mapped 565-572 at the first step of six boots (1G, 2G,
    /// 4G, two nodes, movablecore), 572 at every step of pool-grow-until-fail-1g's two runs,
    /// Mapped 2288 kB in the snapshot fixtures (the older busybox-only captures: 1600 kB).
    public static let mappedPages = 572
    /// Committed_AS of the idle guest minus its AnonPages (2612 kB − 92 kB): the init
    /// shell's and helpers' private writable mappings. Anonymous memory the model allocates
    /// is added on top (it is committed when mapped).
    public static let committedBaseKB = 2520
    /// VmallocUsed: module-less kernel's vmalloc areas (stacks are counted here too).
    public static let vmallocUsedKB = 7356
    /// Percpu: the first chunk with one CPU.
    public static let percpuKB = 260
    /// VmallocTotal with 4-level paging (qemu64 has no LA57): 32 TiB − 1 byte, in kB.
    public static let vmallocTotalKB = (32 << 30) - 1
    /// 2 MiB direct-map pages the kernel splits to 4 KiB at boot (the kernel image's
    /// text/rodata/data boundaries in its direct-map alias): DirectMap4k 26496 kB and
    /// DirectMap2M 1021952 kB on the 1 GiB guest = 3968 kB / 1044480 kB by alignment, with
    /// 11 large pages split.
    public static let bootSplitLargePages = 11
}
