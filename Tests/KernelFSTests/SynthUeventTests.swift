import XCTest

@testable import KernelFS
@testable import MemoryModel

/// A memory block's (and the memory root's) `uevent` store: 6.1's `kobject_synth_uevent`
/// grammar (lib/kobject_uevent.c) and the two kernel messages of a refusal.
final class SynthUeventTests: XCTestCase {
    static let uuid = "12345678-1234-1234-1234-123456789abc"

    func testTheArgumentsAreKernelWordsAndARefusalIsLogged() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 1))
        let fs = KernelFS(machine: m)
        let file = "/sys/devices/system/memory/memory3/uevent"
        func result(_ v: String) -> String {
            do { return "\(try fs.write(file, v))" } catch let e as KernelError { return e.errno.symbol } catch {
                return "\(error)"
            }
        }
        // Accepted: one trailing newline or none, pairs of isalnum words.
        for v in ["change\n", "add \(Self.uuid)\n", "add \(Self.uuid) A=b C1=d2\n", "online \(Self.uuid) K=v"] {
            XCTAssertEqual(result(v), "\(v.utf8.count)", v)
        }
        // action_arg_word_end refuses an empty or non-alphanumeric KEY or VALUE, and the
        // loop wants exactly one space before each pair.
        for v in [
            "add \(Self.uuid) A=\n", "add \(Self.uuid) A_B=c\n", "add \(Self.uuid) A=b-c\n", "add \(Self.uuid) =b\n",
            "add \(Self.uuid) A=b \n", "add \(Self.uuid)  A=b\n", "add \(Self.uuid) A\n", "add \(Self.uuid)x\n",
            "add \n", "add not-a-uuid\n", "explode\n", "\n", "Add\n"
        ] {
            XCTAssertEqual(result(v), "EINVAL", v)
        }
        let before = m.kmsg.count
        XCTAssertEqual(result("add \(Self.uuid) A=\n"), "EINVAL")
        XCTAssertEqual(result("explode\n"), "EINVAL")
        XCTAssertThrowsError(try fs.write("/sys/devices/system/memory/uevent", "bogus\n"))
        XCTAssertEqual(
            Array(m.kmsg[before...]),
            [
                "<4>synth uevent: /devices/system/memory/memory3: incorrect uevent action arguments",
                "<3>memory memory3: uevent: failed to send synthetic uevent: -22",
                "<4>synth uevent: /devices/system/memory/memory3: unknown uevent action string",
                "<3>memory memory3: uevent: failed to send synthetic uevent: -22",
                // The subsystem's root device has no bus or class: dev_driver_string is "".
                "<4>synth uevent: /devices/system/memory: unknown uevent action string",
                "<3> memory: uevent: failed to send synthetic uevent: -22"
            ])
    }
}
