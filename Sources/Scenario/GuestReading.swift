import MemoryModel

/// How the guest program reads the kernel's files, in Swift: the model runner's half of
/// memhp-guest.c, rule for rule (each function names its C counterpart), so that the same file
/// text gives the same observation on either side. What is read (keys, paths, classes) is
/// `ObservationSchema`'s; only the C library's parsing rules are restated here.
enum GuestReading {
    /// `strtol(s, NULL, radix)`: leading blanks, an optional sign, the longest run of digits
    /// (after `0x` for radix 16); 0 when none, clamped on overflow.
    static func strtol(_ s: String, radix: Int) -> Int {
        var it = Substring(s).drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" })
        var neg = false
        if let f = it.first, f == "-" || f == "+" { neg = f == "-"; it = it.dropFirst() }
        if radix == 16, it.hasPrefix("0x") || it.hasPrefix("0X") { it = it.dropFirst(2) }
        var v = 0
        for c in it {
            guard let d = c.hexDigitValue, d < radix else { break }
            let (m, o1) = v.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return neg ? Int.min : Int.max }
            v = a
        }
        return neg ? -v : v
    }

    /// `meminfo_get` (`key: value` lines) and `dump_vmstat` (`key value` lines): the leading
    /// integer of each key's first line.
    static func keyed(_ text: String, separator: Character) -> [String: Int] {
        var d: [String: Int] = [:]
        for l in text.split(separator: "\n") {
            guard let sep = l.firstIndex(of: separator) else { continue }
            let k = String(l[..<sep])
            if d[k] == nil { d[k] = strtol(String(l[l.index(after: sep)...]), radix: 10) }
        }
        return d
    }

    /// One zone of /proc/zoneinfo, as `struct zinfo` holds it.
    struct ZoneInfo {
        var node: Int
        var name: String
        var free = 0, pcp = 0, min = 0, low = 0, high = 0, spanned = 0, present = 0, managed = 0
        var prot: [Int] = []
        var startPFN = -1
    }

    /// `parse_zoneinfo`: /proc/zoneinfo: watermarks and sizes between
    /// `pages free` and `protection:`, `count:` summed over the per-cpu pagesets.
    static func zoneinfo(_ t: String) -> [ZoneInfo] {
        // Byte-level: fill-kernel reads this file after every chunk, and most of its lines are
        // per-zone vmstat counters that are skipped by their first letter alone.
        let b = Array(t.utf8)
        var zones: [ZoneInfo] = []
        var inWM = false
        var i = 0
        let n = b.count
        func has(_ s: StaticString, at p: Int) -> Bool {
            let c = s.utf8CodeUnitCount
            guard p + c <= n else { return false }
            return s.withUTF8Buffer { u in
                for k in 0..<c where b[p + k] != u[k] { return false }
                return true
            }
        }
        func number(from p: Int) -> (Int, Int)? {
            var q = p
            while q < n, b[q] == 32 { q += 1 }
            var neg = false
            if q < n, b[q] == 45 { neg = true; q += 1 }
            let s = q
            var v = 0
            while q < n, b[q] >= 48, b[q] <= 57 { v = v * 10 + Int(b[q] - 48); q += 1 }
            return q > s ? (neg ? -v : v, q) : nil
        }
        while i < n {
            var e = i
            while e < n, b[e] != 10 { e += 1 }
            defer { i = e + 1 }
            if has("Node ", at: i), let (node, p) = number(from: i + 5), has(", zone ", at: p) {
                var q = p + 7
                while q < e, b[q] == 32 { q += 1 }
                zones.append(ZoneInfo(node: node, name: String(decoding: b[q..<e], as: UTF8.self)))
                inWM = false
                continue
            }
            guard !zones.isEmpty else { continue }
            var p = i
            while p < e, b[p] == 32 { p += 1 }
            let z = zones.count - 1
            if has("pages free", at: p), let (v, _) = number(from: p + 10) { zones[z].free = v; inWM = true; continue }
            if has("protection: (", at: p) {
                var q = p + 13
                var prot: [Int] = []
                while prot.count < 5, let (v, r) = number(from: q) {
                    prot.append(v); q = r
                    while q < e, b[q] == 44 || b[q] == 32 { q += 1 }
                }
                zones[z].prot = prot
                inWM = false
                continue
            }
            if has("count:", at: p), let (v, _) = number(from: p + 6) { zones[z].pcp += v; continue }
            if has("start_pfn:", at: p), let (v, _) = number(from: p + 10) { zones[z].startPFN = v; continue }
            guard inWM else { continue }
            for (key, path) in [
                ("min", \ZoneInfo.min), ("low", \.low), ("high", \.high), ("spanned", \.spanned),
                ("present", \.present), ("managed", \.managed)
            ] as [(StaticString, WritableKeyPath<ZoneInfo, Int>)] {
                let c = key.utf8CodeUnitCount
                if has(key, at: p), p + c < e, b[p + c] == 32, let (v, _) = number(from: p + c) {
                    zones[z][keyPath: path] = v
                    break
                }
            }
        }
        return zones
    }

    /// `dump_buddyinfo`: `Node N, zone NAME  c0 c1 ...` lines as (node, zone, counts).
    static func buddyinfo(_ t: String) -> [(node: Int, zone: String, orders: [Int])] {
        var out: [(node: Int, zone: String, orders: [Int])] = []
        for l in t.split(separator: "\n") {
            let words = l.split(whereSeparator: { $0 == " " || $0 == "," })
            guard words.count >= 4, words[0] == "Node", let node = Int(words[1]), words[2] == "zone" else { continue }
            var orders: [Int] = []
            for w in words.dropFirst(4) { guard let v = Int(w) else { break }; orders.append(v) }
            out.append((node, String(words[3]), orders))
        }
        return out
    }

    /// `dump_pageflags`: each whole 8-byte word of /proc/kpageflags counted once, in the
    /// first `ObservationSchema.PageClass` it belongs to (bit numbers of kernel-page-flags.h);
    /// `lru` pages also count as `anon` or `file` (and `unevictable`, `mlocked`), huge heads
    /// also as `huge_heads`. Counts are indexed like `PageClass.allCases`.
    static func pageClasses(_ bytes: [UInt8]) -> (pages: Int, counts: [Int]) {
        typealias C = ObservationSchema.PageClass
        var c = [Int](repeating: 0, count: C.allCases.count)
        func count(_ k: C) { c[k.index] += 1 }
        let n = bytes.count / 8
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                func bit(_ k: Int) -> Bool { (v >> UInt64(k)) & 1 != 0 }
                if bit(KPF.nopage) { count(.nopage); continue }
                if bit(KPF.reserved) { count(.reserved); continue }
                if bit(KPF.offline) { count(.offline); continue }
                if bit(KPF.buddy) { count(.buddy); continue }
                if bit(KPF.huge) { count(.huge); if bit(KPF.compoundHead) { count(.hugeHeads) }; continue }
                if bit(KPF.thp) { count(.thp); continue }
                if bit(KPF.slab) { count(.slab); continue }
                if bit(KPF.pgtable) { count(.pgtable); continue }
                if bit(KPF.lru) || bit(KPF.unevictable) {
                    count(.lru)
                    count(bit(KPF.anon) ? .anon : .file)
                    if bit(KPF.unevictable) { count(.unevictable) }
                    if bit(KPF.mlocked) { count(.mlocked) }
                    continue
                }
                count(.other)
            }
        }
        return (n, c)
    }
}
