import Foundation
import XCTest

@testable import Conformance
@testable import Scenario

/// The diff on synthetic logs, and the model runner's determinism and log format. The committed
/// scenarios against their fixtures are `ScenarioConformanceTests`, one test each.
final class ConformanceTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let dir = root.appendingPathComponent("tests/conformance")

    static func scenarioFiles() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        return names.filter { $0.hasSuffix(".scn") }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func load(_ url: URL) throws -> Scenario {
        try Scenario.parse(
            try String(contentsOf: url, encoding: .utf8), file: "tests/conformance/" + url.lastPathComponent)
    }

    /// The kind of a step, for picking scenarios that together use every kind.
    static func stepKind(_ s: Step) -> String {
        switch s {
        case .dump(let items): return "dump " + items.map(\.keyword).joined(separator: " ")
        default: return String(s.line.prefix(while: { $0 != " " }))
        }
    }

    /// Same scenario, same seed: byte-identical logs (no wall time or host state leaks in).
    /// Checked on the committed scenarios that between them use every step kind.
    func testSameSeedGivesByteIdenticalLogs() throws {
        let files = try Self.scenarioFiles()
        XCTAssertFalse(files.isEmpty, "no scenarios in tests/conformance")
        var covered: Set<String> = []
        for url in files {
            let sc = try Self.load(url)
            let kinds = Set(sc.steps.map(Self.stepKind))
            guard !kinds.isSubset(of: covered) else { continue }
            covered.formUnion(kinds)
            let a = ModelRunner(scenario: sc).run(), b = ModelRunner(scenario: sc).run()
            XCTAssertEqual(a.text, b.text, "\(sc.name): two runs with seed \(sc.machine.seed) differ")
            XCTAssertEqual(a.explain, b.explain, "\(sc.name): explain logs differ")
        }
    }

    /// Every line the model writes is a well-formed observation, in the kernel runner's key order.
    func testModelLogIsWellFormed() throws {
        let sc = try Scenario.parse(
            """
            mem: 1G
            ---
            dump params layout
            step s
            write $MEM/memory7/state foo
            write-raw $MEM/auto_online_blocks offline
            offline 0 5
            read $MEM/block_size_bytes
            read /proc/nonexistent
            dump all
            sleep 1.5
            """, file: "inline.scn")
        let r = ModelRunner(scenario: sc).run()
        let log = ObservationLog.parse(r.text)
        XCTAssertEqual(log.bad, [], "unparsable model lines")
        let obs = log.log.entries.map(\.observation)
        XCTAssertEqual(obs.first(where: { $0.kind == "step" })?.line, "step n=1 label=\"s\"")
        let writes = obs.filter { $0.kind == "write" }
        XCTAssertEqual(writes.count, 3)
        if writes.count == 3 {
            XCTAssertEqual(writes[0].fields.map(\.key), ["path", "value", "rc", "errno", "elapsed_cs", "err"])
            XCTAssertEqual(writes[1].fields.map(\.key), ["path", "value", "nonl", "rc", "errno", "elapsed_cs", "err"])
            XCTAssertEqual(
                writes[2].fields.map(\.key),
                ["path", "value", "timeout_s", "timed_out", "rc", "errno", "elapsed_cs", "err"])
            for w in writes {
                if w["errno"] == "0" {
                    XCTAssertEqual(w["err"], "")
                } else {
                    XCTAssert(w["err"]!.hasPrefix("sh: write error: "), w.line)
                }
            }
        }
        XCTAssertEqual(obs.first(where: { $0.kind == "read" && $0["path"] == "/proc/nonexistent" })?["errno"], "ENOENT")
        XCTAssertEqual(obs.last?.kind, "end")
        XCTAssertEqual(obs.filter { $0.kind == "scenario_exit" }.count, 1)
        // The virtual clock moved by the sleep (plus whatever the writes took).
        XCTAssertGreaterThanOrEqual(r.virtualNanoseconds, 1_500_000_000)
    }

    // MARK: - The diff itself (synthetic logs: no model needed)

    static let kernelLog = """
        # memhp observations v1
        guest uname="6.1.0-56-amd64"
        dmesg [    0.050756] Zone ranges:
        stage name=scenario-start
        param path=/proc/sys/vm/min_free_kbytes value="45056"
        step n=1 label="x"
        write path=/sys/devices/system/memory/memory35/state value="foo" rc=1 errno=EINVAL elapsed_cs=1
        block idx=32 phys_index=0x00000020 state=online valid_zones="Movable" removable=1 node=0 phys_device=0
        block idx=33 phys_index=0x00000021 state=offline valid_zones="Normal Movable" removable=1 node=0 phys_device=0
        zone node=0 zone=DMA32 free=212192 pcp=2416 min=11073 low=13841 high=16609 spanned=258016 present=258016 managed=225520 protection=0,0,0,0,0 start_pfn=4096
        hugepages sysctl_nr_hugepages=118 nr_hugepages=118 free=118 resv=0 surplus=0 overcommit=0 meminfo_total=118 MemFree=864000 MemTotal=917440
        kmsg prio=4 msg="sh: page allocation failure"
        scenario_exit rc=0
        end completed=1 scenario_rc=0 qemu_rc=0 boot_s=7.7 total_s=8.4 build_s=0.1
        """

    func report(_ model: String, ranges: [RangeRule] = []) -> DiffReport {
        ObservationDiff.diff(
            scenario: "t", kernel: ObservationLog.parse(Self.kernelLog).log, model: ObservationLog.parse(model).log,
            ranges: ranges)
    }

    func testAKernelLogAgreesWithItself() {
        let r = report(Self.kernelLog)
        XCTAssertTrue(r.passed, r.render())
        XCTAssertEqual(r.compared, 8)
        XCTAssertEqual(r.kernelSeconds, 8.4)
    }

    func testVolatileAndKernelOnlyAreIgnoredCountersTolerated() {
        let model = Self.kernelLog
            .replacingOccurrences(of: "elapsed_cs=1", with: "elapsed_cs=0 err=\"sh: write error: Invalid argument\"")
            .replacingOccurrences(of: "pcp=2416", with: "pcp=0")
            .replacingOccurrences(of: "free=212192", with: "free=211000")  // −0.56%: within 1%
            .replacingOccurrences(of: "total_s=8.4", with: "total_s=0.0")
            .replacingOccurrences(of: "kmsg prio=4 msg=\"sh: page allocation failure\"\n", with: "")
            .replacingOccurrences(of: "guest uname=\"6.1.0-56-amd64\"\n", with: "")
        let r = report(model)
        XCTAssertTrue(r.passed, r.render())
    }

    /// KernelVariants: the model passes against any one recorded kernel output, and a failing
    /// model is reported against the closest one (fewest structural differences); the files are
    /// found as NAME.kernel.txt, NAME.kernel.2.txt, ... and nothing without the fixture.
    func testKernelVariantsPassAgainstAnyOneAndReportTheClosest() throws {
        let second = Self.kernelLog.replacingOccurrences(
            of: "nr_hugepages=118 free=118", with: "nr_hugepages=124 free=124")
        let kernels = [Self.kernelLog, second]
        let agreesWithSecond = ObservationLog.parse(second).log
        var r = KernelVariants.closest(scenario: "t", kernels: kernels, model: agreesWithSecond) { _ in [] }
        XCTAssertTrue(r.passed, r.render())
        XCTAssertEqual(r.variant, 2)
        XCTAssertEqual(r.variants, 2)
        XCTAssertTrue(r.render().contains("against kernel run 2 of 2"))
        // Closer to the second (one structural difference, the first has three) but equal to neither.
        let near = second.replacingOccurrences(of: "spanned=258016", with: "spanned=258015")
        r = KernelVariants.closest(scenario: "t", kernels: kernels, model: ObservationLog.parse(near).log) { _ in [] }
        XCTAssertFalse(r.passed)
        XCTAssertEqual(r.variant, 2)
        XCTAssertEqual(r.differences.map { $0.key ?? "" }, ["spanned"])

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("variants-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(KernelVariants.paths(dir: dir, stem: "t"), [])
        try second.write(toFile: dir + "/t.kernel.2.txt", atomically: true, encoding: .utf8)
        XCTAssertEqual(KernelVariants.paths(dir: dir, stem: "t"), [], "a variant without the fixture is not read")
        try Self.kernelLog.write(toFile: dir + "/t.kernel.txt", atomically: true, encoding: .utf8)
        try second.write(toFile: dir + "/t.kernel.4.txt", atomically: true, encoding: .utf8)
        XCTAssertEqual(KernelVariants.paths(dir: dir, stem: "t"), [dir + "/t.kernel.txt", dir + "/t.kernel.2.txt"])
    }

    func testStructuralDifferencesAreReported() {
        let model = Self.kernelLog
            .replacingOccurrences(of: "valid_zones=\"Normal Movable\"", with: "valid_zones=\"Movable Normal\"")
            .replacingOccurrences(of: "errno=EINVAL", with: "errno=EBUSY")
            .replacingOccurrences(of: "nr_hugepages=118 free=118", with: "nr_hugepages=118 free=117")
            .replacingOccurrences(of: "spanned=258016", with: "spanned=258015")
        let r = report(model)
        XCTAssertFalse(r.passed)
        XCTAssertEqual(Set(r.differences.map { $0.key ?? "" }), ["valid_zones", "errno", "free", "spanned"])
        XCTAssertTrue(r.differences.allSatisfy { $0.kind == .structural })
    }

    func testCountersOutsideToleranceAndMissingLines() {
        let model = Self.kernelLog
            .replacingOccurrences(of: "min=11073", with: "min=5557")
            .replacingOccurrences(
                of:
                    "block idx=33 phys_index=0x00000021 state=offline valid_zones=\"Normal Movable\" removable=1 node=0 phys_device=0\n",
                with: ""
            )
            .replacingOccurrences(
                of: "scenario_exit",
                with:
                    "block idx=40 phys_index=0x00000028 state=offline valid_zones=\"Normal Movable\" removable=1 node=0 phys_device=0\nscenario_exit"
            )
        let r = report(model)
        XCTAssertEqual(r.differences.filter { $0.kind == .counter }.map { $0.key }, ["min"])
        XCTAssertEqual(r.differences.filter { $0.kind == .missing }.map(\.subject), ["block idx=33"])
        XCTAssertEqual(r.differences.filter { $0.kind == .extra }.map(\.subject), ["block idx=40"])
    }

    /// A node's meminfo is a counter table like /proc/meminfo: compared number by number within
    /// the page tolerance, labels exactly. The figures are two kernel runs of two-nodes-1g
    /// (node1/meminfo MemFree 409480 and 409696 kB, Slab 1952 and 1492 kB).
    func testNodeMeminfoIsComparedAsCounters() {
        func log(_ path: String, _ free: Int, _ slab: Int, label: String = "MemFree") -> ObservationLog {
            let v =
                "Node 1 MemTotal:         449436 kB\\nNode 1 \(label):          \(free) kB\\nNode 1 Slab:    \(slab) kB"
            return ObservationLog.parse("read path=\(path) value=\"\(v)\"\n").log
        }
        func agrees(_ k: ObservationLog, _ m: ObservationLog) -> Bool {
            ObservationDiff.diff(scenario: "t", kernel: k, model: m, ranges: []).passed
        }
        let node = "/sys/devices/system/node/node1/meminfo"
        XCTAssertTrue(ConformanceRules.isNodeCounterTable(node))
        XCTAssertTrue(ConformanceRules.isNodeCounterTable("/sys/devices/system/node/node12/vmstat"))
        XCTAssertFalse(ConformanceRules.isNodeCounterTable("/sys/devices/system/node/node1/distance"))
        XCTAssertFalse(ConformanceRules.isNodeCounterTable("/sys/devices/system/node/nodeX/meminfo"))
        XCTAssertFalse(ConformanceRules.isNodeCounterTable("/sys/devices/system/node/node1/x/meminfo"))
        XCTAssertTrue(agrees(log(node, 409480, 1952), log(node, 409696, 1952)), "MemFree within 1%")
        XCTAssertFalse(agrees(log(node, 409480, 1952), log(node, 409480, 1492)), "Slab 24% off")
        XCTAssertFalse(agrees(log(node, 409480, 1952), log(node, 409480, 1952, label: "MemUsed")), "labels exact")
        let other = "/sys/devices/system/node/node1/cpulist"
        XCTAssertFalse(agrees(log(other, 409480, 1952), log(other, 409696, 1952)), "other files exact")
    }

    func testUnsupportedStepsAreListedAndTheirObservationsMissing() {
        let k =
            "step n=1 label=\"h\"\nhotplug action=dimm-add id=d3 size=536870912 node=0 addr=0x140000000 blocks=40-43 ost=0 ok=1 elapsed_s=0.3\n"
        let m = "step n=1 label=\"h\"\nunsupported step=\"dimm-add d3 512M node=0\" reason=\"no API\"\n"
        let r = ObservationDiff.diff(
            scenario: "t", kernel: ObservationLog.parse(k).log, model: ObservationLog.parse(m).log)
        XCTAssertEqual(r.unsupported, ["dimm-add d3 512M node=0"])
        XCTAssertEqual(r.differences.map(\.kind), [.missing])
    }

    func testRangesWidenWhatIsAccepted() throws {
        let model = Self.kernelLog.replacingOccurrences(
            of: "nr_hugepages=118 free=118", with: "nr_hugepages=110 free=118")
        XCTAssertFalse(report(model).passed)
        let rules = try RangeRule.parseFile(
            """
            # the dissolve count depends on the filler's margin
            range hugepages step=1 : nr_hugepages=107..118 MemFree=*   # ±30 pages of margin
            range block idx=33 : valid_zones="Normal Movable"|"Movable Normal"
            """)
        XCTAssertEqual(rules.count, 2)
        XCTAssertEqual(rules[0].reason, "±30 pages of margin")
        XCTAssertEqual(rules[0].step, 1)
        XCTAssertTrue(report(model, ranges: rules).passed, report(model, ranges: rules).render())
        // Out of range is a difference; a rule for another step does not apply.
        let far = Self.kernelLog.replacingOccurrences(
            of: "nr_hugepages=118 free=118", with: "nr_hugepages=100 free=118")
        XCTAssertEqual(report(far, ranges: rules).differences.map(\.kind), [.range])
        let other = try RangeRule.parseFile("range hugepages step=2 : nr_hugepages=107..118")
        XCTAssertEqual(report(model, ranges: other).differences.map(\.kind), [.structural])
        // Embedded in a fixture as comments.
        let embedded = try RangeRule.parseEmbedded("# range hugepages : nr_hugepages=100..120\nstep n=1 label=\"x\"\n")
        XCTAssertEqual(embedded.first?.allowed(for: "nr_hugepages"), .numeric(100, 120))
        XCTAssertThrowsError(try RangeRule.parseFile("range hugepages nr_hugepages=1..2")) { e in
            XCTAssertEqual((e as? RangeRule.ParseError)?.line, 1)
        }
        XCTAssertThrowsError(try RangeRule.parseFile("range zone : free=9..1"))
    }

    func testExpectedFailuresAndStatus() {
        let e = ExpectedFailures.parse("# comment\ne-offline-hvo   needs HVO restore under pressure\n\n")
        XCTAssertEqual(e.reason("e-offline-hvo"), "needs HVO restore under pressure")
        XCTAssertNil(e.reason("a-baseline"))
        XCTAssertEqual(ConformanceStatus(passed: true, expected: true), .unexpectedPass)
        XCTAssertFalse(ConformanceStatus.unexpectedPass.ok)
        XCTAssertTrue(ConformanceStatus.expectedFailure.ok)
        XCTAssertEqual(ConformanceFormat.ratio(1, 3), "1/3 (33.3%)")
        // A listed failure is printed as such, never as `FAIL`.
        var failing = DiffReport(scenario: "a")
        failing.differences = [
            Difference(
                kind: .missing, step: 1, kernelLine: 3, modelLine: nil, subject: "block idx=3", key: nil,
                kernelValue: nil, modelValue: nil, note: "")
        ]
        XCTAssertTrue(failing.render().hasPrefix("a: FAIL — "))
        XCTAssertTrue(failing.render(status: .expectedFailure).hasPrefix("a: expected-fail — "))
        XCTAssertFalse(failing.render(status: .expectedFailure).contains("FAIL"))
        let table = ConformanceFormat.markdownTable([(DiffReport(scenario: "a"), .pass)])
        XCTAssert(table.contains("| a | 0 | - | - | pass |"), table)
    }

    func testTolerance() {
        XCTAssertTrue(Tolerance.pages.accepts(kernel: 11073, model: 11183))  // 110 = 0.99%
        XCTAssertFalse(Tolerance.pages.accepts(kernel: 11073, model: 11200))
        XCTAssertTrue(Tolerance.pages.accepts(kernel: 190, model: 205))  // absolute slack 16
        XCTAssertTrue(ObservationDiff.counterAgrees("0,880,880", "0,879,881", .pages))
        XCTAssertFalse(ObservationDiff.counterAgrees("0,880,880", "0,880", .pages))
        // Any two numbers a damaged log holds: the distance of Int.max and -1 is 2^63 (it
        // overflowed Int), 1% of |Int.min| is 9.2e16.
        XCTAssertFalse(Tolerance.pages.accepts(kernel: Int.max, model: -1))
        XCTAssertFalse(Tolerance.pages.accepts(kernel: -1, model: Int.max))
        XCTAssertFalse(Tolerance.pages.accepts(kernel: Int.min, model: 0))
        XCTAssertTrue(Tolerance.pages.accepts(kernel: Int.min, model: Int.min / 100 * 99))
        XCTAssertTrue(ObservationDiff.counterAgrees("9223372036854775807", "9223372036854775800", .pages))
    }

    func testVirtualTimeFormatting() {
        XCTAssertEqual(ModelRunner.seconds(8_449_999_999, decimals: 1), "8.4")
        XCTAssertEqual(ModelRunner.seconds(8_450_000_000, decimals: 1), "8.5")
        XCTAssertEqual(ModelRunner.seconds(0, decimals: 1), "0.0")
        XCTAssertEqual(ModelRunner.timestamp(50_812_000), "    0.050812")
        XCTAssertEqual(GuestReading.strtol("  0x8000000", radix: 16), 0x8000000)
        XCTAssertEqual(GuestReading.strtol("-12abc", radix: 10), -12)
        XCTAssertEqual(GuestReading.strtol("", radix: 10), 0)
    }

    /// A scenario that counts pages per block has the runner make its buffers resident first
    /// (GuestFootprint); every kernel run of it says how many pages that took (`@prefault`, by
    /// mincore in the guest), and the model allocates that many (the stack's within a page).
    func testPrefaultedRunnerPagesMatchTheModelsFootprint() throws {
        var checked = 0
        for url in try Self.scenarioFiles() {
            let sc = try Self.load(url)
            let groups = GuestProgram(sc).prefault
            guard !groups.isEmpty else { continue }
            let stem = url.deletingPathExtension().lastPathComponent
            let runs = KernelVariants.paths(dir: Self.dir.path, stem: stem)
            XCTAssertFalse(runs.isEmpty, "\(stem): no kernel fixture")
            for path in runs {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("# guest: @prefault ") })
                else {
                    XCTFail("\(path): recorded by a runner that did not prefault (re-record it)")
                    continue
                }
                var got: [String: Int] = [:]
                for f in line.split(separator: " ").dropFirst(3) {
                    let kv = f.split(separator: "=")
                    if kv.count == 2, let v = Int(kv[1]) { got[String(kv[0])] = v }
                }
                for g in GuestFootprint.Group.allCases {
                    XCTAssertEqual(got[g.rawValue], groups.contains(g) ? g.pages : 0, "\(path): group \(g.rawValue)")
                }
                XCTAssertEqual(got["fbuf"], GuestFootprint.fileBufferPages, "\(path): file buffer")
                // The stack's random sub-page offset can share one more of the array's pages with
                // frames already touched (14 in one run of 20).
                XCTAssertLessThanOrEqual(abs((got["stack"] ?? 0) - GuestFootprint.stackPages), 1, "\(path): stack")
                XCTAssertEqual(got["heap"], GuestFootprint.heapPages, "\(path): heap")
                XCTAssertLessThanOrEqual(abs(got.values.reduce(0, +) - GuestFootprint.pages(groups)), 1, path)
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 10, "no fixture recorded with a prefaulting runner")
    }
}
