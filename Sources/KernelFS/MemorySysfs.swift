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
            mode: 0o644, show: { _ in "" }, store: sysfsStore { m, buf, _ in try storeUevent(m, buf, block: nil) })
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
                    store: sysfsStore { m, buf, _ in try storeUevent(m, buf, block: id) }))
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

    /// `kobject_synth_uevent`'s parse (lib/kobject_uevent.c): `kobject_action_type` drops one
    /// trailing newline or NUL, then the action is the bytes before the first space (at most
    /// up to a NUL), exactly one of the eight names; with a space, `kobject_action_args` takes
    /// the rest (of the whole write, less one trailing newline or NUL): a UUID, then
    /// ` KEY=VALUE` pairs whose KEY and VALUE are one or more `isalnum` bytes (the Latin-1
    /// ctype table). Anything else is EINVAL, with the kernel's reason.
    static func synthUeventAction(_ buf: [UInt8]) throws -> Uevent.Action {
        var count = buf.count
        if count > 0 && (buf[count - 1] == 0x0A || buf[count - 1] == 0) { count -= 1 }
        guard count > 0 else { throw SynthUeventError.unknownAction }
        // strnchr: the first space before a NUL within `count`.
        var space: Int?
        for i in 0..<count {
            if buf[i] == 0 { break }
            if buf[i] == 0x20 { space = i; break }
        }
        let name = buf[0..<(space ?? count)]
        guard !name.contains(0), let action = Uevent.Action(rawValue: String(decoding: name, as: UTF8.self)) else {
            throw SynthUeventError.unknownAction
        }
        if let s = space { try synthUeventArguments(Array(buf[(s + 1)...])) }
        return action
    }

    /// `kobject_action_args` on what follows the action's space.
    static func synthUeventArguments(_ args: [UInt8]) throws {
        var count = args.count
        if count > 0 && (args[count - 1] == 0x0A || args[count - 1] == 0) { count -= 1 }
        let uuidLength = 36
        guard count >= uuidLength, isUUID(String(decoding: args[0..<uuidLength], as: UTF8.self)) else {
            throw SynthUeventError.badArguments
        }
        let end = count - 1  // buf_end
        // action_arg_word_end: isalnum bytes up to `delim` (or past the end); none is NULL.
        func wordEnd(_ from: Int, _ delim: UInt8) -> Int? {
            var next = from
            while next <= end && args[next] != delim {
                if !kernelIsAlnum(args[next]) { return nil }
                next += 1
            }
            return next == from ? nil : next
        }
        var next = uuidLength
        while next <= end {
            guard args[next] == 0x20 else { throw SynthUeventError.badArguments }
            next += 1
            guard next <= end, let eq = wordEnd(next, UInt8(ascii: "=")), eq <= end else {
                throw SynthUeventError.badArguments
            }
            guard eq + 1 <= end, let valueEnd = wordEnd(eq + 1, 0x20) else { throw SynthUeventError.badArguments }
            next = valueEnd
        }
    }

    /// The kernel's `isalnum` (lib/ctype.c is a Latin-1 table: 0xC0-0xFF are letters but
    /// for 0xD7 and 0xF7).
    static func kernelIsAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || (c >= 0xC0 && c != 0xD7 && c != 0xF7)
    }

    /// `uevent_store`: a refused synthetic uevent logs kobject_synth_uevent's pr_warn and the
    /// store's dev_err, then returns the errno (EINVAL).
    static func storeUevent(_ m: Machine, _ buf: [UInt8], block: Int?) throws {
        do {
            let action = try synthUeventAction(buf)
            if let block { m.synthesizeUevent(action, block: block) }
        } catch let e as SynthUeventError {
            m.synthUeventRefused(block: block, reason: e.rawValue, errno: 22)
            throw KernelError(.invalidArgument, e.rawValue)
        }
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

/// Why `kobject_synth_uevent` refused a write (its pr_warn text).
enum SynthUeventError: String, Error {
    case unknownAction = "unknown uevent action string"
    case badArguments = "incorrect uevent action arguments"
}
