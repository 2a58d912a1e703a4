import MemoryModel
import SystemPackage

// The parsers Linux 6.1 runs over the bytes user space writes to sysfs, procfs sysctls and
// module parameters, reimplemented over `[UInt8]`. Each one returns what the kernel would
// store or throws a `KernelError` carrying the errno the kernel would return, so the model
// can answer a malformed write exactly as a real kernel does.
//
// Two buffer conventions matter:
// * sysfs `store` methods and module parameter setters see a NUL-terminated C string
//   (kernfs appends the NUL). The kstrto*, kstrtobool and sysfs_streq functions stop at
//   the first NUL byte, so `"1\0junk"` parses as `1`. The functions here do the same.
// * sysctl handlers (`proc_do*vec*`) walk the buffer by length instead, so a NUL byte
//   after a number is a bad trailing character there (EINVAL).

// MARK: - Character classes (lib/ctype.c, Latin-1 table)

/// The kernel's `isspace()`: HT, LF, VT, FF, CR, space and, because lib/ctype.c is a
/// Latin-1 table, 0xA0 (no-break space).
@inline(__always)
func kernelIsSpace(_ c: UInt8) -> Bool {
    (c >= 9 && c <= 13) || c == 32 || c == 0xA0
}

@inline(__always)
func kernelIsDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

@inline(__always)
func kernelIsXDigit(_ c: UInt8) -> Bool {
    kernelIsDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

/// The bytes a C string function sees: everything before the first NUL.
@inline(__always)
func cString(_ input: [UInt8]) -> ArraySlice<UInt8> {
    if let nul = input.firstIndex(of: 0) { return input[..<nul] }
    return input[...]
}

/// Byte `i` of a C string, or NUL past its end (as reading the terminator would give).
@inline(__always)
func byte(_ s: ArraySlice<UInt8>, _ i: Int) -> UInt8 {
    let j = s.startIndex + i
    return j < s.endIndex ? s[j] : 0
}

private func einval(_ why: String) -> KernelError { KernelError(.invalidArgument, why) }
private func erange(_ why: String) -> KernelError { KernelError(.outOfRange, why) }

// MARK: - sysfs string matching (lib/string_helpers.c)

/// `sysfs_streq`: the written bytes equal `literal`, allowing one trailing newline and
/// nothing else. This is why `state` takes `"online\n"` (echo) and `"online"` (printf) but
/// refuses `"online "`, `"online\n\n"` and `"ONLINE"`. The kernel compares C strings, so
/// anything after a NUL byte is ignored.
public func sysfsStreq(_ input: [UInt8], _ literal: String) -> Bool {
    let s1 = cString(input)
    let s2 = cString(Array(literal.utf8))
    var i = 0
    while byte(s1, i) != 0 && byte(s1, i) == byte(s2, i) { i += 1 }
    let a = byte(s1, i), b = byte(s2, i)
    if a == b { return true }
    if a == 0 && b == 0x0A && byte(s2, i + 1) == 0 { return true }
    if a == 0x0A && byte(s1, i + 1) == 0 && b == 0 { return true }
    return false
}

/// `__sysfs_match_string`: the index of the first choice `sysfsStreq` accepts, or EINVAL.
/// Used by `online_policy` (`contig-zones`, `auto-movable`).
public func sysfsMatchString(_ input: [UInt8], _ choices: [String]) throws -> Int {
    for (index, choice) in choices.enumerated() where sysfsStreq(input, choice) {
        return index
    }
    throw einval("no match for sysfs string")
}

/// `mhp_online_type_from_str`: what `memoryN/state` and `auto_online_blocks` accept.
/// The list is indexed by MMOP_* (`offline`, `online`, `online_kernel`, `online_movable`),
/// which is `OnlineType`'s raw value order.
public func mhpOnlineType(_ input: [UInt8]) throws -> OnlineType {
    let index = try sysfsMatchString(input, OnlineType.allCases.map(\.name))
    return OnlineType(rawValue: index)!
}

/// The strings `memory_hotplug.online_policy` accepts, indexed by ONLINE_POLICY_*.
public let onlinePolicyNames = ["contig-zones", "auto-movable"]

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
func fixupRadix(_ s: ArraySlice<UInt8>, _ base: Int) -> (base: Int, skip: Int) {
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
func parseDigits(_ s: ArraySlice<UInt8>, from: Int, base: Int, maxChars: Int = Int.max)
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
        value <<= UInt64(shifts * 10)       // bits shifted out are lost, as in C
        end += 1
    }
    return MemparseResult(value: value, consumed: end)
}

// MARK: - sysctl write path (kernel/sysctl.c, fs/proc/proc_sysctl.c)

/// The outcome of a successful sysctl write: the values the handler stored (one per slot,
/// in order) and how many bytes of the write it consumed, which is what `write(2)` returns.
/// A short count is a partial write: `"1 2"` to `nr_hugepages` stores 1 and returns 2, and
/// the kernel ignores any retry of the rest because the file position is then non-zero.
///
/// `values` may be empty on success: a zero-length write, or a write at a non-zero file
/// position (ignored under the default `sysctl_writes_strict=1`). `hugetlb_sysctl_handler`
/// still calls `set_max_huge_pages` then, with the current `max_huge_pages`.
public struct SysctlWrite<Value: Equatable & Sendable>: Equatable, Sendable {
    public var values: [Value]
    public var consumed: Int
    public init(values: [Value], consumed: Int) { self.values = values; self.consumed = consumed }
}

/// `proc_sys_call_handler` refuses a write of `KMALLOC_MAX_SIZE` (4 MiB on x86_64 6.1:
/// 1 << (MAX_ORDER 11 + PAGE_SHIFT 12 - 1)) bytes or more with ENOMEM before any parsing.
public let sysctlMaxWriteBytes = 1 << 22

/// The handlers look at no more than PAGE_SIZE - 1 bytes of one write.
public let sysctlWindowBytes = 4095

/// Characters allowed right after a number in a sysctl write (`proc_wspace_sep`).
private func isSysctlSeparator(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A }

/// `proc_get_long`: an optional `-` (only if more bytes follow), then a decimal digit must
/// come first (so `+5`, ` 5` here, `foo` are EINVAL), then base-0 digits from a 21-byte
/// window (`0x10` = 16, `010` = 8). Overflow is EINVAL, as is a number that fills the
/// whole window (21 bytes, sign and prefix included), and any byte after the number other
/// than space, tab or newline.
private func procGetLong(_ buf: [UInt8], _ p: inout Int, _ size: inout Int) throws
    -> (value: UInt64, negative: Bool)
{
    let tmpBufLen = 22
    if size <= 0 { throw einval("sysctl: nothing to parse") }
    let len = min(size, tmpBufLen - 1)
    let tmp = buf[p..<(p + len)]           // `byte()` reads NUL past its end, as tmp[len] = 0
    var q = 0
    var negative = false
    if byte(tmp, 0) == UInt8(ascii: "-") && size > 1 {
        negative = true
        q = 1
    }
    if !kernelIsDigit(byte(tmp, q)) { throw einval("sysctl: not a number") }
    let digits = tmp.dropFirst(q)
    let (b, skip) = fixupRadix(digits, 0)
    let r = parseDigits(digits, from: skip, base: b)
    if r.overflow { throw einval("sysctl: number overflows") }
    let used = q + skip + r.count
    if used == tmpBufLen - 1 { throw einval("sysctl: number too long") }
    if used < size && !isSysctlSeparator(byte(tmp, used)) {
        throw einval("sysctl: bad character after number")
    }
    p += used
    size -= used
    return (r.value, negative)
}

private func procSkipSpaces(_ buf: [UInt8], _ p: inout Int, _ left: inout Int) {
    while left > 0 && kernelIsSpace(buf[p]) { p += 1; left -= 1 }
}

/// The shared write loop of `__do_proc_dointvec` and `__do_proc_doulongvec_minmax`:
/// skip whitespace, parse up to `slots` numbers, skip trailing whitespace, and report
/// `count - left` consumed. Whitespace-only input is EINVAL; so is a failure on the first
/// number. `convert` maps (magnitude, negative) to a stored value or nil for EINVAL.
private func sysctlWrite<V>(
    _ input: [UInt8], slots: Int, position: Int64,
    convert: (UInt64, Bool) -> V?
) throws -> SysctlWrite<V> {
    precondition(slots >= 1, "a sysctl table has at least one slot")
    let count = input.count
    if count >= sysctlMaxWriteBytes { throw KernelError(.noMemory, "sysctl: write too large") }
    if count == 0 { return SysctlWrite(values: [], consumed: 0) }
    // sysctl_writes_strict = 1 (the default): a write at a non-zero position is swallowed.
    if position != 0 { return SysctlWrite(values: [], consumed: count) }

    var left = min(count, sysctlWindowBytes)
    var p = 0
    var values: [V] = []
    var failure: KernelError?
    var vleft = slots
    while left > 0 && vleft > 0 {
        vleft -= 1
        procSkipSpaces(input, &p, &left)
        if left == 0 { break }
        do {
            let (lval, neg) = try procGetLong(input, &p, &left)
            guard let v = convert(lval, neg) else {
                failure = einval("sysctl: value out of range")
                break
            }
            values.append(v)
        } catch let e as KernelError {
            failure = e
            break
        }
    }
    if failure == nil && left > 0 { procSkipSpaces(input, &p, &left) }
    if values.isEmpty { throw failure ?? einval("sysctl: no value written") }
    // With several slots the kernel has already stored the values before a failing one.
    if let failure { throw failure }
    return SysctlWrite(values: values, consumed: count - left)
}

/// `proc_dointvec_minmax` (write side): decimal, octal (`010`) or hex (`0x10`) ints with an
/// optional `-`; EINVAL outside int or outside [min, max]. `slots` is `maxlen/sizeof(int)`
/// (1 for every vm sysctl the model has). `position` is the file offset of the write.
public func procDointvecMinmax(
    _ input: [UInt8], min: Int32? = nil, max: Int32? = nil,
    slots: Int = 1, position: Int64 = 0
) throws -> SysctlWrite<Int32> {
    try sysctlWrite(input, slots: slots, position: position) { lval, neg in
        let v: Int32
        if neg {
            if lval > UInt64(Int32.max) + 1 { return nil }
            v = Int32(truncatingIfNeeded: 0 &- lval)
        } else {
            if lval > UInt64(Int32.max) { return nil }
            v = Int32(lval)
        }
        if let min, v < min { return nil }
        if let max, v > max { return nil }
        return v
    }
}

/// `proc_doulongvec_minmax` (write side), as `nr_hugepages` uses it: base 0, no sign at
/// all (`-1` and even `-0` are EINVAL), overflow EINVAL (the sysfs counterpart says ERANGE),
/// EINVAL outside [min, max].
public func procDoulongvecMinmax(
    _ input: [UInt8], min: UInt64? = nil, max: UInt64? = nil,
    slots: Int = 1, position: Int64 = 0
) throws -> SysctlWrite<UInt64> {
    try sysctlWrite(input, slots: slots, position: position) { lval, neg in
        if neg { return nil }
        if let min, lval < min { return nil }
        if let max, lval > max { return nil }
        return lval
    }
}

/// `proc_dobool` (6.1, write side): parsed like `proc_dointvec` and stored as
/// `value != 0`, ignoring the sign and any range: `2` and `-1` turn it on, `0` and `-0`
/// off, `y`/`foo` are EINVAL. (Later kernels switched to `kstrtobool`; 6.1 has not.)
public func procDobool(
    _ input: [UInt8], slots: Int = 1, position: Int64 = 0
) throws -> SysctlWrite<Bool> {
    try sysctlWrite(input, slots: slots, position: position) { lval, _ in lval != 0 }
}

// MARK: - sysfs write size (fs/kernfs/file.c, fs/sysfs/file.c)

/// x86_64's PAGE_SIZE.
public let kernelPageSize = 4096

/// What a sysfs attribute's `store` sees of one `write(2)`: kernfs copies at most PAGE_SIZE
/// (4096) bytes and NUL-terminates them, and `write(2)` then returns at most what `store`
/// returned, so user space must resend the rest (which reaches `store` as a new string).
/// A zero-length write returns 0 without calling `store` at all: `nil` here.
/// (The E2BIG rule of kernfs applies only to files with an `atomic_write_len`, such as
/// cgroup files, never to sysfs attributes.)
public func sysfsStoreBuffer(_ written: [UInt8]) -> [UInt8]? {
    if written.isEmpty { return nil }
    return Array(written.prefix(kernelPageSize))
}
