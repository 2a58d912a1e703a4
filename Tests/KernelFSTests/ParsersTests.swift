import KernelFS
import MemoryModel
import SystemPackage
import XCTest

// Expected values come from reading the Linux 6.1 source (lib/kstrtox.c, lib/string_helpers.c,
// kernel/sysctl.c, kernel/params.c, lib/cmdline.c, fs/kernfs/file.c); tests named `testReadme…`
// are the real-kernel observations of /work/shared/reference/README.md.

/// What a parser should do with one input.
private enum Expect<T: Equatable>: Equatable {
    case ok(T)
    case fail(Errno)
}

private struct Case<T: Equatable> {
    var input: [UInt8]
    var expect: Expect<T>
    var line: UInt
    init(_ input: String, _ expect: Expect<T>, line: UInt = #line) {
        self.input = Array(input.utf8); self.expect = expect; self.line = line
    }
    init(bytes: [UInt8], _ expect: Expect<T>, line: UInt = #line) {
        self.input = bytes; self.expect = expect; self.line = line
    }
}

private func outcome<T>(_ body: () throws -> T) -> Expect<T> {
    do { return .ok(try body()) } catch let e as KernelError { return .fail(e.errno) } catch {
        XCTFail("unexpected error type \(error)")
        return .fail(Errno(rawValue: -1))
    }
}

private func checkCases<T>(_ cases: [Case<T>], file: StaticString = #filePath, _ parse: ([UInt8]) throws -> T) {
    for c in cases {
        let got = outcome { try parse(c.input) }
        XCTAssertEqual(got, c.expect, "input \(debug(c.input))", file: file, line: c.line)
    }
}

private func debug(_ b: [UInt8]) -> String {
    if b.count > 40 { return "\(b.count) bytes starting \(debug(Array(b.prefix(12))))" }
    return "\""
        + b.map { c -> String in
            switch c {
            case 0x0A: return "\\n"
            case 0x09: return "\\t"
            case 0x20...0x7E: return String(UnicodeScalar(c))
            default: return "\\x" + String(c, radix: 16)
            }
        }.joined() + "\""
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func repeated(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

final class ParsersTests: XCTestCase {

    // MARK: sysfs_streq and friends

    func testSysfsStreq() {
        let cases: [Case<Bool>] = [
            Case("online", .ok(true)),
            Case("online\n", .ok(true)),
            Case("online\n\n", .ok(false)),
            Case("online ", .ok(false)),
            Case(" online", .ok(false)),
            Case("online\t", .ok(false)),
            Case("online\r\n", .ok(false)),
            Case("ONLINE", .ok(false)),
            Case("Online", .ok(false)),
            Case("onlin", .ok(false)),
            Case("online_movable", .ok(false)),
            Case("", .ok(false)),
            Case("\n", .ok(false)),
            Case(bytes: bytes("online") + [0] + bytes("junk"), .ok(true)),  // C string ends at NUL
            Case(bytes: bytes("online\n") + [0] + bytes("x"), .ok(true)),
            Case(bytes: [0] + bytes("online"), .ok(false)),
            Case(bytes: bytes("online") + [0xFF], .ok(false)),
            Case(repeated("online", 1000), .ok(false))
        ]
        checkCases(cases) { sysfsStreq($0, "online") }
        XCTAssertTrue(sysfsStreq([], ""))
        XCTAssertTrue(sysfsStreq(bytes("\n"), ""))
        XCTAssertFalse(sysfsStreq(bytes("\n\n"), ""))
    }

    func testMhpOnlineType() {
        let cases: [Case<OnlineType>] = [
            Case("offline", .ok(.offline)),
            Case("online", .ok(.online)),
            Case("online_kernel\n", .ok(.onlineKernel)),
            Case("online_movable", .ok(.onlineMovable)),
            Case("online_movable\n", .ok(.onlineMovable)),
            Case("online-movable", .fail(.invalidArgument)),
            Case("online_movable\n\n", .fail(.invalidArgument)),
            Case("1", .fail(.invalidArgument)),
            Case("", .fail(.invalidArgument)),
            Case(bytes: [0], .fail(.invalidArgument)),
            Case(bytes: [0xFF], .fail(.invalidArgument)),
            Case("going-offline", .fail(.invalidArgument))
        ]
        checkCases(cases) { try mhpOnlineType($0) }
    }

    func testSysfsMatchStringOnlinePolicy() {
        XCTAssertEqual(onlinePolicyNames, ["contig-zones", "auto-movable"])
        let cases: [Case<Int>] = [
            Case("contig-zones", .ok(0)),
            Case("contig-zones\n", .ok(0)),
            Case("auto-movable\n", .ok(1)),
            Case("auto_movable", .fail(.invalidArgument)),
            Case("Auto-movable", .fail(.invalidArgument)),
            Case("auto-movable ", .fail(.invalidArgument)),
            Case("", .fail(.invalidArgument)),
            Case("\n", .fail(.invalidArgument))
        ]
        checkCases(cases) { try sysfsMatchString($0, onlinePolicyNames) }
    }

    // MARK: kstrtobool

    func testKstrtobool() {
        let cases: [Case<Bool>] = [
            Case("1", .ok(true)), Case("1\n", .ok(true)), Case("y", .ok(true)), Case("Y", .ok(true)),
            Case("t", .ok(true)), Case("T", .ok(true)), Case("yes", .ok(true)), Case("true", .ok(true)),
            Case("0", .ok(false)), Case("0\n", .ok(false)), Case("n", .ok(false)), Case("N", .ok(false)),
            Case("f", .ok(false)), Case("F", .ok(false)), Case("no", .ok(false)), Case("false", .ok(false)),
            Case("on", .ok(true)), Case("ON", .ok(true)), Case("oN", .ok(true)), Case("On\n", .ok(true)),
            Case("off", .ok(false)), Case("OFF", .ok(false)), Case("of", .ok(false)), Case("oF", .ok(false)),
            // Only the first one or two characters count.
            Case("10", .ok(true)), Case("1x", .ok(true)), Case("1 2", .ok(true)), Case("0x10", .ok(false)),
            Case("yellow", .ok(true)), Case("nonsense", .ok(false)), Case("foo", .ok(false)),
            Case("online", .ok(true)), Case("offline", .ok(false)),  // 'o' then 'n' / 'f'
            Case("1\n\n", .ok(true)), Case("y ", .ok(true)),
            Case("", .fail(.invalidArgument)), Case("\n", .fail(.invalidArgument)),
            Case("o", .fail(.invalidArgument)), Case("o\n", .fail(.invalidArgument)),
            Case("ox", .fail(.invalidArgument)),
            Case("2", .fail(.invalidArgument)), Case("-1", .fail(.invalidArgument)),
            Case("+1", .fail(.invalidArgument)),
            Case(" 1", .fail(.invalidArgument)), Case("\t1", .fail(.invalidArgument)),
            // 7.2 accepts e/E/d/D (enable/disable); 6.1 does not.
            Case("e", .fail(.invalidArgument)), Case("E", .fail(.invalidArgument)), Case("d", .fail(.invalidArgument)),
            Case("D", .fail(.invalidArgument)),
            Case("enable", .fail(.invalidArgument)), Case("disable", .fail(.invalidArgument)),
            Case(bytes: [0], .fail(.invalidArgument)), Case(bytes: [0, 0x31], .fail(.invalidArgument)),
            Case(bytes: [0xFF], .fail(.invalidArgument)), Case(bytes: [0x6F, 0], .fail(.invalidArgument)),
            Case(bytes: [0x6F, 0, 0x6E], .fail(.invalidArgument)),  // "o\0n": the string ends after 'o'
            Case("y" + repeated("x", 5000), .ok(true))
        ]
        checkCases(cases) { try kstrtobool($0) }
    }

    // MARK: kstrtoull and family

    func testKstrtoullBase0() {
        let cases: [Case<UInt64>] = [
            Case("0", .ok(0)), Case("0\n", .ok(0)), Case("00", .ok(0)), Case("42", .ok(42)),
            Case("42\n", .ok(42)), Case("+5", .ok(5)), Case("+5\n", .ok(5)),
            Case("0x10", .ok(16)), Case("0X10", .ok(16)), Case("0x1f", .ok(31)), Case("0xAbC", .ok(2748)),
            Case("010", .ok(8)), Case("0777", .ok(511)),
            Case("18446744073709551615", .ok(UInt64.max)),
            Case("0xffffffffffffffff", .ok(UInt64.max)),
            Case("01777777777777777777777", .ok(UInt64.max)),
            Case(repeated("0", 5000), .ok(0)),  // zeros never overflow
            Case(bytes: bytes("7") + [0] + bytes("junk"), .ok(7)),  // stops at NUL
            Case(bytes: bytes("7\n") + [0, 0x31], .ok(7)),
            Case("", .fail(.invalidArgument)), Case("\n", .fail(.invalidArgument)),
            Case("\n\n", .fail(.invalidArgument)),
            Case("5\n\n", .fail(.invalidArgument)), Case(" 5", .fail(.invalidArgument)),
            Case("5 ", .fail(.invalidArgument)),
            Case("\t5", .fail(.invalidArgument)), Case("5\r", .fail(.invalidArgument)),
            Case("5\r\n", .fail(.invalidArgument)),
            Case("++5", .fail(.invalidArgument)), Case("+", .fail(.invalidArgument)),
            Case("+\n", .fail(.invalidArgument)),
            Case("-5", .fail(.invalidArgument)), Case("-0", .fail(.invalidArgument)),
            Case("+-5", .fail(.invalidArgument)),
            Case("0x", .fail(.invalidArgument)),  // "0x" + non-hex: octal 0, then 'x' is junk
            Case("0xg", .fail(.invalidArgument)), Case("0x\n", .fail(.invalidArgument)),
            Case("08", .fail(.invalidArgument)), Case("09", .fail(.invalidArgument)),
            Case("abc", .fail(.invalidArgument)), Case("1e3", .fail(.invalidArgument)),
            Case("1.0", .fail(.invalidArgument)),
            Case("1_000", .fail(.invalidArgument)), Case("5x", .fail(.invalidArgument)),
            Case(bytes: [0], .fail(.invalidArgument)), Case(bytes: [0xFF], .fail(.invalidArgument)),
            Case(bytes: [0x35, 0xFF], .fail(.invalidArgument)), Case(bytes: [0xA0, 0x35], .fail(.invalidArgument)),
            Case("18446744073709551616", .fail(.outOfRange)),
            Case("18446744073709551616\n", .fail(.outOfRange)),
            Case("0x10000000000000000", .fail(.outOfRange)),
            Case("99999999999999999999999999", .fail(.outOfRange)),
            // Overflow is reported before the trailing junk is looked at.
            Case("99999999999999999999x", .fail(.outOfRange)),
            Case("99999999999999999999 ", .fail(.outOfRange)),
            Case(repeated("1", 5000), .fail(.outOfRange))
        ]
        checkCases(cases) { try kstrtoull($0, base: 0) }
    }

    func testKstrtoullBase10() {
        let cases: [Case<UInt64>] = [
            Case("010", .ok(10)), Case("08", .ok(8)), Case("0", .ok(0)), Case("+7\n", .ok(7)),
            Case("0x10", .fail(.invalidArgument)), Case("0x", .fail(.invalidArgument)),
            Case("a", .fail(.invalidArgument)),
            Case("18446744073709551616", .fail(.outOfRange))
        ]
        checkCases(cases) { try kstrtoull($0, base: 10) }
    }

    func testKstrtoullBase16() {
        let cases: [Case<UInt64>] = [
            Case("10", .ok(16)), Case("0x10", .ok(16)), Case("0X10", .ok(16)), Case("+0x10", .ok(16)),
            Case("ff", .ok(255)), Case("FF\n", .ok(255)), Case("0", .ok(0)), Case("8000000", .ok(0x800_0000)),
            Case("0x", .fail(.invalidArgument)),  // prefix stripped, then no digits
            Case("0xg", .fail(.invalidArgument)), Case("0x0x1", .fail(.invalidArgument)),
            Case("g", .fail(.invalidArgument)),
            Case("10000000000000000", .fail(.outOfRange))
        ]
        checkCases(cases) { try kstrtoull($0, base: 16) }
    }

    func testKstrtoullBase8() {
        let cases: [Case<UInt64>] = [
            Case("010", .ok(8)), Case("777", .ok(511)), Case("7\n", .ok(7)),
            Case("8", .fail(.invalidArgument)), Case("0x10", .fail(.invalidArgument)),
            Case("", .fail(.invalidArgument)),
            Case("2000000000000000000000", .fail(.outOfRange))
        ]
        checkCases(cases) { try kstrtoull($0, base: 8) }
    }

    func testKstrtoulIsKstrtoull() {
        for s in ["0", "010", "0x10", "18446744073709551615", "18446744073709551616", "-1", "", "5 "] {
            XCTAssertEqual(
                outcome { try kstrtoul(bytes(s), base: 10) },
                outcome { try kstrtoull(bytes(s), base: 10) }, s)
        }
    }

    func testKstrtouint() {
        let cases: [Case<UInt32>] = [
            Case("301\n", .ok(301)), Case("0", .ok(0)), Case("4294967295", .ok(UInt32.max)),
            Case("0xffffffff", .ok(UInt32.max)), Case("+1", .ok(1)), Case("010", .ok(8)),
            Case("4294967296", .fail(.outOfRange)), Case("0x100000000", .fail(.outOfRange)),
            Case("18446744073709551616", .fail(.outOfRange)),
            Case("-1", .fail(.invalidArgument)), Case("abc", .fail(.invalidArgument)),
            Case("", .fail(.invalidArgument)),
            Case("1 ", .fail(.invalidArgument)), Case("08", .fail(.invalidArgument))
        ]
        checkCases(cases) { try kstrtouint($0, base: 0) }
    }

    func testKstrtoint() {
        let cases: [Case<Int32>] = [
            Case("0", .ok(0)), Case("-0", .ok(0)), Case("+5", .ok(5)), Case("-5\n", .ok(-5)),
            Case("2147483647", .ok(Int32.max)), Case("-2147483648", .ok(Int32.min)),
            Case("-0x10", .ok(-16)), Case("-010", .ok(-8)), Case("0x7fffffff", .ok(Int32.max)),
            Case("2147483648", .fail(.outOfRange)), Case("-2147483649", .fail(.outOfRange)),
            Case("4294967296", .fail(.outOfRange)), Case("0x80000000", .fail(.outOfRange)),
            Case("-", .fail(.invalidArgument)), Case("-\n", .fail(.invalidArgument)),
            Case("--1", .fail(.invalidArgument)),
            Case("-+5", .fail(.invalidArgument)), Case("+-5", .fail(.invalidArgument)),
            Case("- 5", .fail(.invalidArgument)),
            Case(" -5", .fail(.invalidArgument)), Case("", .fail(.invalidArgument)),
            Case("-08", .fail(.invalidArgument)),
            Case("-0x", .fail(.invalidArgument))
        ]
        checkCases(cases) { try kstrtoint($0, base: 0) }
    }

    func testKstrtolAndKstrtoll() {
        let cases: [Case<Int64>] = [
            Case("9223372036854775807", .ok(Int64.max)),
            Case("-9223372036854775808", .ok(Int64.min)),
            Case("-0x8000000000000000", .ok(Int64.min)),
            Case("9223372036854775808", .fail(.outOfRange)),
            Case("-9223372036854775809", .fail(.outOfRange)),
            Case("-18446744073709551615", .fail(.outOfRange)),
            Case("-18446744073709551616", .fail(.outOfRange)),
            Case("18446744073709551616", .fail(.outOfRange)),
            Case("-99999999999999999999x", .fail(.outOfRange)),
            Case("-x", .fail(.invalidArgument)), Case("", .fail(.invalidArgument))
        ]
        checkCases(cases) { try kstrtol($0, base: 0) }
        checkCases(cases) { try kstrtoll($0, base: 0) }
    }

    // MARK: module parameters

    func testParamSetBool() {
        XCTAssertEqual(outcome { try paramSetBool(nil) }, .ok(true))  // bare `param` on the command line
        let cases: [Case<Bool>] = [
            Case("Y", .ok(true)), Case("N\n", .ok(false)), Case("1", .ok(true)), Case("off", .ok(false)),
            Case("", .fail(.invalidArgument)), Case("\n", .fail(.invalidArgument)),
            Case("bar", .fail(.invalidArgument)),
            Case("2", .fail(.invalidArgument)),
            Case("foo", .ok(false))  // 'f' is false: "foo" switches a bool param off
        ]
        checkCases(cases) { try paramSetBool($0) }
    }

    func testParamSetUint() {
        let cases: [Case<UInt32>] = [
            Case("50", .ok(50)), Case("50\n", .ok(50)), Case("301", .ok(301)), Case("0", .ok(0)),
            Case("0x10", .ok(16)), Case("010", .ok(8)), Case("+50", .ok(50)),
            Case("4294967295", .ok(UInt32.max)),
            Case("-1", .fail(.invalidArgument)), Case("abc", .fail(.invalidArgument)),
            Case("", .fail(.invalidArgument)),
            Case("\n", .fail(.invalidArgument)), Case(" 50", .fail(.invalidArgument)),
            Case("50 ", .fail(.invalidArgument)),
            Case("08", .fail(.invalidArgument)), Case("50%", .fail(.invalidArgument)),
            Case("4294967296", .fail(.outOfRange)), Case("18446744073709551616", .fail(.outOfRange))
        ]
        checkCases(cases) { try paramSetUint($0) }
    }

    // MARK: memparse

    func testMemparse() {
        let K: UInt64 = 1 << 10, M: UInt64 = 1 << 20, G: UInt64 = 1 << 30
        let cases: [(String, UInt64, Int, UInt)] = [
            ("512M", 512 * M, 4, #line), ("512m", 512 * M, 4, #line), ("1G", G, 2, #line),
            ("1g", G, 2, #line), ("2k", 2 * K, 2, #line), ("2K", 2 * K, 2, #line),
            ("1T", 1 << 40, 2, #line), ("1P", 1 << 50, 2, #line), ("1E", 1 << 60, 2, #line),
            ("16E", 0, 3, #line),  // shifted out: wraps silently
            ("4096", 4096, 4, #line), ("0", 0, 1, #line),
            ("0x10M", 16 * M, 5, #line), ("0x1E", 30, 4, #line),  // E is a hex digit here
            ("010K", 8 * K, 4, #line), ("08", 0, 1, #line), ("0x", 0, 1, #line),
            ("50%", 50, 2, #line), ("1M\n", M, 2, #line), ("1Mjunk", M, 2, #line),
            ("1B", 1, 1, #line), ("1Z", 1, 1, #line), ("1MM", M, 2, #line),
            ("", 0, 0, #line), ("abc", 0, 0, #line), ("+5M", 0, 0, #line), ("-5M", 0, 0, #line),
            (" 5", 0, 0, #line),
            ("K", 0, 1, #line),  // a lone suffix is consumed
            ("18446744073709551616", 0, 20, #line),  // 2^64 wraps to 0, no error
            ("18446744073709551615", UInt64.max, 20, #line)
        ]
        for (s, v, n, line) in cases {
            XCTAssertEqual(memparse(bytes(s)), MemparseResult(value: v, consumed: n), "\"\(s)\"", line: line)
        }
        XCTAssertEqual(memparse(bytes("256") + [0] + bytes("M")), MemparseResult(value: 256, consumed: 3))
    }

    // MARK: sysctl writes

    typealias W<T: Equatable & Sendable> = SysctlWrite<T>

    func testProcDoulongvecMinmax() {
        let cases: [Case<W<UInt64>>] = [
            Case("64\n", .ok(W(values: [64], consumed: 3))),
            Case("64", .ok(W(values: [64], consumed: 2))),
            Case("0", .ok(W(values: [0], consumed: 1))),
            Case("0x10", .ok(W(values: [16], consumed: 4))),
            Case("0X10\n", .ok(W(values: [16], consumed: 5))),
            Case("010", .ok(W(values: [8], consumed: 3))),
            Case("1 2", .ok(W(values: [1], consumed: 2))),
            Case("1 2\n", .ok(W(values: [1], consumed: 2))),
            Case("1\t2", .ok(W(values: [1], consumed: 2))),
            Case("1\n2", .ok(W(values: [1], consumed: 2))),
            Case("  5  ", .ok(W(values: [5], consumed: 5))),
            Case("\r\u{0B}\u{0C}5\n", .ok(W(values: [5], consumed: 5))),  // isspace() before the number
            Case(bytes: [0xA0, 0x35], .ok(W(values: [5], consumed: 2))),  // Latin-1 NBSP is a space
            Case("5 \r", .ok(W(values: [5], consumed: 3))),
            Case("5\n\n", .ok(W(values: [5], consumed: 3))),
            Case("18446744073709551615", .ok(W(values: [UInt64.max], consumed: 20))),
            Case("00000000000000000005", .ok(W(values: [5], consumed: 20))),  // 20 bytes fit the window
            Case("", .ok(W(values: [], consumed: 0))),  // zero-length write
            Case("\n", .fail(.invalidArgument)), Case("   ", .fail(.invalidArgument)),
            Case("-1", .fail(.invalidArgument)), Case("-0", .fail(.invalidArgument)),
            Case("-", .fail(.invalidArgument)),
            Case("+5", .fail(.invalidArgument)),  // a digit must come first
            Case("foo", .fail(.invalidArgument)), Case("5x", .fail(.invalidArgument)),
            Case("5,6", .fail(.invalidArgument)),
            // Only space/tab/LF may follow.
            Case("5\r", .fail(.invalidArgument)), Case("5\r\n", .fail(.invalidArgument)),
            Case(bytes: [0x35, 0], .fail(.invalidArgument)), Case(bytes: [0x35, 0xFF], .fail(.invalidArgument)),
            Case(bytes: [0], .fail(.invalidArgument)), Case(bytes: [0xFF], .fail(.invalidArgument)),
            Case("08", .fail(.invalidArgument)), Case("0x", .fail(.invalidArgument)),
            Case("0xg", .fail(.invalidArgument)),
            Case("18446744073709551616", .fail(.invalidArgument)),  // overflow is .invalidArgument here
            Case("000000000000000000005", .fail(.invalidArgument)),  // 21 bytes: "too long"
            Case(repeated("1", 5000), .fail(.invalidArgument)),
            Case(repeated(" ", 4095) + "5", .fail(.invalidArgument)),  // beyond the 4095-byte window
            Case(repeated(" ", 4094) + "5", .ok(W(values: [5], consumed: 4095))),
            Case("5" + repeated(" ", 5000), .ok(W(values: [5], consumed: 5001))),
            // consumed = count - left, where left counts only inside the 4095-byte window.
            Case("1 2" + repeated(" ", 5000), .ok(W(values: [1], consumed: 5003 - 4093)))
        ]
        checkCases(cases) { try procDoulongvecMinmax($0) }

        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("101"), max: 100) }, .fail(.invalidArgument))
        XCTAssertEqual(
            outcome { try procDoulongvecMinmax(bytes("100"), max: 100) },
            .ok(W(values: [100], consumed: 3)))
        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("1"), min: 2) }, .fail(.invalidArgument))
        XCTAssertEqual(
            outcome { try procDoulongvecMinmax(bytes("1 2 3"), slots: 2) },
            .ok(W(values: [1, 2], consumed: 4)))
    }

    func testSysctlFilePositionAndSize() {
        // sysctl_writes_strict=1: a write at a non-zero offset is accepted and ignored.
        XCTAssertEqual(
            outcome { try procDoulongvecMinmax(bytes("2"), position: 2) },
            .ok(W(values: [], consumed: 1)))
        XCTAssertEqual(
            outcome { try procDobool(bytes("foo"), position: 1) },
            .ok(W(values: [], consumed: 3)))
        // 4 MiB or more is refused before parsing.
        let big = [UInt8](repeating: 0x20, count: sysctlMaxWriteBytes)
        XCTAssertEqual(outcome { try procDoulongvecMinmax(big) }, .fail(.noMemory))
        XCTAssertEqual(outcome { try procDoulongvecMinmax(Array(big.dropLast())) }, .fail(.invalidArgument))
    }

    func testProcDobool() {
        let cases: [Case<W<Bool>>] = [
            Case("1", .ok(W(values: [true], consumed: 1))),
            Case("1\n", .ok(W(values: [true], consumed: 2))),
            Case("0\n", .ok(W(values: [false], consumed: 2))),
            Case("2", .ok(W(values: [true], consumed: 1))),
            Case("-1", .ok(W(values: [true], consumed: 2))),
            Case("-0", .ok(W(values: [false], consumed: 2))),
            Case("0x10", .ok(W(values: [true], consumed: 4))),
            Case("00", .ok(W(values: [false], consumed: 2))),
            Case("4294967296", .ok(W(values: [true], consumed: 10))),  // no int range check
            Case("1 0", .ok(W(values: [true], consumed: 2))),
            Case(" 1 ", .ok(W(values: [true], consumed: 3))),
            Case("", .ok(W(values: [], consumed: 0))),
            Case("foo", .fail(.invalidArgument)), Case("y", .fail(.invalidArgument)),
            Case("on", .fail(.invalidArgument)),
            Case("true", .fail(.invalidArgument)), Case("\n", .fail(.invalidArgument)),
            Case("+1", .fail(.invalidArgument)),
            Case("1x", .fail(.invalidArgument)), Case("18446744073709551616", .fail(.invalidArgument))
        ]
        checkCases(cases) { try procDobool($0) }
    }

    func testProcDointvecMinmax() {
        let cases: [Case<W<Int32>>] = [
            Case("45056\n", .ok(W(values: [45056], consumed: 6))),
            Case("-5", .ok(W(values: [-5], consumed: 2))),
            Case("-0", .ok(W(values: [0], consumed: 2))),
            Case("2147483647", .ok(W(values: [Int32.max], consumed: 10))),
            Case("-2147483648", .ok(W(values: [Int32.min], consumed: 11))),
            Case("0x7fffffff", .ok(W(values: [Int32.max], consumed: 10))),
            Case("-0x10", .ok(W(values: [-16], consumed: 5))),
            Case("2147483648", .fail(.invalidArgument)), Case("-2147483649", .fail(.invalidArgument)),
            Case("4294967296", .fail(.invalidArgument)), Case("-", .fail(.invalidArgument)),
            Case("--1", .fail(.invalidArgument)),
            Case("- 1", .fail(.invalidArgument)), Case("-\n", .fail(.invalidArgument)),
            Case("", .ok(W(values: [], consumed: 0)))
        ]
        checkCases(cases) { try procDointvecMinmax($0) }
        XCTAssertEqual(outcome { try procDointvecMinmax(bytes("-5"), min: 0) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try procDointvecMinmax(bytes("11"), min: 0, max: 10) }, .fail(.invalidArgument))
        XCTAssertEqual(
            outcome { try procDointvecMinmax(bytes("10"), min: 0, max: 10) },
            .ok(W(values: [10], consumed: 2)))
        XCTAssertEqual(
            outcome { try procDointvecMinmax(bytes("1 2"), slots: 2) },
            .ok(W(values: [1, 2], consumed: 3)))
        XCTAssertEqual(
            outcome { try procDointvecMinmax(bytes("1 2 3\n"), slots: 2) },
            .ok(W(values: [1, 2], consumed: 4)))
        XCTAssertEqual(outcome { try procDointvecMinmax(bytes("1,2"), slots: 2) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try procDointvecMinmax(bytes("1 x"), slots: 2) }, .fail(.invalidArgument))
        XCTAssertEqual(
            outcome { try procDointvecMinmax(bytes("1 "), slots: 2) },
            .ok(W(values: [1], consumed: 2)))
    }

    // MARK: sysfs write size

    func testSysfsStoreBuffer() {
        XCTAssertNil(sysfsStoreBuffer([]))  // store never called
        XCTAssertEqual(sysfsStoreBuffer(bytes("online\n")), bytes("online\n"))
        XCTAssertEqual(sysfsStoreBuffer(Array(repeating: 0x31, count: 4096))?.count, 4096)
        XCTAssertEqual(sysfsStoreBuffer(Array(repeating: 0x31, count: 4097))?.count, 4096)
        let long = Array(repeating: UInt8(0x31), count: 5000)
        XCTAssertEqual(outcome { try kstrtoul(sysfsStoreBuffer(long)!, base: 10) }, .fail(.outOfRange))
        let padded = bytes("online_movable") + Array(repeating: 0x20, count: 5000)
        XCTAssertEqual(outcome { try mhpOnlineType(sysfsStoreBuffer(padded)!) }, .fail(.invalidArgument))
    }

    // MARK: strerror

    func testStrerrorTable() {
        let expected: [(Errno, String, String, Int32)] = [
            (.invalidArgument, "EINVAL", "Invalid argument", 22),
            (.resourceBusy, "EBUSY", "Device or resource busy", 16),
            (.noMemory, "ENOMEM", "Cannot allocate memory", 12),
            (.outOfRange, "ERANGE", "Numerical result out of range", 34),
            (.permissionDenied, "EACCES", "Permission denied", 13),
            (.noSuchFileOrDirectory, "ENOENT", "No such file or directory", 2),
            (.operationNotSupportedByDevice, "ENODEV", "No such device", 19),
            (.interrupted, "EINTR", "Interrupted system call", 4),
            (.notPermitted, "EPERM", "Operation not permitted", 1),
            (.fileExists, "EEXIST", "File exists", 17),
            (.argListTooLong, "E2BIG", "Argument list too long", 7),
            (.ioError, "EIO", "Input/output error", 5),
            (.noSpace, "ENOSPC", "No space left on device", 28),
            (.notDirectory, "ENOTDIR", "Not a directory", 20),
            (.isDirectory, "EISDIR", "Is a directory", 21),
            (.noSuchAddressOrDevice, "ENXIO", "No such device or address", 6),
            (.resourceTemporarilyUnavailable, "EAGAIN", "Resource temporarily unavailable", 11),
            (.badAddress, "EFAULT", "Bad address", 14),
            (.badFileDescriptor, "EBADF", "Bad file descriptor", 9),
            (.notSupported, "EOPNOTSUPP", "Operation not supported", 95),
            (.notSupportedOnSocket, "EOPNOTSUPP", "Operation not supported", 95),
            (.deadlock, "EDEADLK", "Resource deadlock avoided", 35),
            (.readOnlyFileSystem, "EROFS", "Read-only file system", 30),
            (.overflow, "EOVERFLOW", "Value too large for defined data type", 75)
        ]
        for (e, symbol, message, linux) in expected {
            XCTAssertEqual(e.symbol, symbol)
            XCTAssertEqual(e.message, message, symbol)
            XCTAssertEqual(e.linuxNumber, linux, symbol)
            XCTAssertEqual(Errno(linuxNumber: linux)?.message, message, symbol)
        }
        XCTAssertNil(Errno(linuxNumber: 41))
        XCTAssertEqual(Errno(rawValue: 4000).message, "Unknown error 4000")
        XCTAssertEqual(Errno(rawValue: 4000).symbol, "errno 4000")
        XCTAssertNil(Errno(rawValue: 4000).linuxNumber)
    }

    // MARK: observations of the real 6.1 kernel (reference README)

    /// README "sysfs writes": `online_movable`, `online_kernel`, `online` to an offline DIMM block are rc 0.
    func testReadmeStateAcceptsTheThreeOnlineStrings() {
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("online_movable\n")) }, .ok(.onlineMovable))
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("online_kernel\n")) }, .ok(.onlineKernel))
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("online\n")) }, .ok(.online))
    }

    /// README "sysfs writes": `foo`, `""`, `ONLINE`, `"online_movable "` are .invalidArgument, printed by
    /// busybox as `sh: write error: Invalid argument`. `echo ""` writes a lone newline.
    func testReadmeStateRejectsFooEmptyUppercaseTrailingSpace() {
        for s in ["foo\n", "\n", "ONLINE\n", "online_movable \n"] {
            let got = outcome { try mhpOnlineType(bytes(s)) }
            XCTAssertEqual(got, .fail(.invalidArgument), debug(bytes(s)))
        }
        XCTAssertEqual(Errno.invalidArgument.message, "Invalid argument")
    }

    /// README "sysfs writes": `online_movable` without a newline (`printf %s`) is rc 0.
    func testReadmeStateWithoutNewline() {
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("online_movable")) }, .ok(.onlineMovable))
    }

    /// README "sysfs writes": `memoryN/online`: `2` .invalidArgument, `1` onlines, `0` offlines, `y` accepted.
    func testReadmeOnlineFileKstrtobool() {
        XCTAssertEqual(outcome { try kstrtobool(bytes("2\n")) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try kstrtobool(bytes("1\n")) }, .ok(true))
        XCTAssertEqual(outcome { try kstrtobool(bytes("0\n")) }, .ok(false))
        XCTAssertEqual(outcome { try kstrtobool(bytes("y\n")) }, .ok(true))
    }

    /// README "Reproducibility and parsers": `memoryN/online` looks at the first character only:
    /// `0x10` offlines, `"1 2"` onlines.
    func testReadmeOnlineFileFirstCharacterOnly() {
        XCTAssertEqual(outcome { try kstrtobool(bytes("0x10\n")) }, .ok(false))
        XCTAssertEqual(outcome { try kstrtobool(bytes("1 2\n")) }, .ok(true))
    }

    /// README "sysfs writes": `auto_online_blocks`: `foo` .invalidArgument; `online_kernel`, `online_movable` accepted.
    func testReadmeAutoOnlineBlocks() {
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("foo\n")) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("online_kernel\n")) }, .ok(.onlineKernel))
        XCTAssertEqual(outcome { try mhpOnlineType(bytes("online_movable\n")) }, .ok(.onlineMovable))
    }

    /// README "sysfs writes": `online_policy` = `foo` .invalidArgument; `auto_movable_ratio` = `-1` or `abc`
    /// .invalidArgument; `memmap_on_memory` (0444) fails to open with EACCES.
    func testReadmeModuleParameters() {
        XCTAssertEqual(outcome { try sysfsMatchString(bytes("foo\n"), onlinePolicyNames) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try sysfsMatchString(bytes("auto-movable\n"), onlinePolicyNames) }, .ok(1))
        XCTAssertEqual(outcome { try paramSetUint(bytes("-1\n")) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try paramSetUint(bytes("abc\n")) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try paramSetUint(bytes("50\n")) }, .ok(50))
        XCTAssertEqual(Errno.permissionDenied.message, "Permission denied")
    }

    /// README "sysfs writes": `hugetlb_optimize_vmemmap` = `2` is accepted and reads back 1;
    /// `foo` is .invalidArgument. `nr_hugepages` = `-1` or `foo` is .invalidArgument.
    func testReadmeSysctlWrites() {
        XCTAssertEqual(outcome { try procDobool(bytes("2\n")) }, .ok(W(values: [true], consumed: 2)))
        XCTAssertEqual(outcome { try procDobool(bytes("foo\n")) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("-1\n")) }, .fail(.invalidArgument))
        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("foo\n")) }, .fail(.invalidArgument))
    }

    /// kernel-semantics §11.6: any non-zero value, even with a minus sign, turns HVO on.
    func testSemanticsDoboolMinusOneTurnsOn() {
        XCTAssertEqual(outcome { try procDobool(bytes("-1\n")) }, .ok(W(values: [true], consumed: 3)))
    }

    /// README "Reproducibility and parsers": sysctl parsers are base 0: `0x10` is 16, `010` is 8;
    /// `"1 2"` is a partial write, 2 of 3 bytes consumed, value 1.
    func testReadmeSysctlBase0AndPartialWrite() {
        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("0x10")) }, .ok(W(values: [16], consumed: 4)))
        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("010")) }, .ok(W(values: [8], consumed: 3)))
        XCTAssertEqual(outcome { try procDoulongvecMinmax(bytes("1 2")) }, .ok(W(values: [1], consumed: 2)))
        // What the retry of the remaining "2" (now at offset 2) does: nothing.
        XCTAssertEqual(
            outcome { try procDoulongvecMinmax(bytes("2"), position: 2) },
            .ok(W(values: [], consumed: 1)))
    }

    /// README "Reproducibility and parsers": sysfs hugetlb counters are base 10: `010` is 10,
    /// 2^64 gives .outOfRange.
    func testReadmeSysfsHugetlbCounters() {
        XCTAssertEqual(outcome { try kstrtoul(bytes("010\n"), base: 10) }, .ok(10))
        XCTAssertEqual(outcome { try kstrtoul(bytes("18446744073709551616\n"), base: 10) }, .fail(.outOfRange))
        XCTAssertEqual(Errno.outOfRange.message, "Numerical result out of range")
    }

    /// README "Reproducibility and parsers": at most 4096 bytes per sysfs write.
    func testReadmeSysfsWriteSize() {
        XCTAssertEqual(kernelPageSize, 4096)
        XCTAssertEqual(sysfsStoreBuffer(Array(repeating: 0x79, count: 10_000))?.count, 4096)
    }

    /// README "Reproducibility and parsers": memory-notifier-error-inject -12 fails with ENOMEM,
    /// -16 with EBUSY; README seed case 3 prints `sh: write error: Cannot allocate memory`.
    func testReadmeNotifierInjectErrnoNumbers() {
        XCTAssertEqual(Errno(linuxNumber: 12), .noMemory)
        XCTAssertEqual(Errno(linuxNumber: 16), .resourceBusy)
        XCTAssertEqual(Errno.noMemory.message, "Cannot allocate memory")
        XCTAssertEqual(Errno.resourceBusy.message, "Device or resource busy")
    }
}
