import MemoryModel

// Seeded mutations of a valid input file, for the malformed-input tests: every run of a test
// makes the same mutants (MemoryModel's SplitMix64 with a fixed seed; nothing here reads a
// clock or the system's random numbers).

/// One mutant: what was done (for failure messages) and the bytes.
public struct Mutant: Sendable {
    public var what: String
    public var bytes: [UInt8]
    public init(what: String, bytes: [UInt8]) { self.what = what; self.bytes = bytes }
}

public enum InputMutation {
    /// Numbers a field should never take as they are: beyond 64 bits, negative, hex where
    /// decimal is expected, at the limits, a huge size.
    public static let numbers = [
        "99999999999999999999", "-1", "0x7fffffffffffffff", "0", "18446744073709551616", "9223372036854775807",
        "-9223372036854775808", "16E", "4P", "1e308", "4096"
    ]

    /// `count` mutants of `valid`, the kinds taken in turn (truncation at any byte, at a line
    /// end, before the last newline; a bit flipped, a byte replaced; a line dropped,
    /// duplicated, swapped with another, emptied; a number replaced; invalid UTF-8 and a NUL
    /// inserted), positions drawn from `seed`. The first mutant is always the empty file.
    public static func mutants(of valid: [UInt8], count: Int, seed: UInt64) -> [Mutant] {
        var rng = SplitMix64(seed: seed)
        var out = [Mutant(what: "empty file", bytes: [])]
        let nl = UInt8(ascii: "\n")
        func lines(_ b: [UInt8]) -> [ArraySlice<UInt8>] {
            var ls = b.split(separator: nl, omittingEmptySubsequences: false)
            if ls.last?.isEmpty == true { ls.removeLast() }
            return ls
        }
        func joined(_ ls: [ArraySlice<UInt8>]) -> [UInt8] {
            var r: [UInt8] = []
            for l in ls { r += l; r.append(nl) }
            return r
        }
        guard !valid.isEmpty else { return out }
        let ls = lines(valid)
        let digitRuns: [Range<Int>] = {
            var runs: [Range<Int>] = []
            var i = 0
            while i < valid.count {
                if (0x30...0x39).contains(valid[i]) {
                    var j = i
                    while j < valid.count, (0x30...0x39).contains(valid[j]) { j += 1 }
                    runs.append(i..<j)
                    i = j
                } else {
                    i += 1
                }
            }
            return runs
        }()
        var kind = 0
        while out.count < count {
            defer { kind = (kind + 1) % 12 }
            var b = valid
            let what: String
            switch kind {
            case 0:
                let at = rng.below(b.count)
                b.removeSubrange(at...)
                what = "truncated at byte \(at)"
            case 1:
                let k = rng.below(ls.count)
                b = joined(Array(ls[..<k]))
                what = "truncated after line \(k)"
            case 2:
                let k = 1 + rng.below(ls.count)
                b = joined(Array(ls[..<k]))
                b.removeLast()
                what = "line \(k) without its newline, the rest cut"
            case 3:
                let at = rng.below(b.count), bit = rng.below(8)
                b[at] ^= UInt8(1 << bit)
                what = "bit \(bit) of byte \(at) flipped"
            case 4:
                let at = rng.below(b.count), v = UInt8(truncatingIfNeeded: rng.next())
                b[at] = v
                what = "byte \(at) set to \(v)"
            case 5:
                var l = ls
                let k = rng.below(l.count)
                l.remove(at: k)
                b = joined(l)
                what = "line \(k + 1) dropped"
            case 6:
                var l = ls
                let k = rng.below(l.count)
                l.insert(l[k], at: k)
                b = joined(l)
                what = "line \(k + 1) duplicated"
            case 7:
                var l = ls
                let i = rng.below(l.count), j = rng.below(l.count)
                l.swapAt(i, j)
                b = joined(l)
                what = "lines \(i + 1) and \(j + 1) swapped"
            case 8:
                var l = ls
                let k = rng.below(l.count)
                l[k] = []
                b = joined(l)
                what = "line \(k + 1) emptied"
            case 9, 10:
                guard !digitRuns.isEmpty else { continue }
                let r = digitRuns[rng.below(digitRuns.count)]
                let n = numbers[rng.below(numbers.count)]
                b.replaceSubrange(r, with: Array(n.utf8))
                what = "number at byte \(r.lowerBound) replaced by \(n)"
            default:
                let at = rng.below(b.count + 1)
                let junk: [[UInt8]] = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x00], [0xF4, 0x90, 0x80, 0x80]]
                let j = junk[rng.below(junk.count)]
                b.insert(contentsOf: j, at: at)
                what = "bytes \(j) inserted at byte \(at)"
            }
            if b != valid { out.append(Mutant(what: what, bytes: b)) }
        }
        return out
    }
}
