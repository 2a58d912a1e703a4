import XCTest
@testable import MemoryModel

/// QEMU 7.2's `qemu_strtosz` and `-m`'s legacy MiB rule, against figures worked by hand from
/// util/cutils.c (64.64 fixed point, half up) and the cases of QEMU's tests/unit/test-cutils.c.
final class QEMUSizeTests: XCTestCase {
    func size(_ s: String, _ shift: Int = 0) -> Result<UInt64, QEMUSize.Failure> {
        Result { () throws(QEMUSize.Failure) -> UInt64 in try QEMUSize.strtosz(s, defaultShift: shift) }
    }

    func testAccepted() {
        let cases: [(String, UInt64)] = [
            ("0", 0), ("12345", 12345), ("  +4096", 4096), ("1B", 1), ("1b", 1),
            ("1K", 1024), ("1k", 1024), ("512M", 512 << 20), ("1G", 1 << 30), ("2T", 2 << 40),
            ("1P", 1 << 50), ("1E", 1 << 60),
            ("1.5G", 3 << 29),                      // the case: QEMU takes it
            ("0.5E", 1 << 59),
            ("1.k", 1024),                          // a dot with no digits is skipped
            ("1.", 1),                              // ... even with no unit: no fraction to split
            ("12.345M", 12_944_671),                // 12.345 × 2^20 = 12944670.72, rounded half up
            ("0x40000000", 1 << 30), ("0X10", 16),
            ("0x1M", 1 << 20),                      // hex with a suffix: deprecated in 7.2, still taken
            ("18446744073709550592", 0xffff_ffff_ffff_fc00),
        ]
        for (text, want) in cases { XCTAssertEqual(size(text), .success(want), text) }
        XCTAssertEqual(size("3", 20), .success(3 << 20), "qemu_strtosz_MiB")
        XCTAssertEqual(size("1.5", 20), .success(3 << 19), "qemu_strtosz_MiB: the default unit allows a fraction")
    }

    func testRefused() {
        let cases: [(String, QEMUSize.Failure)] = [
            ("", .invalid), (" \t ", .invalid), ("crap", .invalid), ("inf", .invalid), ("NaN", .invalid),
            ("G", .invalid), (".5G", .invalid),      // 7.2 needs a digit before the dot
            ("1e3", .invalid),                      // 1 EiB followed by "3"
            ("1.5e3G", .invalid),                   // exponents are refused outright
            ("0x1.8", .invalid),                    // no hex fractions
            ("1G ", .invalid), ("1GB", .invalid), ("1 G", .invalid),
            ("1.5", .fractionOfByte), ("1.5B", .fractionOfByte),
            ("-1", .negative), ("-0", .negative), ("-1M", .negative),
            ("18446744073709551616", .outOfRange), ("16E", .outOfRange), ("99999999999T", .outOfRange),
        ]
        for (text, want) in cases { XCTAssertEqual(size(text), .failure(want), text) }
    }

    /// `-m` and `-numa node,mem=`: checked in bytes first (so `1.5` is refused), then a bare
    /// number is MiB.
    func testLegacyMiB() {
        func m(_ s: String) -> Result<UInt64, QEMUSize.Failure> {
            Result { () throws(QEMUSize.Failure) -> UInt64 in try QEMUSize.legacyMiB(s) }
        }
        XCTAssertEqual(m("1536"), .success(1536 << 20))
        XCTAssertEqual(m("1.5G"), .success(3 << 29))
        XCTAssertEqual(m("4096B"), .success(4096))
        XCTAssertEqual(m("1.5"), .failure(.fractionOfByte))
        XCTAssertEqual(m("-1"), .failure(.negative))
        XCTAssertEqual(m("17592186044416"), .failure(.outOfRange))   // 2^44 MiB = 2^64 bytes
    }
}
