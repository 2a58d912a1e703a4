import MemoryModel

extension ProcViews {
    /// One `show_val_kb` line: the label (already padded by the kernel's string), the value
    /// right-aligned in 8 columns, ` kB`. The node files' lines (`node_read_meminfo`) are the
    /// same after their `Node N ` prefix.
    @inline(__always) static func kb(_ label: String, _ value: Int, prefix: String = "") -> String {
        prefix + label + rjust(value, 8) + " kB\n"
    }

    /// `/proc/meminfo` (`meminfo_proc_show`) for Debian's config: no HIGHMEM, MMU, ZSWAP
    /// (Zswap/Zswapped lines), no SHADOW_CALL_STACK, MEMORY_FAILURE (HardwareCorrupted),
    /// THP, no CMA, then HugeTLB and x86's DirectMap lines.
    public static func meminfo(_ m: Machine) -> String {
        let k = Geometry.pageSize >> 10
        let c = m.nodePageCounters()
        let free = m.totalFreePages
        let cached = c.filePages  // - swap cache (none) - buffers (none)
        let sreclaimable = c.slabReclaimable
        let sunreclaim = c.slabUnreclaimable
        let lru = c.lru
        var s = ""
        s += kb("MemTotal:       ", m.totalManagedPages * k)
        s += kb("MemFree:        ", free * k)
        s += kb("MemAvailable:   ", m.memAvailablePages() * k)
        s += kb("Buffers:        ", 0)
        s += kb("Cached:         ", cached * k)
        s += kb("SwapCached:     ", 0)
        s += kb("Active:         ", (lru.activeAnon + lru.activeFile) * k)
        s += kb("Inactive:       ", (lru.inactiveAnon + lru.inactiveFile) * k)
        s += kb("Active(anon):   ", lru.activeAnon * k)
        s += kb("Inactive(anon): ", lru.inactiveAnon * k)
        s += kb("Active(file):   ", lru.activeFile * k)
        s += kb("Inactive(file): ", lru.inactiveFile * k)
        s += kb("Unevictable:    ", lru.unevictable * k)
        s += kb("Mlocked:        ", 0)
        s += kb("SwapTotal:      ", 0)
        s += kb("SwapFree:       ", 0)
        s += kb("Zswap:          ", 0)
        s += kb("Zswapped:       ", 0)
        s += kb("Dirty:          ", 0)
        s += kb("Writeback:      ", 0)
        s += kb("AnonPages:      ", c.anonPages * k)
        s += kb("Mapped:         ", Swift.min(MeminfoCalibration.mappedPages, c.filePages) * k)
        s += kb("Shmem:          ", c.shmem * k)
        s += kb("KReclaimable:   ", sreclaimable * k)  // + NR_KERNEL_MISC_RECLAIMABLE (0)
        s += kb("Slab:           ", (sreclaimable + sunreclaim) * k)
        s += kb("SReclaimable:   ", sreclaimable * k)
        s += kb("SUnreclaim:     ", sunreclaim * k)
        s += kb("KernelStack:    ", c.kernelStackKB)
        s += kb("PageTables:     ", c.pageTables * k)
        s += kb("SecPageTables:  ", 0)
        s += kb("NFS_Unstable:   ", 0)
        s += kb("Bounce:         ", 0)
        s += kb("WritebackTmp:   ", 0)
        // vm_commit_limit() is unsigned long pages and show_val_kb shifts it unchecked:
        // overcommit_kbytes takes any u64, so the kB figure wraps as the kernel's does.
        s +=
            "CommitLimit:    "
            + rjust(String(UInt64(bitPattern: Int64(m.commitLimitPages())) &<< UInt64(Geometry.pageShift - 10)), 8)
            + " kB\n"
        s += kb("Committed_AS:   ", MeminfoCalibration.committedBaseKB + c.anonPages * k)
        s += kb("VmallocTotal:   ", MeminfoCalibration.vmallocTotalKB)
        s += kb("VmallocUsed:    ", MeminfoCalibration.vmallocUsedKB)
        s += kb("VmallocChunk:   ", 0)
        s += kb("Percpu:         ", MeminfoCalibration.percpuKB)
        s += "HardwareCorrupted: " + rjust(0, 5) + " kB\n"
        s += kb("AnonHugePages:  ", 0)
        s += kb("ShmemHugePages: ", 0)
        s += kb("ShmemPmdMapped: ", 0)
        s += kb("FileHugePages:  ", 0)
        s += kb("FilePmdMapped:  ", 0)
        s += hugetlbMeminfo(m)
        let dm = directMap(m)
        s += kb("DirectMap4k:    ", dm.k4)
        s += kb("DirectMap2M:    ", dm.m2)
        if let g1 = dm.g1 { s += kb("DirectMap1G:    ", g1) }
        return s
    }

    /// `hugetlb_report_meminfo`: HugeTLB's own report; a machine whose hstates were never
    /// set up (synthetic test machines) shows the empty default 2 MiB pool.
    static func hugetlbMeminfo(_ m: Machine) -> String {
        var h = m.hugetlbMeminfo()
        if m.hugetlb.defaultHState == nil { h.hugepagesizeKB = m.params.defaultHugePageSizeBytes >> 10 }
        return h.lines.joined(separator: "\n") + "\n"
    }

    /// `direct_pages_count[]` in kB: [0, 1 MiB) and every mapped RAM range (boot e820 RAM,
    /// added memory blocks) mapped with the largest pages alignment allows (1 GiB only with
    /// gbpages), then the boot-time splits. Hot-added memory is mapped per added range
    /// (one DIMM, or one virtio-mem block) and never split.
    public static func directMap(_ m: Machine) -> (k4: Int, m2: Int, g1: Int?) {
        let gb = m.config.gbpages
        var c4 = 0, c2 = 0, c1 = 0
        func map(_ start: Int, _ end: Int) {
            var s = start
            let m2 = 1 << 21, g1 = 1 << 30
            while s < end {
                if gb && s % g1 == 0 && s + g1 <= end { c1 += 1; s += g1; continue }
                if s % m2 == 0 && s + m2 <= end { c2 += 1; s += m2; continue }
                // 4 KiB up to the next 2 MiB boundary (or the end).
                let next = Swift.min(roundUp(s + 1, m2), end)
                c4 += (next - s) >> 12
                s = next
            }
        }
        if let layout = m.layout {
            map(0, 1 << 20)  // the ISA range is always mapped with 4 KiB pages
            for e in layout.e820User ?? layout.e820 where e.kind == .usable {
                let s = Swift.max(e.start, 1 << 20), end = e.end & ~0xfff
                if s < end { map(s, end) }
            }
            let splits = Swift.min(MeminfoCalibration.bootSplitLargePages, c2)
            c2 -= splits
            c4 += splits * 512
        } else {
            // No layout (synthetic machines): the zones' spans.
            for z in m.zones where z.presentPages > 0 { map(z.startPFN << 12, z.endPFN << 12) }
        }
        for r in addedRanges(m) {
            if isVirtioMem(m, r.device) {
                // virtio-mem adds (and maps) one memory block at a time.
                var p = r.start
                while p < r.end { map(p << 12, Swift.min(p + m.blockPages, r.end) << 12); p += m.blockPages }
            } else {
                map(r.start << 12, r.end << 12)
            }
        }
        return (c4 * 4, c2 * 2048, gb ? c1 * (1 << 20) : nil)
    }

    static func isVirtioMem(_ m: Machine, _ device: String?) -> Bool {
        guard let device else { return false }
        return m.config.virtioMem.contains { $0.id == device }
    }

    /// Memory added after boot (or cold-plugged DIMMs added through ACPI at boot): runs of
    /// present non-boot memory blocks, split where the adding device changes.
    static func addedRanges(_ m: Machine) -> [(start: PFN, end: PFN, device: String?)] {
        let added = m.blocks.values.filter { !$0.isBoot }.sorted { $0.startPFN < $1.startPFN }
        var out: [(start: PFN, end: PFN, device: String?)] = []
        for b in added {
            if let last = out.last, last.end == b.startPFN, last.device == b.device {
                out[out.count - 1].end = b.startPFN + b.pages
            } else {
                out.append((b.startPFN, b.startPFN + b.pages, b.device))
            }
        }
        return out
    }
}
