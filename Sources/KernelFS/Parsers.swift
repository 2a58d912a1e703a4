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
    let tmp = buf[p..<(p + len)]  // `byte()` reads NUL past its end, as tmp[len] = 0
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
