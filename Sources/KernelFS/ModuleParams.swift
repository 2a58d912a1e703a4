import MemoryModel

/// `/sys/module/memory_hotplug/parameters` (mm/memory_hotplug.c module_param_cb /
/// module_param): the online policy knobs, writable at run time, and memmap_on_memory,
/// which is 0444 (boot only: opening it for writing is EACCES even for root).
///
/// `param_attr_store` passes the NUL-terminated buffer to the setter and returns the whole
/// length on success; a zero-length write never reaches it.
public enum ModuleParamsArea: KernelFileArea {
    public static let mountPoint = ["sys", "module", "memory_hotplug", "parameters"]

    static func store(
        _ body: @escaping @Sendable (Machine, [UInt8]) throws -> Void
    ) -> @Sendable (Machine, [UInt8], WriteContext) throws -> Int {
        { m, written, _ in
            guard let buf = sysfsStoreBuffer(written) else { return 0 }
            try body(m, buf)
            return buf.count
        }
    }

    static func yn(_ b: Bool) -> String { b ? "Y\n" : "N\n" }

    static let files: [String: KernelFile] = [
        // set_online_policy: sysfs_match_string over {contig-zones, auto-movable}.
        "online_policy": KernelFile(
            mode: 0o644, show: { $0.params.onlinePolicy.name + "\n" },
            store: store { m, buf in
                let i = try sysfsMatchString(buf, onlinePolicyNames)
                m.setOnlinePolicy(KernelParameters.OnlinePolicy(rawValue: onlinePolicyNames[i])!)
            }),
        // param_set_uint: kstrtouint(val, 0).
        "auto_movable_ratio": KernelFile(
            mode: 0o644, show: { "\($0.params.autoMovableRatio)\n" },
            store: store { m, buf in
                m.setAutoMovableRatio(try paramSetUint(buf))
            }),
        // param_set_bool: kstrtobool.
        "auto_movable_numa_aware": KernelFile(
            mode: 0o644, show: { yn($0.params.autoMovableNumaAware) },
            store: store { m, buf in
                m.setAutoMovableNumaAware(try kstrtobool(buf))
            }),
        "memmap_on_memory": .readOnly { yn($0.params.memmapOnMemory) }
    ]

    public static func lookup(_ relative: ArraySlice<String>, machine: Machine) -> KernelNode? {
        if relative.isEmpty { return .directory(.fixed(Array(files.keys))) }
        guard relative.count == 1, let f = files[relative.first!] else { return nil }
        return .file(f)
    }
}
