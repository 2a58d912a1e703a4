import XCTest

@testable import Benchmarks

/// `memhp bench --host` against a fake root: the host's files behind `HostFiles`, so the
/// refusal and restore logic runs without root and without touching this machine's kernel.
final class HostBenchTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "memhp-hostbench-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/proc/sys/vm", withIntermediateDirectories: true)
        try "3\n".write(toFile: root + "/proc/sys/vm/nr_hugepages", atomically: false, encoding: .utf8)
        try "1\n".write(toFile: root + "/proc/sys/vm/hugetlb_optimize_vmemmap", atomically: false, encoding: .utf8)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func contents(_ rel: String) throws -> String { try String(contentsOfFile: root + "/" + rel, encoding: .utf8) }

    func testRefusesWithoutRootAndChangesNothing() throws {
        XCTAssertThrowsError(try HostHugetlbBench.run(files: HostFiles(root: root), isRoot: false)) {
            XCTAssertEqual($0 as? HostBenchError, .notRoot)
        }
        XCTAssertEqual(try contents(HostFiles.nrHugepages), "3\n")
    }

    func testRefusesWhenAFileIsMissing() throws {
        try FileManager.default.removeItem(atPath: root + "/proc/sys/vm/hugetlb_optimize_vmemmap")
        XCTAssertThrowsError(try HostHugetlbBench.run(files: HostFiles(root: root), isRoot: true)) {
            XCTAssertEqual($0 as? HostBenchError, .missing(self.root + "/proc/sys/vm/hugetlb_optimize_vmemmap"))
        }
        XCTAssertEqual(try contents(HostFiles.nrHugepages), "3\n")
    }

    /// A full run writes base+2048 and base for each HVO setting, in that order, and leaves
    /// both files as they were.
    func testRunRestoresBothSettings() throws {
        var writes: [String] = []
        let t = try HostHugetlbBench.run(files: HostFiles(root: root), pages: 2048, runs: 2, isRoot: true) { rel, v in
            writes.append("\(rel.split(separator: "/").last!)=\(v)")
        }
        XCTAssertEqual(
            writes,
            [
                "hugetlb_optimize_vmemmap=0", "nr_hugepages=2051", "nr_hugepages=3", "nr_hugepages=2051",
                "nr_hugepages=3",
                "hugetlb_optimize_vmemmap=1", "nr_hugepages=2051", "nr_hugepages=3", "nr_hugepages=2051",
                "nr_hugepages=3"
            ])
        XCTAssertEqual(t.map(\.hvo), [false, true])
        XCTAssertEqual(t.map(\.grown), [2048, 2048])
        XCTAssertEqual(try contents(HostFiles.nrHugepages), "3\n")
        XCTAssertEqual(try contents(HostFiles.optimizeVmemmap), "1\n")
    }

    /// Interrupted after the pool grew with HVO switched off: both settings come back.
    func testInterruptedRunRestores() throws {
        struct Interrupted: Error {}
        XCTAssertThrowsError(
            try HostHugetlbBench.run(files: HostFiles(root: root), isRoot: true) { rel, v in
                if rel == HostFiles.nrHugepages && v == "2051" { throw Interrupted() }
            })
        XCTAssertEqual(try contents(HostFiles.nrHugepages), "3\n")
        XCTAssertEqual(try contents(HostFiles.optimizeVmemmap), "1\n")
    }

    /// The guard the signal handlers call: restores every saved value once, pool size first
    /// undone last-saved-first, and reports files it could not write.
    func testGuardRestoreIsIdempotentAndReportsFailures() throws {
        let files = HostFiles(root: root)
        let g = try HostSettingsGuard(files: files, save: [HostFiles.optimizeVmemmap, HostFiles.nrHugepages])
        try files.write(HostFiles.nrHugepages, "100")
        try files.write(HostFiles.optimizeVmemmap, "0")
        XCTAssertEqual(g.restore(), [])
        XCTAssertEqual(try contents(HostFiles.nrHugepages), "3\n")
        XCTAssertEqual(try contents(HostFiles.optimizeVmemmap), "1\n")
        try files.write(HostFiles.nrHugepages, "7")
        XCTAssertEqual(g.restore(), [], "a second restore does nothing")
        XCTAssertEqual(try contents(HostFiles.nrHugepages), "7\n")

        let g2 = try HostSettingsGuard(files: files, save: [HostFiles.nrHugepages])
        try FileManager.default.removeItem(atPath: root + "/proc/sys/vm")
        XCTAssertEqual(g2.restore(), [root + "/proc/sys/vm/nr_hugepages"])
    }
}
