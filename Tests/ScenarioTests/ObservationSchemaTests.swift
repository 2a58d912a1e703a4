import Foundation
import XCTest

@testable import Scenario

/// Both runners write `ObservationSchema`'s kinds with its keys in its order: the committed
/// kernel logs (written by memhp-guest.c and the kernel runner) and the model's logs.
final class ObservationSchemaTests: XCTestCase {
    func testEveryKernelFixtureFitsTheSchema() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.conformance.path)
            .filter { $0.hasSuffix(".txt") && $0.contains(".kernel.") }.sorted()  // fixtures and their variants
        XCTAssertGreaterThanOrEqual(names.count, 33, "fixtures missing from \(Fixtures.conformance.path)")
        var lines = 0
        for name in names {
            let text = try String(contentsOf: Fixtures.conformance.appendingPathComponent(name), encoding: .utf8)
            let parsed = ObservationLog.parse(text)
            XCTAssertEqual(parsed.bad, [], "\(name): unparsable lines")
            for e in parsed.log.entries {
                lines += 1
                if let v = ObservationSchema.violation(e.observation) { XCTFail("\(name):\(e.line): \(v)") }
            }
        }
        XCTAssertGreaterThan(lines, 5000)
    }

    func testTheModelLogFitsTheSchema() throws {
        let sc = try Scenario.parse(
            """
            mem: 1G
            maxmem: 4G
            ---
            step one
            write $MEM/memory7/state foo
            write-raw $MEM/auto_online_blocks offline
            offline 5 5
            read $MEM/block_size_bytes
            read /proc/nonexistent
            dimm-add d1 256M
            online 32 online_movable
            hold anon a 4M
            hold ramfs r 1M node=0
            release a
            fill-kernel 0 20000
            dump all params layout pageflags:0,32,99
            dimm-del d1 5
            sleep 0.5
            """, file: "inline.scn")
        let r = ModelRunner(scenario: sc).run()
        let parsed = ObservationLog.parse(r.text)
        XCTAssertEqual(parsed.bad, [])
        var kinds: Set<String> = []
        for e in parsed.log.entries {
            kinds.insert(e.observation.kind)
            if let v = ObservationSchema.violation(e.observation) {
                XCTFail("line \(e.line): \(v): \(r.lines[e.line - 1])")
            }
        }
        for k in [
            "step", "write", "read", "hotplug", "hold", "release", "fill", "block", "meminfo", "zone", "buddy",
            "hugepages", "hstate", "vmstat", "param", "iomem", "pageflags", "end"
        ] {
            XCTAssertTrue(kinds.contains(k), "the model wrote no \(k) line")
        }
    }

    func testViolations() {
        XCTAssertNil(ObservationSchema.violation(Observation("block", [.init("idx", "3"), .init("state", "absent")])))
        XCTAssertNotNil(
            ObservationSchema.violation(Observation("block", [.init("state", "absent"), .init("idx", "3")])))
        XCTAssertNotNil(ObservationSchema.violation(Observation("block", [.init("colour", "red")])))
        XCTAssertNotNil(ObservationSchema.violation(Observation("frobnicate")))
        XCTAssertNil(ObservationSchema.violation(Observation("dmesg", text: "[    0.000000] Zone ranges:")))
        XCTAssertFalse(ObservationSchema.isCompared("kmsg"))
        XCTAssertFalse(ObservationSchema.isCompared("unsupported"))
        XCTAssertTrue(ObservationSchema.isCompared("zone"))
    }
}
