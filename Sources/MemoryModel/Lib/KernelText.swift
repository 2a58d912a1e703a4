import SystemPackage

// The number and boolean parsers of lib/kstrtox.c, lib/cmdline.c and kernel/params.c as Linux
// 6.1 has them, over `[UInt8]`: the one implementation both the kernel command line
// (KernelParameters) and the files' writes (KernelFS) use. Each returns what the kernel would
// store or throws a `KernelError` with the errno the kernel would return. They see a C
// string: everything before the first NUL byte (kernfs and the command line hand them one).

// MARK: - Character classes (lib/ctype.c, Latin-1 table)

/// The kernel's `isspace()`: HT, LF, VT, FF, CR, space and, because lib/ctype.c is a
/// Latin-1 table, 0xA0 (no-break space).
@inline(__always)
package func kernelIsSpace(_ c: UInt8) -> Bool {
    (c >= 9 && c <= 13) || c == 32 || c == 0xA0
}

@inline(__always)
package func kernelIsDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

@inline(__always)
package func kernelIsXDigit(_ c: UInt8) -> Bool {
    kernelIsDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

/// The bytes a C string function sees: everything before the first NUL.
@inline(__always)
package func cString(_ input: [UInt8]) -> ArraySlice<UInt8> {
    if let nul = input.firstIndex(of: 0) { return input[..<nul] }
    return input[...]
}

/// Byte `i` of a C string, or NUL past its end (as reading the terminator would give).
@inline(__always)
package func byte(_ s: ArraySlice<UInt8>, _ i: Int) -> UInt8 {
    let j = s.startIndex + i
    return j < s.endIndex ? s[j] : 0
}

package func einval(_ why: String) -> KernelError { KernelError(.invalidArgument, why) }
package func erange(_ why: String) -> KernelError { KernelError(.outOfRange, why) }

// MARK: - kstrtobool (lib/kstrtox.c, 6.1)

/// `kstrtobool` as 6.1 has it: only the first character decides (`y Y t T 1` true,
/// `n N f F 0` false), except `o`/`O` whose second character must be `n N` (on) or
/// `f F` (off). Everything after that is ignored, which is why `memoryN/online` takes
/// `"0x10"` as 0 and `"1 2"` as 1. Empty input (or a leading NUL) is EINVAL.
/// (7.2 adds `e E`/`d D`; 6.1 does not have them.)
public func kstrtobool(_ input: [UInt8]) throws -> Bool {
    let s = cString(input)
    switch byte(s, 0) {
    case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "1"):
        return true
    case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "0"):
        return false
    case UInt8(ascii: "o"), UInt8(ascii: "O"):
        switch byte(s, 1) {
        case UInt8(ascii: "n"), UInt8(ascii: "N"): return true
        case UInt8(ascii: "f"), UInt8(ascii: "F"): return false
        default: break
        }
    default: break
    }
    throw einval("kstrtobool: not a boolean")
}

// MARK: - Integer parsing core (lib/kstrtox.c)

/// `_parse_integer_fixup_radix`: base 0 picks 16 for `0x` followed by a hex digit, 8 for a
/// leading `0` (so `"0x"` alone is octal `0` followed by junk), else 10. With base 16
/// (given or picked) a `0x`/`0X` prefix is skipped, even with nothing after it.
/// Returns the base and how many prefix bytes to skip.
package func fixupRadix(_ s: ArraySlice<UInt8>, _ base: Int) -> (base: Int, skip: Int) {
    var base = base
    let x0 = byte(s, 0), x1 = byte(s, 1) | 0x20
    if base == 0 {
        if x0 == UInt8(ascii: "0") {
            base = (x1 == UInt8(ascii: "x") && kernelIsXDigit(byte(s, 2))) ? 16 : 8
        } else {
            base = 10
        }
    }
    if base == 16 && x0 == UInt8(ascii: "0") && x1 == UInt8(ascii: "x") { return (16, 2) }
    return (base, 0)
}

/// `_parse_integer_limit`: consume digits valid in `base` (hex letters in either case)
/// starting at `from`; the overflow flag sticks once set and the value wraps, as in C.
package func parseDigits(_ s: ArraySlice<UInt8>, from: Int, base: Int, maxChars: Int = Int.max)
    -> (value: UInt64, count: Int, overflow: Bool)
{
    var res: UInt64 = 0
    var count = 0
    var overflow = false
    var i = from
    while count < maxChars {
        let c = byte(s, i)
        let lc = c | 0x20
        let val: Int
        if c >= 0x30 && c <= 0x39 {
            val = Int(c - 0x30)
        } else if lc >= 0x61 && lc <= 0x66 {
            val = Int(lc - 0x61) + 10
        } else {
            break
        }
        if val >= base { break }
        let (m, o1) = res.multipliedReportingOverflow(by: UInt64(base))
        let (a, o2) = m.addingReportingOverflow(UInt64(val))
        if o1 || o2 { overflow = true }
        res = a
        count += 1
        i += 1
    }
    return (res, count, overflow)
}

private func checkBase(_ base: Int) {
    precondition(base == 0 || (2...16).contains(base), "kstrto*: base must be 0 or 2...16")
}

/// `_kstrtoull` on a C string with no sign handling.
/// Order matters and is the kernel's: overflow (ERANGE) is reported before trailing junk,
/// so `"99999999999999999999x"` is ERANGE, not EINVAL.
private func kstrtoullNoSign(_ s: ArraySlice<UInt8>, base: Int) throws -> UInt64 {
    let (b, skip) = fixupRadix(s, base)
    let r = parseDigits(s, from: skip, base: b)
    if r.overflow { throw erange("kstrto*: value overflows") }
    if r.count == 0 { throw einval("kstrto*: no digits") }
    var i = skip + r.count
    if byte(s, i) == 0x0A { i += 1 }
    if byte(s, i) != 0 { throw einval("kstrto*: trailing characters") }
    return r.value
}

/// `kstrtoull`: one optional `+`, then a number in `base` (0 = auto: `0x` hex, `0` octal,
/// else decimal), then at most one newline. No `-`, no spaces. EINVAL on malformed
/// input, ERANGE above 2^64-1. Used by `probe`, `soft_offline_page` (base 0).
public func kstrtoull(_ input: [UInt8], base: Int) throws -> UInt64 {
    checkBase(base)
    var s = cString(input)
    if byte(s, 0) == UInt8(ascii: "+") { s = s.dropFirst() }
    return try kstrtoullNoSign(s, base: base)
}

/// `kstrtoul`: `unsigned long` is 64-bit on x86_64, so this is `kstrtoull`. Used by the
/// sysfs hugetlb counters with base 10 (`010` is 10, `0x10` EINVAL, 2^64 ERANGE).
public func kstrtoul(_ input: [UInt8], base: Int) throws -> UInt64 {
    try kstrtoull(input, base: base)
}

/// `kstrtouint`: `kstrtoull` then ERANGE above 2^32-1. `auto_movable_ratio` uses base 0,
/// so `-1` is EINVAL (no sign allowed) while `4294967296` is ERANGE.
public func kstrtouint(_ input: [UInt8], base: Int) throws -> UInt32 {
    let v = try kstrtoull(input, base: base)
    guard let r = UInt32(exactly: v) else { throw erange("kstrtouint: above UINT_MAX") }
    return r
}

/// `kstrtoll`: one optional sign (`-` or `+`, not both), then as `kstrtoull`.
/// ERANGE outside [-2^63, 2^63-1].
public func kstrtoll(_ input: [UInt8], base: Int) throws -> Int64 {
    checkBase(base)
    let s = cString(input)
    if byte(s, 0) == UInt8(ascii: "-") {
        // The kernel calls the sign-less helper, so "-+5" is EINVAL.
        let tmp = try kstrtoullNoSign(s.dropFirst(), base: base)
        if tmp > UInt64(1) << 63 { throw erange("kstrtoll: below LLONG_MIN") }
        return Int64(truncatingIfNeeded: 0 &- tmp)
    }
    let tmp = try kstrtoull(input, base: base)
    guard let r = Int64(exactly: tmp) else { throw erange("kstrtoll: above LLONG_MAX") }
    return r
}

/// `kstrtol`: `long` is 64-bit on x86_64, so this is `kstrtoll`.
public func kstrtol(_ input: [UInt8], base: Int) throws -> Int64 {
    try kstrtoll(input, base: base)
}

/// `kstrtoint`: `kstrtoll` then ERANGE outside [-2^31, 2^31-1].
public func kstrtoint(_ input: [UInt8], base: Int) throws -> Int32 {
    let v = try kstrtoll(input, base: base)
    guard let r = Int32(exactly: v) else { throw erange("kstrtoint: outside int") }
    return r
}

// MARK: - Module parameters (kernel/params.c)

/// `param_set_bool`: a bare parameter on the command line (`memory_hotplug.memmap_on_memory`
/// with no `=`, passed as `nil`) means true; otherwise `kstrtobool`. An empty value
/// (`param=` or an empty sysfs write that reaches the setter) is EINVAL.
public func paramSetBool(_ input: [UInt8]?) throws -> Bool {
    guard let input else { return true }
    return try kstrtobool(input)
}

/// `param_set_uint`: `kstrtouint(val, 0)`, so `auto_movable_ratio` takes `0x10` as 16,
/// `010` as 8, refuses `-1` and `abc` (EINVAL) and 2^32 (ERANGE).
public func paramSetUint(_ input: [UInt8]) throws -> UInt32 {
    try kstrtouint(input, base: 0)
}

// MARK: - memparse (lib/cmdline.c)

/// What `memparse` returns: the value and how many bytes it consumed (the kernel's
/// `retptr`), so a caller such as `kernelcore=` can look at what follows (`%`).
public struct MemparseResult: Equatable, Sendable {
    public var value: UInt64
    public var consumed: Int
    public init(value: UInt64, consumed: Int) { self.value = value; self.consumed = consumed }
}

/// `memparse`: `simple_strtoull(base 0)` then an optional K/M/G/T/P/E suffix (either case),
/// each a further shift by 10. It never fails: no digits gives 0 with nothing consumed,
/// overflow wraps silently (digits and shifts alike), there is no sign handling, and a
/// lone suffix (`"K"`) is consumed and yields 0. Hex digits win over suffixes: `0x1E` is 30.
public func memparse(_ input: [UInt8]) -> MemparseResult {
    let s = cString(input)
    let (b, skip) = fixupRadix(s, 0)
    let r = parseDigits(s, from: skip, base: b)
    var end = skip + r.count
    var value = r.value
    let shifts: Int
    switch byte(s, end) | 0x20 {
    case UInt8(ascii: "e"): shifts = 6
    case UInt8(ascii: "p"): shifts = 5
    case UInt8(ascii: "t"): shifts = 4
    case UInt8(ascii: "g"): shifts = 3
    case UInt8(ascii: "m"): shifts = 2
    case UInt8(ascii: "k"): shifts = 1
    default: shifts = 0
    }
    if shifts > 0 {
        value <<= UInt64(shifts * 10)  // bits shifted out are lost, as in C
        end += 1
    }
    return MemparseResult(value: value, consumed: end)
}
