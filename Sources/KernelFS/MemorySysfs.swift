import MemoryModel

/// `/sys/devices/system/memory` (drivers/base/memory.c, drivers/base/core.c): the root
/// files and one `memoryN` directory per memory block.
///
/// Every store sees what kernfs hands a sysfs attribute: at most 4096 bytes of the write,
/// NUL-terminated (`sysfsStoreBuffer`); a zero-length write never reaches the store. A
/// successful store consumes the whole buffer. Parsing happens before any state is touched,
/// so a malformed value changes nothing.
public enum MemorySysfsArea: KernelFileArea {
    public static let mountPoint = ["sys", "devices", "system", "memory"]

    /// Wrap a store with kernfs' buffer rules.
    static func sysfsStore(
        _ body: @escaping @Sendable (Machine, [UInt8], WriteContext) throws -> Void
    ) -> @Sendable (Machine, [UInt8], WriteContext) throws -> Int {
        { m, written, ctx in
            guard let buf = sysfsStoreBuffer(written) else { return 0 }
            try body(m, buf, ctx)
            return buf.count
        }
    }

    static let rootFiles: [String: KernelFile] = [
        "block_size_bytes": .readOnly { m in String(m.blockPages << 12, radix: 16) + "\n" },
        // auto_online_blocks_store: mhp_online_type_from_str, no lock, affects later adds only.
        "auto_online_blocks": KernelFile(
            mode: 0o644, show: { $0.params.autoOnline.name + "\n" },
            store: sysfsStore { m, buf, _ in m.setAutoOnlineBlocks(try mhpOnlineType(buf)) }),
        // The memory subsystem's root device has no uevent variables of its own.
        "uevent": KernelFile(
            mode: 0o644, show: { _ in "" }, store: sysfsStore { _, buf, _ in _ = try synthUeventAction(buf) })
    ]

    /// probe_store: kstrtoull(buf, 0), block aligned, one block on the node owning the address.
    static let probeFile = KernelFile(
        mode: 0o200, show: nil,
        store: sysfsStore { m, buf, _ in
            let addr = try kstrtoull(buf, base: 0)
            try m.probeMemory(address: addr)
        }, takesHotplugLock: true)

    /// The entries of a `memoryN` directory besides its `nodeN` link.
    static let blockFileNames = [
        "phys_index", "phys_device", "removable", "state", "online", "valid_zones", "uevent", "subsystem"
    ]

    /// One entry of block `id`'s directory (only the one asked for is built: a path walk
    /// looks one up per open).
    static func blockFile(_ name: String, _ id: Int, node: Int) -> KernelNode? {
        switch name {
        case "phys_index": return .file(.readOnly { _ in hex(id, width: 8, prefix: false) + "\n" })
        case "phys_device": return .file(.readOnly { _ in "0\n" })
        // CONFIG_MEMORY_HOTREMOVE=y: always 1, no heuristic.
        case "removable": return .file(.readOnly { _ in "1\n" })
        case "state":
            return .file(
                KernelFile(
                    mode: 0o644, show: { m in (m.blocks[id]?.state.name ?? "") + "\n" },
                    store: sysfsStore { m, buf, ctx in
                        let type = try mhpOnlineType(buf)
                        try m.storeState(block: id, type, deadline: ctx.deadline)
                    }, takesHotplugLock: true))
        // online_show: !dev->offline, which only changes when an online/offline completes.
        case "online":
            return .file(
                KernelFile(
                    mode: 0o644, show: { m in m.blocks[id]?.state == .offline ? "0\n" : "1\n" },
                    store: sysfsStore { m, buf, ctx in
                        let on = try kstrtobool(buf)
                        try m.storeOnline(block: id, on, deadline: ctx.deadline)
                    }, takesHotplugLock: true))
        case "valid_zones": return .file(.readOnly { m in (m.validZones(block: id) ?? "") + "\n" })
        case "uevent":
            return .file(
                KernelFile(
                    mode: 0o644, show: { _ in "" },
                    store: sysfsStore { m, buf, _ in
                        m.synthesizeUevent(try synthUeventAction(buf), block: id)
                    }))
        case "node\(node)": return .symlink("../../node/node\(node)")
        case "subsystem": return .symlink("../../../../bus/memory")
        default: return nil
        }
    }

    /// The block number of a `memoryN` name, N in decimal as the kernel writes it (no sign,
    /// no leading zero); nil for any other name. Read off the UTF-8 bytes: every path under
    /// a block is looked up through its directory's name.
    static func blockID(_ name: String) -> Int? {
        var name = name
        return name.withUTF8 { b -> Int? in
            let prefix = "memory".utf8
            guard b.count > prefix.count, b.count <= prefix.count + 18, b.starts(with: prefix) else { return nil }
            let digits = b[prefix.count...]
            if digits.first == UInt8(ascii: "0") && digits.count > 1 { return nil }
            var id = 0
            for c in digits {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                id = id * 10 + Int(c - UInt8(ascii: "0"))
            }
            return id
        }
    }

    public static func lookup(_ relative: ArraySlice<String>, machine m: Machine) -> KernelNode? {
        guard let first = relative.first else {
            return .directory(
                .listed { m in
                    var names = Array(rootFiles.keys) + m.blocks.keys.map { "memory\($0)" }
                    if m.hotplug.probeInterface { names.append("probe") }
                    return names
                })
        }
        if relative.count == 1 {
            if let f = rootFiles[first] { return .file(f) }
            if first == "probe" && m.hotplug.probeInterface { return .file(probeFile) }
        }
        guard let id = blockID(first), let mem = m.blocks[id]
        else { return nil }
        if relative.count == 1 { return .directory(.fixed(blockFileNames + ["node\(mem.node)"])) }
        guard relative.count == 2 else { return nil }
        return blockFile(relative[relative.startIndex + 1], id, node: mem.node)
    }

    /// `kobject_action_type` + the UUID check of `kobject_synth_uevent`: an action name,
    /// optionally followed by a space and `UUID [KEY=VALUE ...]`; one trailing newline or NUL.
    static func synthUeventAction(_ buf: [UInt8]) throws -> Uevent.Action {
        var b = buf
        if let last = b.last, last == 0x0A || last == 0 { b.removeLast() }
        guard !b.isEmpty else { throw KernelError(.invalidArgument, "empty uevent action") }
        let space = b.firstIndex(of: 0x20)
        let name = String(decoding: b[..<(space ?? b.endIndex)], as: UTF8.self)
        guard let action = Uevent.Action(rawValue: name) else {
            throw KernelError(.invalidArgument, "unknown uevent action")
        }
        if let s = space {
            let args = String(decoding: b[(s + 1)...], as: UTF8.self).split(
                separator: " ", omittingEmptySubsequences: false)
            guard let uuid = args.first, isUUID(uuid),
                args.dropFirst().allSatisfy({ $0.contains("=") && !$0.hasPrefix("=") })
            else {
                throw KernelError(.invalidArgument, "bad synthetic uevent arguments")
            }
        }
        return action
    }

    static func isUUID<S: StringProtocol>(_ s: S) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                if c != UInt8(ascii: "-") { return false }
            } else if !((c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66)) {
                return false
            }
        }
        return true
    }
}
