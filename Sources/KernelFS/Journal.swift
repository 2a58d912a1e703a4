import MemoryModel

/// One operation that changed (or may have changed) the machine through `KernelFS`: every
/// write that reached an attribute's store — refused ones too, since a refused write can
/// have effects in 6.1 (`state` sets `online_type` before it returns EINVAL on an online
/// block; a failed offline has drained the pcp lists) — every read of an attribute whose
/// show changes state (`lowmem_reserve_ratio`), and the events a driver of the model
/// performs directly (`KernelFS.perform`). Replaying the entries on the same booted machine
/// gives the same machine: the model is deterministic, and each entry carries what a
/// real-time writer contributed (how many offline retry passes it waited, whether its signal
/// ended them, which writes ran at which preemption point of a hotplug operation), and
/// root's chmod/chown of a served file (`attr`).
public struct JournalEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case write, read, event, attr }
    public var kind: Kind
    /// The path, or for an event its text.
    public var path: String
    public var bytes: [UInt8] = []
    /// The file position of a write.
    public var position: Int64 = 0
    /// What the write returned: a byte count (≥ 0) or minus the Linux errno.
    public var result: Int = 0
    /// The hotplug operation this write was (its serial), when it took device_hotplug_lock.
    public var hotplugSerial: Int?
    /// How many times the offline retry loop waited for this writer's signal, and whether
    /// the last wait saw it (the offline then ends with EINTR).
    public var waits = 0
    public var interrupted = false
    /// The writer waited in real time (a process over FUSE, `signalPending` set): its offline
    /// spun until a signal. Without one the model skipped virtual time to the deadline, and a
    /// replay must do the same (`rt=1` in the text form; older files imply it from waits/intr).
    public var realTimeWaiter = false
    /// Ran while hotplug operation `serial` was at its `yield`-th preemption point.
    public var during: (serial: Int, yield: Int)? {
        get { duringSerial.map { ($0, duringYield) } }
        set { duringSerial = newValue?.serial; duringYield = newValue?.yield ?? 0 }
    }
    var duringSerial: Int?
    var duringYield = 0
    /// What an `attr` entry set.
    public var attributes = AttributeOverride()

    public init(kind: Kind, path: String, bytes: [UInt8] = [], position: Int64 = 0, result: Int = 0) {
        self.kind = kind; self.path = path; self.bytes = bytes; self.position = position; self.result = result
    }

    /// root's chmod/chown of `path`.
    public init(attributes: AttributeOverride, path: String) {
        self.init(kind: .attr, path: path)
        self.attributes = attributes
    }

    /// The outcome as `write(2)` gave it.
    public var resultText: String {
        result >= 0 ? "\(result)" : LinuxErrno(rawValue: Int32(truncatingIfNeeded: -result)).symbol
    }
}

// MARK: - Text form (`memhp --state` files)

extension JournalEntry {
    /// One line: `write PATH HEX k=v...`, `read PATH k=v...`, `event HEX k=v...` or
    /// `attr PATH k=v...`; keys `pos`, `ret` (count or -errno), `op` (hotplug serial), `waits`,
    /// `intr`, `during` (S.Y), and for attr `mode` (octal), `uid`, `gid`.
    /// Paths have no spaces (the tree has none); bytes are lower-case hex (`-` for none).
    public var line: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + path.utf8.count + 2 * bytes.count)
        out += kind.rawValue.utf8
        out.append(0x20)
        if kind == .event { appendHex(Array(path.utf8), to: &out) } else { out += path.utf8 }
        // No bytes: `-`, so the field is never empty.
        if kind == .write {
            out.append(0x20); if bytes.isEmpty { out.append(UInt8(ascii: "-")) } else { appendHex(bytes, to: &out) }
        }
        func kv(_ k: String, _ v: String) {
            out.append(0x20); out += k.utf8; out.append(UInt8(ascii: "=")); out += v.utf8
        }
        if position != 0 { kv("pos", "\(position)") }
        if kind == .write { kv("ret", "\(result)") }
        if let s = hotplugSerial { kv("op", "\(s)") }
        if waits != 0 { kv("waits", "\(waits)") }
        if interrupted { kv("intr", "1") }
        if realTimeWaiter { kv("rt", "1") }
        if let s = duringSerial { kv("during", "\(s).\(duringYield)") }
        if let m = attributes.mode { kv("mode", String(m, radix: 8)) }
        if let u = attributes.uid { kv("uid", "\(u)") }
        if let g = attributes.gid { kv("gid", "\(g)") }
        return out
    }

    /// Parses `line`; nil when it is not an entry (the caller reports FILE:LINE).
    public init?(line: ArraySlice<UInt8>) {
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: true)
        guard fields.count >= 2, let kind = Kind(rawValue: String(decoding: fields[0], as: UTF8.self)) else {
            return nil
        }
        self.kind = kind
        var rest = fields.dropFirst(2)
        if kind == .event {
            guard let text = hexDecode(fields[1]) else { return nil }
            path = String(decoding: text, as: UTF8.self)
        } else {
            path = String(decoding: fields[1], as: UTF8.self)
        }
        if kind == .write {
            guard let hex = rest.first, let b = hex.elementsEqual("-".utf8) ? [] : hexDecode(hex) else { return nil }
            bytes = b
            rest = rest.dropFirst()
        }
        for f in rest {
            guard let eq = f.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let k = String(decoding: f[f.startIndex..<eq], as: UTF8.self)
            let v = String(decoding: f[(eq + 1)...], as: UTF8.self)
            switch k {
            case "pos": guard let n = Int64(v) else { return nil }; position = n
            case "ret": guard let n = Int(v) else { return nil }; result = n
            case "op": guard let n = Int(v) else { return nil }; hotplugSerial = n
            case "waits": guard let n = Int(v), n >= 0 else { return nil }; waits = n
            case "intr": interrupted = v == "1"
            case "rt": realTimeWaiter = v == "1"
            case "during":
                let p = v.split(separator: ".")
                guard p.count == 2, let s = Int(p[0]), let y = Int(p[1]) else { return nil }
                during = (s, y)
            case "mode" where kind == .attr:
                guard let n = UInt16(v, radix: 8), n <= 0o7777 else { return nil }
                attributes.mode = n
            case "uid" where kind == .attr: guard let n = UInt32(v) else { return nil }; attributes.uid = n
            case "gid" where kind == .attr: guard let n = UInt32(v) else { return nil }; attributes.gid = n
            default: return nil
            }
        }
    }

    public static func == (a: JournalEntry, b: JournalEntry) -> Bool {
        a.kind == b.kind && a.path == b.path && a.bytes == b.bytes && a.position == b.position && a.result == b.result
            && a.hotplugSerial == b.hotplugSerial && a.waits == b.waits && a.interrupted == b.interrupted
            && a.realTimeWaiter == b.realTimeWaiter
            && a.duringSerial == b.duringSerial && a.duringYield == b.duringYield && a.attributes == b.attributes
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
    for b in bytes { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 15)]) }
}

/// Lower- or upper-case hex to bytes; nil on an odd length or a non-hex character.
public func hexDecode<C: Collection>(_ s: C) -> [UInt8]? where C.Element == UInt8 {
    guard s.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(s.count / 2)
    var it = s.makeIterator()
    while let hi = it.next(), let lo = it.next() {
        guard let h = nibble(hi), let l = nibble(lo) else { return nil }
        out.append(h << 4 | l)
    }
    return out
}

/// Why a journal could not be replayed: which entry (0-based) and what differed.
public struct ReplayError: Error, CustomStringConvertible {
    public var index: Int
    public var message: String
    public var description: String { message }
    public init(index: Int, message: String) { self.index = index; self.message = message }
}
