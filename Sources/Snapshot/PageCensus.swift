/// Every pfn's CensusKind from pfn 0 to `endPFN`, run-length encoded: a run is a kind and a
/// page count. A 24 GiB host has a few ten thousand runs; the encoding is a kind byte and a
/// LEB128 length per run.
public struct PageCensus: Sendable, Equatable {
    /// First pfn of each run, ascending, starting at 0.
    public private(set) var starts: [Int] = []
    public private(set) var kinds: [CensusKind] = []
    public private(set) var endPFN: Int = 0

    public init() {}

    public var runCount: Int { kinds.count }

    /// Extend by `count` pages of `kind` (merged into the last run when it is the same kind).
    public mutating func append(_ kind: CensusKind, count: Int) {
        guard count > 0 else { return }
        if kinds.last != kind { starts.append(endPFN); kinds.append(kind) }
        endPFN += count
    }

    /// The run holding `pfn` (binary search), or nil beyond the end.
    public func runIndex(_ pfn: Int) -> Int? {
        guard pfn >= 0, pfn < endPFN, !starts.isEmpty else { return nil }
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= pfn { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    public func runEnd(_ i: Int) -> Int { i + 1 < starts.count ? starts[i + 1] : endPFN }

    public func kind(_ pfn: Int) -> CensusKind { runIndex(pfn).map { kinds[$0] } ?? .noPage }

    /// Calls `body(start, end, kind)` for each run piece inside [start, end).
    public func forEachRun(_ start: Int, _ end: Int, _ body: (Int, Int, CensusKind) -> Void) {
        guard start < end, var i = runIndex(start) else { return }
        var p = start
        while p < end && i < starts.count {
            let e = Swift.min(runEnd(i), end)
            body(p, e, kinds[i])
            p = e
            i += 1
        }
        if p < end { body(p, end, .noPage) }
    }

    /// Pages of each kind in [start, end).
    public func counts(_ start: Int, _ end: Int) -> [CensusKind: Int] {
        var c: [CensusKind: Int] = [:]
        forEachRun(start, end) { s, e, k in c[k, default: 0] += e - s }
        return c
    }

    /// The free buddy blocks of a free run, as the buddy allocator must hold them: buddies
    /// always merge (__free_one_page) up to MAX_ORDER - 1 (10 on x86_64), so a maximal run
    /// of KPF_BUDDY pages splits into the largest aligned power-of-two blocks that fit.
    public static func buddyBlocks(_ start: Int, _ end: Int, maxOrder: Int = 10) -> [(pfn: Int, order: Int)] {
        var out: [(Int, Int)] = []
        var p = start
        while p < end {
            var o = maxOrder
            while o > 0 && (p & ((1 << o) - 1) != 0 || p + (1 << o) > end) { o -= 1 }
            out.append((p, o))
            p += 1 << o
        }
        return out
    }

    // MARK: Encoding

    /// Kind byte + LEB128 run length, run after run.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(kinds.count * 3)
        for i in 0..<kinds.count {
            out.append(kinds[i].rawValue)
            var n = UInt64(runEnd(i) - starts[i])
            while n >= 0x80 { out.append(UInt8(n & 0x7f) | 0x80); n >>= 7 }
            out.append(UInt8(n))
        }
        return out
    }

    public enum DecodeError: Error, Equatable {
        case unknownKind(offset: Int, value: UInt8)
        case truncated(offset: Int)
        case badLength(offset: Int)
    }

    public static func decode<C: Collection>(_ bytes: C) throws -> PageCensus where C.Element == UInt8, C.Index == Int {
        var c = PageCensus()
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let at = i - bytes.startIndex
            guard let k = CensusKind(rawValue: bytes[i]) else {
                throw DecodeError.unknownKind(offset: at, value: bytes[i])
            }
            i += 1
            var n: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.endIndex else { throw DecodeError.truncated(offset: i - bytes.startIndex) }
                let b = bytes[i]; i += 1
                guard shift < 56 else { throw DecodeError.badLength(offset: at) }
                n |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            guard n > 0, n < 1 << 40 else { throw DecodeError.badLength(offset: at) }
            // Runs of one kind are merged when written; two in a row means a foreign writer.
            c.starts.append(c.endPFN); c.kinds.append(k); c.endPFN += Int(n)
        }
        return c
    }
}

extension PageCensus {
    /// The census with `pieces` (sorted, non-overlapping, inside [0, endPFN)) set to their
    /// kinds, in one pass over the runs.
    public func overlaid(_ pieces: [(range: Range<Int>, kind: CensusKind)]) -> PageCensus {
        var out = PageCensus()
        var p = 0
        for piece in pieces where piece.range.lowerBound >= p && piece.range.upperBound <= endPFN {
            forEachRun(p, piece.range.lowerBound) { a, b, k in out.append(k, count: b - a) }
            out.append(piece.kind, count: piece.range.count)
            p = piece.range.upperBound
        }
        forEachRun(p, endPFN) { a, b, k in out.append(k, count: b - a) }
        return out
    }
}

extension PageCensus {
    /// Whether KPF_BUDDY marks only the head of each free block. 6.1's stable_page_flags()
    /// also marks every tail (is_free_buddy_page), so its free runs are whole blocks; later
    /// kernels (this project's 6.18 host) mark heads only and the tails read as no flags.
    /// Heads-only shows as free runs that are nearly all one page long.
    public var buddyHeadsOnly: Bool {
        var free = 0, single = 0
        for i in 0..<kinds.count where kinds[i] == .free {
            free += 1
            if runEnd(i) - starts[i] == 1 { single += 1 }
        }
        return free >= 16 && single * 10 >= free * 9
    }

    /// For a heads-only kernel: the flagless pages after each free head, up to the largest
    /// buddy block the head's alignment and the flagless run allow (at most MAX_ORDER-1), are
    /// that block's tails. A block cannot be larger than its head's alignment, and its tails
    /// have no flags; an allocated page in the way ends it.
    public func inferringBuddyTails(maxOrder: Int = 10) -> PageCensus {
        var pieces: [(range: Range<Int>, kind: CensusKind)] = []
        for i in 0..<kinds.count where kinds[i] == .free && i + 1 < kinds.count && kinds[i + 1] == .flagless {
            let head = runEnd(i) - 1
            let room = runEnd(i + 1) - runEnd(i)
            var size = 1
            while size < 1 << maxOrder && head & (size * 2 - 1) == 0 && size * 2 <= room + 1 { size *= 2 }
            if size > 1 { pieces.append(((head + 1)..<(head + size), .free)) }
        }
        return pieces.isEmpty ? self : overlaid(pieces)
    }
}
