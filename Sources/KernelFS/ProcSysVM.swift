import MemoryModel

/// `/proc/sys/vm`: the allocator's tunables (kernel/sysctl.c `vm_table` and mm/'s own
/// tables), with the kernel's modes, handlers, range checks and partial-write rules.
/// HugeTLB's files (nr_hugepages, ...) live in another area under the same mount point;
/// the directories merge.
///
/// Writes see the whole buffer at file position 0 (`KernelFS.write`). Read formats are
/// proc_dointvec's: values separated by a tab, then a newline.
public enum ProcSysVMArea: KernelFileArea {
    public static let mountPoint = ["proc", "sys", "vm"]

    static let files: [String: KernelFile] = [
        // min_free_kbytes_sysctl_handler: proc_dointvec_minmax, min 0, then watermarks.
        "min_free_kbytes": intFile(
            min: 0, get: { $0.watermarkTunables.minFreeKbytes }, set: { try $0.setMinFreeKbytes($1) }),
        "watermark_scale_factor": intFile(
            min: 1, max: 3000, get: { $0.watermarkTunables.watermarkScaleFactor },
            set: { try $0.setWatermarkScaleFactor($1) }),
        "watermark_boost_factor": intFile(
            min: 0, get: { $0.watermarkTunables.watermarkBoostFactor },
            set: { try $0.setWatermarkBoostFactor($1) }),
        "overcommit_memory": intFile(
            min: 0, max: 2, get: { $0.vmSysctl.overcommitMemory },
            set: { try $0.setOvercommitMemory($1) }),
        // overcommit_ratio_handler: plain proc_dointvec (negative values are stored).
        "overcommit_ratio": intFile(get: { $0.vmSysctl.overcommitRatio }, set: { m, v in m.setOvercommitRatio(v) }),
        "overcommit_kbytes": KernelFile(
            mode: 0o644, show: { "\($0.vmSysctl.overcommitKbytes)\n" },
            store: { m, bytes, ctx in
                let w = try procDoulongvecMinmax(bytes, position: ctx.position)
                if let v = w.values.first { m.setOvercommitKbytes(v) }
                return w.consumed
            }),
        // percpu_pagelist_high_fraction_sysctl_handler: min 0, then 1...7 is EINVAL.
        "percpu_pagelist_high_fraction": intFile(
            min: 0, get: { $0.vmSysctl.percpuPagelistHighFraction },
            set: { try $0.setPercpuPagelistHighFraction($1) }),
        // 6.1's handler recomputes the reserves on every call, reads included: a read after
        // boot's late frees changes zoneinfo's "protection" (captured: 872 before, 880 after).
        "lowmem_reserve_ratio": {
            var f = KernelFile(
                mode: 0o644,
                show: { m in
                    m.setupPerZoneLowmemReserve()
                    return m.watermarkTunables.lowmemReserveRatio.map(String.init).joined(separator: "\t") + "\n"
                }, store: storeLowmemReserveRatio)
            f.readChangesState = true
            return f
        }(),
        // drop_caches_sysctl_handler: write-only, proc_dointvec_minmax 1...4.
        "drop_caches": KernelFile(
            mode: 0o200, show: nil,
            store: { m, bytes, ctx in
                let w = try procDointvecMinmax(bytes, min: 1, max: 4, position: ctx.position)
                if let v = w.values.first { m.dropCaches(Int(v)) }
                return w.consumed
            }),
        // sysctl_compaction_handler: any write (not even parsed) compacts every node. The
        // model has no compaction yet: accepted, no effect.
        "compact_memory": KernelFile(mode: 0o200, show: nil, store: { _, bytes, _ in try unparsedWrite(bytes) }),
        // vmstat_refresh: 0600; a read folds the per-cpu counters and returns nothing, a
        // write does the same and consumes everything. The model's counters are exact.
        "stat_refresh": KernelFile(mode: 0o600, show: { _ in "" }, store: { _, bytes, _ in try unparsedWrite(bytes) })
    ]

    public static func lookup(_ relative: ArraySlice<String>, machine: Machine) -> KernelNode? {
        if relative.isEmpty { return .directory(.fixed(Array(files.keys))) }
        guard relative.count == 1, let f = files[relative.first!] else { return nil }
        return .file(f)
    }

    /// A one-int sysctl through `proc_dointvec_minmax` (`proc_dointvec` when unbounded).
    /// A rejected value changes nothing; a zero-length write returns 0 and changes nothing.
    static func intFile(
        min: Int32? = nil, max: Int32? = nil, get: @escaping @Sendable (Machine) -> Int,
        set: @escaping @Sendable (Machine, Int) throws -> Void
    ) -> KernelFile {
        KernelFile(
            mode: 0o644, show: { "\(get($0))\n" },
            store: { m, bytes, ctx in
                let w = try procDointvecMinmax(bytes, min: min, max: max, position: ctx.position)
                if let v = w.values.first { try set(m, Int(v)) }
                return w.consumed
            })
    }

    /// A handler that ignores the buffer: the write returns its length (proc_sys_call_handler
    /// still refuses 4 MiB or more with ENOMEM).
    static func unparsedWrite(_ bytes: [UInt8]) throws -> Int {
        if bytes.count >= sysctlMaxWriteBytes { throw KernelError(.noMemory, "sysctl: write too large") }
        return bytes.count
    }

    /// `lowmem_reserve_ratio_sysctl_handler`: proc_dointvec_minmax over the 5 zone slots,
    /// **ignoring its error**, then every ratio below 1 becomes 0 and the reserves are
    /// recomputed. So `foo` or whitespace returns the full length and changes nothing, `-1`
    /// stores 0, `1 2` changes the first two slots, `1 foo` stores 1 and returns the bytes
    /// before `foo`, and a sixth number is left unconsumed (a short write).
    static func storeLowmemReserveRatio(_ m: Machine, _ bytes: [UInt8], _ ctx: WriteContext) throws -> Int {
        if bytes.count >= sysctlMaxWriteBytes { throw KernelError(.noMemory, "sysctl: write too large") }
        // A write at a non-zero position is ignored by the parse (sysctl_writes_strict),
        // but the handler still clamps and recomputes.
        let r: (values: [Int32], consumed: Int, error: KernelError?) =
            ctx.position != 0
            ? ([], bytes.count, nil)
            : sysctlIntVector(bytes, slots: m.watermarkTunables.lowmemReserveRatio.count)
        var ratios = m.watermarkTunables.lowmemReserveRatio
        for (i, v) in r.values.enumerated() { ratios[i] = Int(v) }
        ratios = ratios.map { $0 < 1 ? 0 : $0 }
        try m.setLowmemReserveRatio(ratios)
        return r.consumed
    }
}

/// `__do_proc_dointvec`'s write loop over several int slots with no range limits, keeping
/// what the kernel keeps on failure: the values stored before the failing one, and the
/// byte count `*lenp` ends with (everything, when the very first number fails: the kernel
/// returns before touching `*lenp`). Only `lowmem_reserve_ratio` needs this; every other
/// sysctl goes through `procDointvecMinmax`.
func sysctlIntVector(_ input: [UInt8], slots: Int) -> (values: [Int32], consumed: Int, error: KernelError?) {
    let count = input.count
    if count == 0 { return ([], 0, nil) }
    var left = Swift.min(count, sysctlWindowBytes)
    var p = 0
    var values: [Int32] = []
    var error: KernelError?
    var first = true
    var vleft = slots
    func skipSpaces() { while left > 0 && kernelIsSpace(input[p]) { p += 1; left -= 1 } }
    while left > 0 && vleft > 0 {
        vleft -= 1
        skipSpaces()
        if left == 0 { break }
        // proc_get_long: optional '-' (only when more follows), a decimal digit first, then
        // base-0 digits from a 21-byte window; a separator other than space/tab/newline fails.
        let window = input[p..<(p + Swift.min(left, 21))]
        var q = 0
        var neg = false
        if byte(window, 0) == UInt8(ascii: "-") && left > 1 { neg = true; q = 1 }
        guard kernelIsDigit(byte(window, q)) else { error = KernelError(.invalidArgument); break }
        let digits = window.dropFirst(q)
        let (base, skip) = fixupRadix(digits, 0)
        let r = parseDigits(digits, from: skip, base: base)
        let used = q + skip + r.count
        if r.overflow || used == 21 { error = KernelError(.invalidArgument); break }
        if used < left {
            let c = byte(window, used)
            if c != 0x20 && c != 0x09 && c != 0x0A { error = KernelError(.invalidArgument); break }
        }
        p += used; left -= used
        // do_proc_dointvec_conv: int range.
        let limit: UInt64 = neg ? UInt64(Int32.max) + 1 : UInt64(Int32.max)
        guard r.value <= limit else { error = KernelError(.invalidArgument); break }
        values.append(neg ? Int32(truncatingIfNeeded: 0 &- Int64(r.value)) : Int32(r.value))
        first = false
    }
    if error == nil && left > 0 { skipSpaces() }
    if first { return ([], count, error ?? KernelError(.invalidArgument)) }
    return (values, count - left, error)
}
