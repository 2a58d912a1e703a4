import Foundation
import MemhpTestSupport
import XCTest

@testable import memhp

/// `memhp run FILE` given a damaged scenario: a few hundred seeded mutants of one that uses
/// every header line and step kind on a small machine. Each runs, or is refused with
/// FILE:LINE and status 2, or ends with status 1 when the guest did not complete (the log's
/// `end completed=0`); never a trap.
final class ScenarioMutationTests: XCTestCase {
    static let scenario = """
        # every statement kind on a small machine
        description: mutation base
        mem: 512M
        maxmem: 2G
        slots: 2
        node: 0 256M
        node: 1 256M
        distance: 0 1 20
        dimm: d1 256M node=0
        virtio-mem: vm0 size=256M requested=128M node=0 block=2M
        append: hugetlb_free_vmemmap=on
        cpu: gbpages
        module: memory-notifier-error-inject
        timeout: 60
        seed: 7
        ---
        step one
        write /proc/sys/vm/nr_hugepages 8
        write-raw $MEM/memory33/state online_movable
        read /proc/sys/vm/nr_hugepages
        online 32 online_movable
        hold anon a1 16M node=0
        hold slab s1 4M
        offline 32 2
        release a1
        dimm-add d2 128M node=0
        dimm-del d2 5
        vmem-resize vm0 0 10
        fill-kernel 0 60000 id=f
        release f
        sleep 0.5
        dump blocks:32-33 meminfo hugepages

        """

    func testDamagedScenariosAreRefusedWithFileAndLine() throws {
        let dir = try MemhpBinary.temporaryDirectory("scn-mutants")
        let path = dir.path + "/base.scn"
        let valid = Array(Self.scenario.utf8)
        try Data(valid).write(to: URL(fileURLWithPath: path))
        let run = try InProcessCLI.Parsed(["run", path])
        let sound = run.run(in: dir.path)
        XCTAssertEqual(sound.status, 0, sound.err)
        XCTAssertTrue(sound.out.contains("end completed=1"), sound.out)
        let rule = MalformedInput(path: path)
        var outcomes: [Int32: Int] = [:]
        for m in InputMutation.mutants(of: valid, count: 200, seed: 0x5EED_0101) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = run.run(in: dir.path)
            var ended = rule
            ended.refused = { _ in r.out.contains("\nend completed=0 ") }
            ended.check(r, m.what)
            outcomes[r.status, default: 0] += 1
        }
        XCTAssertGreaterThan(outcomes[2] ?? 0, 100, "\(outcomes)")
        try FileManager.default.removeItem(atPath: path)
        let missing = InProcessCLI.run(["run", path], in: dir.path)
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.err, "memhp: cannot read \(path): No such file or directory\n")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let isDir = InProcessCLI.run(["run", path], in: dir.path)
        XCTAssertEqual(isDir.status, 2)
        XCTAssertEqual(isDir.err, "memhp: cannot read \(path): Is a directory\n")
        try? FileManager.default.removeItem(at: dir)
    }

    /// A few mutants through the built binary: no signal, status 0, 1 or 2 as above.
    func testDamagedScenariosThroughTheBinary() throws {
        let dir = try MemhpBinary.temporaryDirectory("scn-binary")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.path + "/base.scn"
        for m in InputMutation.mutants(of: Array(Self.scenario.utf8), count: 6, seed: 0x5EED_0102) {
            try Data(m.bytes).write(to: URL(fileURLWithPath: path))
            let r = try MemhpBinary.run(["run", path])
            XCTAssertFalse(r.signaled, "\(m.what): signal \(r.status): \(r.err)")
            XCTAssertTrue((0...2).contains(r.status), "\(m.what): status \(r.status): \(r.err)")
            if r.status == 2 { XCTAssertTrue(r.err.contains(path + ":"), "\(m.what): \(r.err)") }
        }
    }
}
