/// QEMU 7.2's size parser, `do_strtosz()` in util/cutils.c (the 6.0 rewrite with 64.64 fixed
/// point), and the legacy "bare number is MiB" rule of `-m` and `-numa node,mem=`
/// (softmmu/vl.c `parse_memory_options`, hw/core/numa.c `parse_numa`). Every option the
/// model takes in QEMU's name (`--mem`, `--maxmem`, `--dimm`, `--nodes`, a scenario's `mem:`,
/// `dimm:`, `virtio-mem: size=`...) parses its size here, so it means what QEMU would make of
/// it. The kernel's own sizes (command line, files) go through `memparse` in KernelText.
///
/// What QEMU 7.2 accepts: optional leading white space and `+`; decimal digits; an optional
/// fraction (`1.5G`, even `1.k`) but no exponent; hexadecimal `0x...` without a fraction; one
/// suffix `B K M G T P E` (either case, powers of 1024). A fraction needs a unit of at least
/// KiB; the result is rounded to the nearest byte (half up); it must be below 2^64.
public enum QEMUSize {
    /// Why QEMU refuses a size.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// Not a size at all (QEMU: "Parameter 'size' expects a non-negative number below 2^64").
        case invalid
        /// A leading minus sign (QEMU 7.2 reports it as invalid).
        case negative
        /// A fraction of a byte: `1.5` where the unit is bytes, `1.5B`.
        case fractionOfByte
        /// 2^64 or more (QEMU: "Value '...' is out of range for parameter 'size'").
        case outOfRange

        public var description: String {
            switch self {
            case .invalid: "not a size: QEMU takes a number with an optional B, K, M, G, T, P or E suffix (powers of 1024), e.g. 512M, 1.5G, 0x40000000"
            case .negative: "a size cannot be negative"
            case .fractionOfByte: "a fraction needs a unit (K, M, G, ...): QEMU does not split bytes"
            case .outOfRange: "too large: QEMU takes sizes below 2^64 bytes"
            }
        }
    }

    /// `qemu_strtosz()`: a bare number is bytes. `qemu_strtosz_MiB()` is `defaultShift: 20`.
    public static func strtosz(_ text: String, defaultShift: Int = 0) throws(Failure) -> UInt64 {
        let s = Array(text.utf8)
        func at(_ i: Int) -> UInt8 { i < s.count ? s[i] : 0 }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func hexValue(_ c: UInt8) -> UInt64? {
            switch c {
            case 0x30...0x39: UInt64(c - 0x30)
            case 0x41...0x46: UInt64(c - 0x41 + 10)
            case 0x61...0x66: UInt64(c - 0x61 + 10)
            default: nil
            }
        }
        // strtoull(base 10): white space, one sign, digits; no digits is "no conversion".
        var i = 0
        while (9...13).contains(at(i)) || at(i) == 0x20 { i += 1 }
        var negative = false
        if at(i) == UInt8(ascii: "+") || at(i) == UInt8(ascii: "-") { negative = at(i) == UInt8(ascii: "-"); i += 1 }
        let digits = i
        var val: UInt64 = 0, overflow = false
        while isDigit(at(i)) {
            let (m, o1) = val.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(at(i) - 0x30))
            overflow = overflow || o1 || o2
            val = a
            i += 1
        }
        guard i > digits else { throw .invalid }
        guard !overflow else { throw .outOfRange }
        guard !negative else { throw .negative }

        var valf: UInt64 = 0      // the fraction, 64-bit fixed point
        if val == 0 && (at(i) | 0x20) == UInt8(ascii: "x") {
            // Looks like hex: reparse from the first digit (strtoull base 16 skips `0x` when a
            // hex digit follows), and insist on no fraction.
            i = digits
            if at(i) == UInt8(ascii: "0"), (at(i + 1) | 0x20) == UInt8(ascii: "x"), hexValue(at(i + 2)) != nil { i += 2 }
            val = 0
            while let d = hexValue(at(i)) {
                let (m, o) = val.multipliedReportingOverflow(by: 16)
                guard !o else { throw .outOfRange }
                val = m | d
                i += 1
            }
            guard at(i) != UInt8(ascii: ".") else { throw .invalid }
        } else if at(i) == UInt8(ascii: ".") {
            // strtod on the fraction; `1.k` works (no digits: skip the dot); an exponent makes
            // the whole input invalid.
            var j = i + 1
            while isDigit(at(j)) { j += 1 }
            if j == i + 1 {
                i += 1
            } else {
                let e = at(j) | 0x20, e1 = at(j + 1)
                if e == UInt8(ascii: "e") && (isDigit(e1) || ((e1 == UInt8(ascii: "+") || e1 == UInt8(ascii: "-")) && isDigit(at(j + 2)))) {
                    throw .invalid
                }
                let fraction = Double(String(decoding: s[i..<j], as: UTF8.self)) ?? 0    // ".5"
                let scaled = fraction * 0x1p64
                valf = scaled >= 0x1p64 ? UInt64.max : UInt64(scaled)
                i = j
            }
        }
        var shift = defaultShift
        switch at(i) | 0x20 {
        case UInt8(ascii: "b"): shift = 0; i += 1
        case UInt8(ascii: "k"): shift = 10; i += 1
        case UInt8(ascii: "m"): shift = 20; i += 1
        case UInt8(ascii: "g"): shift = 30; i += 1
        case UInt8(ascii: "t"): shift = 40; i += 1
        case UInt8(ascii: "p"): shift = 50; i += 1
        case UInt8(ascii: "e"): shift = 60; i += 1
        default: break
        }
        guard i == s.count else { throw .invalid }       // trailing garbage
        if shift == 0 {
            guard valf == 0 else { throw .fractionOfByte }
            return val
        }
        // 64.64 × 64.0 → 128.64, the fraction rounded half up.
        let mul: UInt64 = 1 << UInt64(shift)
        var (hi, lo) = val.multipliedFullWidth(by: mul)
        let (fhi, flo) = valf.multipliedFullWidth(by: mul)
        var carry: Bool
        (lo, carry) = lo.addingReportingOverflow(fhi)
        if carry { hi &+= 1 }
        (lo, carry) = lo.addingReportingOverflow(flo >> 63)
        if carry { hi &+= 1 }
        guard hi == 0 else { throw .outOfRange }
        return lo
    }

    /// `-m SIZE` and `-numa node,mem=SIZE`: QEMU first checks the text as a size in bytes
    /// (so `1.5` is refused), then a text ending in a digit gets an `M` appended: a bare
    /// number is MiB (`-m 1536`), a suffixed one means its suffix (`-m 1.5G`, `-m 4096B`).
    public static func legacyMiB(_ text: String) throws(Failure) -> UInt64 {
        let bytes = try strtosz(text)
        guard let last = text.utf8.last, last >= 0x30 && last <= 0x39 else { return bytes }
        return try strtosz(text + "M")
    }
}
