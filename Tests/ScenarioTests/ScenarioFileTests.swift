import MemoryModel
import XCTest

@testable import Scenario

final class ScenarioFileTests: XCTestCase {
    let full = """
        # b. hot-add, two nodes
        description: 1G boot on two nodes; a DIMM; virtio-mem
        mem: 1G
        maxmem: 8G
        slots: 4
        node: 0 768M
        node: 1 256M
        distance: 0 1 21
        dimm: dimm1 512M
        dimm: dimm2 512M node=1
        virtio-mem: vm0 size=2G requested=0 node=0
        append: movablecore=256M
        append: memhp_default_state=online
        cpu: gbpages
        module: memory-notifier-error-inject
        timeout: 240
        seed: 7
        ---
        step online-each-way        # a comment
        online 32 online_movable
        online 33
        offline 32 60
        offline 33
        write $MEM/memory35/state ""
        write $MEM/memory35/state "online_movable "
        write-raw $MEM/memory35/state online_movable
        write $VM/nr_hugepages 64 timeout=120
        write /sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error '-16'
        read $MEM/block_size_bytes
        dimm-add dimm3 512M node=1
        dimm-del dimm3 30
        dimm-del dimm1
        vmem-resize vm0 512M
        vmem-resize vm0 0 60
        hold anon a1 64M node=0
        hold shmem s1 8M
        hold ramfs r1 16M node=1
        hold pinned p1 4M
        release a1
        fill-kernel 0 50
        release fill
        fill-kernel 1 0 id=f1
        dump blocks:32-35,40 meminfo zoneinfo buddyinfo hugepages pageflags:32 params layout vmstat
        dump all
        sleep 0.5
        """

    func testFullFile() throws {
        let s = try Scenario.parse(full, file: "tests/conformance/x-full.scn")
        XCTAssertEqual(s.name, "x-full")
        XCTAssertEqual(s.description, "1G boot on two nodes; a DIMM; virtio-mem")
        XCTAssertEqual(s.machine.memBytes, 1 << 30)
        XCTAssertEqual(s.machine.maxmemBytes, 8 << 30)
        XCTAssertEqual(
            s.machine.nodes, [NodeConfig(id: 0, memBytes: 768 << 20), NodeConfig(id: 1, memBytes: 256 << 20)])
        XCTAssertEqual(s.machine.distances, [[10, 21], [21, 10]])
        XCTAssertEqual(
            s.machine.dimms,
            [DIMMConfig(id: "dimm1", sizeBytes: 512 << 20), DIMMConfig(id: "dimm2", sizeBytes: 512 << 20, node: 1)])
        XCTAssertEqual(s.machine.virtioMem, [VirtioMemConfig(id: "vm0", regionBytes: 2 << 30)])
        XCTAssertEqual(s.machine.cmdline, "movablecore=256M memhp_default_state=online")
        XCTAssertTrue(s.machine.gbpages)
        XCTAssertEqual(s.machine.seed, 7)
        XCTAssertEqual(s.modules, [.init(name: "memory-notifier-error-inject")])
        XCTAssertEqual(s.timeoutSeconds, 240)
        XCTAssertEqual(s.steps.count, 27)
        XCTAssertEqual(s.stepLines.first, 19)
        XCTAssertEqual(s.steps[0], .step(name: "online-each-way"))
        XCTAssertEqual(s.steps[1], .online(block: 32, type: .onlineMovable))
        XCTAssertEqual(s.steps[2], .online(block: 33, type: .online))
        XCTAssertEqual(s.steps[3], .offline(block: 32, timeoutSeconds: 60))
        XCTAssertEqual(s.steps[4], .offline(block: 33, timeoutSeconds: 30))
        XCTAssertEqual(
            s.steps[5],
            .write(path: "/sys/devices/system/memory/memory35/state", value: "", newline: true, timeoutSeconds: 60))
        XCTAssertEqual(
            s.steps[6],
            .write(
                path: "/sys/devices/system/memory/memory35/state", value: "online_movable ", newline: true,
                timeoutSeconds: 60))
        XCTAssertEqual(
            s.steps[7],
            .write(
                path: "/sys/devices/system/memory/memory35/state", value: "online_movable", newline: false,
                timeoutSeconds: 60))
        XCTAssertEqual(
            s.steps[8], .write(path: "/proc/sys/vm/nr_hugepages", value: "64", newline: true, timeoutSeconds: 120))
        XCTAssertEqual(
            s.steps[9],
            .write(
                path: "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error", value: "-16",
                newline: true, timeoutSeconds: 60))
        XCTAssertEqual(s.steps[10], .read(path: "/sys/devices/system/memory/block_size_bytes"))
        XCTAssertEqual(s.steps[11], .dimmAdd(id: "dimm3", sizeBytes: 512 << 20, node: 1))
        XCTAssertEqual(s.steps[12], .dimmDel(id: "dimm3", timeoutSeconds: 30))
        XCTAssertEqual(s.steps[13], .dimmDel(id: "dimm1", timeoutSeconds: 60))
        XCTAssertEqual(s.steps[14], .vmemResize(id: "vm0", sizeBytes: 512 << 20, timeoutSeconds: 120))
        XCTAssertEqual(s.steps[15], .vmemResize(id: "vm0", sizeBytes: 0, timeoutSeconds: 60))
        XCTAssertEqual(s.steps[16], .hold(kind: .anon, id: "a1", sizeBytes: 64 << 20, node: 0))
        XCTAssertEqual(s.steps[17], .hold(kind: .shmem, id: "s1", sizeBytes: 8 << 20, node: nil))
        XCTAssertEqual(s.steps[18], .hold(kind: .ramfs, id: "r1", sizeBytes: 16 << 20, node: 1))
        XCTAssertEqual(s.steps[19], .hold(kind: .pinned, id: "p1", sizeBytes: 4 << 20, node: nil))
        XCTAssertEqual(s.steps[20], .release(id: "a1"))
        XCTAssertEqual(s.steps[21], .fillKernel(node: 0, marginPages: 50, id: "fill"))
        XCTAssertEqual(s.steps[22], .release(id: "fill"))
        XCTAssertEqual(s.steps[23], .fillKernel(node: 1, marginPages: 0, id: "f1"))
        XCTAssertEqual(
            s.steps[24],
            .dump([
                .blocks([32, 33, 34, 35, 40]), .meminfo, .zones, .buddyinfo, .hugepages, .pageflags([32]), .params,
                .layout, .vmstat
            ]))
        XCTAssertEqual(s.steps[25], .dump(DumpItem.all))
        XCTAssertEqual(s.steps[26], .sleep(seconds: 0.5))
    }

    func testStepLineRoundTrips() throws {
        let s = try Scenario.parse(full, file: "x.scn")
        // Each step rendered back to file syntax parses to the same step (with the same header).
        let header = full.components(separatedBy: "---")[0] + "---\n"
        let text = header + s.steps.map(\.line).joined(separator: "\n")
        let again = try Scenario.parse(text, file: "x.scn")
        XCTAssertEqual(again.steps, s.steps)
    }

    func testDefaults() throws {
        let s = try Scenario.parse("---\n", file: "min.scn")
        XCTAssertEqual(s.machine.memBytes, 1 << 30)
        XCTAssertEqual(s.machine.maxmemBytes, 4 << 30)
        XCTAssertEqual(s.machine.slots, 4)
        XCTAssertEqual(s.machine.nodes, [])
        XCTAssertEqual(s.machine.cmdline, "")
        XCTAssertEqual(s.timeoutSeconds, Scenario.defaultTimeoutSeconds)
        XCTAssertEqual(s.steps, [])
    }

    func testQuoting() throws {
        let s = try Scenario.parse(
            """
            ---
            write $MEM/memory1/state 'a "b" c'
            write $MEM/memory1/state "tab\\there\\nnl \\$x \\\\ \\q"
            write-raw $VM/nr_hugepages "1 2"
            write $MEM/memory1/state x#y
            """, file: "q.scn")
        XCTAssertEqual(
            s.steps[0],
            .write(
                path: "/sys/devices/system/memory/memory1/state", value: "a \"b\" c", newline: true, timeoutSeconds: 60)
        )
        XCTAssertEqual(
            s.steps[1],
            .write(
                path: "/sys/devices/system/memory/memory1/state", value: "tab\there\nnl $x \\ \\q", newline: true,
                timeoutSeconds: 60))
        XCTAssertEqual(
            s.steps[2], .write(path: "/proc/sys/vm/nr_hugepages", value: "1 2", newline: false, timeoutSeconds: 60))
        XCTAssertEqual(
            s.steps[3],
            .write(path: "/sys/devices/system/memory/memory1/state", value: "x#y", newline: true, timeoutSeconds: 60))
    }

    func testSizes() {
        XCTAssertEqual(SizeParser.bytes("512M"), 512 << 20)
        XCTAssertEqual(SizeParser.bytes("1G"), 1 << 30)
        XCTAssertEqual(SizeParser.bytes("2048k"), 2 << 20)
        XCTAssertEqual(SizeParser.bytes("4096"), 4096)
        XCTAssertEqual(SizeParser.bytes("0"), 0)
        XCTAssertNil(SizeParser.bytes("G"))
        XCTAssertEqual(SizeParser.bytes("1.5G"), 3 << 29)
        XCTAssertNil(SizeParser.bytes("1.5"))
        XCTAssertNil(SizeParser.bytes("-1M"))
        XCTAssertNil(SizeParser.bytes("99999999999T"))
        XCTAssertEqual(SizeParser.format(512 << 20), "512M")
        XCTAssertEqual(SizeParser.format(3 << 30), "3G")
        XCTAssertEqual(SizeParser.format(4097), "4097B")
    }

    /// Each header size follows the QEMU option it stands for: `mem:` (-m) and `node:`
    /// (-numa node,mem=) read a bare number as MiB, `maxmem:` and device sizes as bytes.
    func testBareSizesFollowTheirQEMUOption() throws {
        let s = try Scenario.parse(
            """
            mem: 1536
            maxmem: 6442450944
            node: 0 1024
            node: 1 0.5G
            dimm: d1 536870912
            ---
            hold anon a1 1.5M
            """, file: "sizes.scn")
        XCTAssertEqual(s.machine.memBytes, 1536 << 20)
        XCTAssertEqual(s.machine.maxmemBytes, 6 << 30)
        XCTAssertEqual(s.machine.nodes.map(\.memBytes), [1 << 30, 512 << 20])
        XCTAssertEqual(s.machine.dimms.map(\.sizeBytes), [512 << 20])
        XCTAssertEqual(s.steps, [.hold(kind: .anon, id: "a1", sizeBytes: 3 << 19, node: nil)])
    }

    /// The largest slab hold is the last one whose message queue fits msgmnb, an int: 530,503
    /// messages of 4048 bytes need msgmnb = 530,504 x 4048 = 2,147,480,192 <= 2,147,483,647
    /// (one more message: 2,147,484,240, EINVAL). Other kinds have no such limit.
    func testSlabHoldUpToTheMsgmnbLimit() throws {
        XCTAssertEqual(HoldKind.slabMaxBytes, 530_503 * 4096)
        XCTAssertLessThanOrEqual((HoldKind.slabMaxBytes / 4096 + 1) * 4048, Int(Int32.max))
        XCTAssertGreaterThan((HoldKind.slabMaxBytes / 4096 + 2) * 4048, Int(Int32.max))
        let s = try Scenario.parse(
            "mem: 4G\nmaxmem: 8G\n---\nhold slab s1 2122012K\nhold anon a1 3G\n", file: "max.scn")
        XCTAssertEqual(
            s.steps,
            [
                .hold(kind: .slab, id: "s1", sizeBytes: 2_172_940_288, node: nil),
                .hold(kind: .anon, id: "a1", sizeBytes: 3 << 30, node: nil)
            ])
    }

    /// Every malformed case reports file:line and what was expected.
    func testMalformed() {
        let cases: [(String, Int, String)] = [
            // header
            ("mem 1G\n---\n", 1, "expected `key: value`"),
            ("mem: 1X\n---\n", 1, "expected `mem: SIZE`"),
            ("mem: 1G\nmem: 2G\n---\n", 2, "given twice"),
            ("maxmem: lots\n---\n", 1, "expected `maxmem: SIZE`"),
            ("slots: -1\n---\n", 1, "expected `slots: N`"),
            ("timeout: 0\n---\n", 1, "expected `timeout: SECONDS`"),
            ("seed: x\n---\n", 1, "expected `seed: N`"),
            ("colour: blue\n---\n", 1, "unknown header key `colour:`"),
            ("cpu: fast\n---\n", 1, "expected `cpu: gbpages`"),
            ("append:\n---\n", 1, "expected `append: KERNEL ARGS`"),
            ("node: 0\n---\n", 1, "expected `node: ID SIZE`"),
            ("node: 1 1G\n---\n", 1, "expected node 0 next"),
            ("node: 0 512M\nnode: 1 256M\n---\n", 1, "add up to 768M, expected `mem:` (1G)"),
            ("distance: 0 1\n---\n", 1, "expected `distance: NODE NODE DISTANCE`"),
            ("distance: 0 1 21\n---\n", 1, "expected two different nodes below 1"),
            ("dimm: d1\n---\n", 1, "expected `dimm: ID SIZE [node=N]`"),
            ("dimm: 1d 512M\n---\n", 1, "expected a DIMM id"),
            ("dimm: d1 100M\n---\n", 1, "multiple of 128M"),
            ("dimm: d1 512M nod=1\n---\n", 1, "expected `node=N`"),
            ("dimm: d1 512M node=1\n---\n", 1, "on node 1, but the machine has 1 node(s)"),
            ("dimm: d1 512M\ndimm: d1 512M\n---\n", 2, "used twice"),
            ("slots: 1\ndimm: d1 512M\ndimm: d2 512M\n---\n", 1, "need at least 2 `slots:`"),
            ("dimm: d1 512M\ndimm: d2 512M\nslots: 1\n---\n", 3, "need at least 2 `slots:`"),
            ("maxmem: 1G\ndimm: d1 512M\n---\n", 1, "`maxmem:` 1G is smaller"),
            ("# the default maxmem, 4G\ndimm: d1 2G\n\ndimm: d2 2G\n\n---\n", 4, "`maxmem:` 4G is smaller"),
            ("mem: 1025M\nmaxmem: 4G\n---\n", 1, "positive multiple of 2M"),
            ("mem: 1.5\n---\n", 1, "a fraction needs a unit"),
            ("mem: -1\n---\n", 1, "cannot be negative"),
            ("maxmem: 4G\r\nmaxmem: 5G\r\n---\r\n", 2, "given twice"),
            ("virtio-mem: vm0 requested=0\n---\n", 1, "expected `size=SIZE`"),
            ("virtio-mem: vm0 size=2G colour=red\n---\n", 1, "got `colour=`"),
            ("virtio-mem: vm0 size=2G requested=3G\n---\n", 1, "at most `size=`"),
            ("virtio-mem: vm0 size=2G block=3M\n---\n", 1, "power of two"),
            ("module: ../x\n---\n", 1, "expected `module: NAME"),
            ("description: x\n", 1, "expected a `---` line"),
            // steps
            ("---\nfrobnicate 1\n", 2, "unknown step `frobnicate`"),
            ("---\nstep\n", 2, "expected `step NAME`"),
            ("---\nwrite $MEM/memory1/state\n", 2, "expected `write PATH VALUE"),
            ("---\nwrite-raw $MEM/memory1/state\n", 2, "expected `write-raw PATH VALUE"),
            ("---\nwrite $MEM/memory1/state \"online\n", 2, "unterminated \" quote"),
            ("---\nwrite $MEM/memory1/state 'online\n", 2, "unterminated ' quote"),
            ("---\nwrite /etc/passwd x\n", 2, "under /sys/ or /proc/"),
            ("---\nwrite /sys/../etc/x x\n", 2, "without `..`"),
            ("---\nwrite $FOO/x 1\n", 2, "unknown path variable `$FOO`"),
            ("---\nwrite $VM/nr_hugepages 1 timeout=x\n", 2, "expected `timeout=S`"),
            ("---\nread\n", 2, "expected `read PATH`"),
            ("---\nonline x\n", 2, "expected a memory block number"),
            ("---\nonline 3 offline\n", 2, "expected online, online_kernel or online_movable"),
            ("---\nonline 3 Online\n", 2, "expected online, online_kernel or online_movable"),
            ("---\noffline\n", 2, "expected `offline BLOCK [TIMEOUT_S]`"),
            ("---\noffline 3 0\n", 2, "expected a timeout in seconds"),
            ("---\ndimm-add d1\n", 2, "expected `dimm-add ID SIZE [node=N]`"),
            ("---\ndimm-add d1 64M\n", 2, "multiple of 128M"),
            ("---\ndimm-add d1 512M node=2\n", 2, "expected a node below 1"),
            ("dimm: d1 512M\n---\ndimm-add d1 512M\n", 3, "already used"),
            ("---\ndimm-add d1 512M\ndimm-del d1\ndimm-add d1 512M\n", 4, "already used"),
            ("---\ndimm-del d9\n", 2, "expected the id of a plugged DIMM"),
            ("---\nvmem-resize vm9 1G\n", 2, "expected the id of a `virtio-mem:` device"),
            ("virtio-mem: vm0 size=1G\n---\nvmem-resize vm0 2G\n", 3, "at most 1G"),
            ("virtio-mem: vm0 size=1G\n---\nvmem-resize vm0 3K\n", 3, "multiple of 2M"),
            ("---\nhold heap h1 1M\n", 2, "expected a hold kind"),
            ("---\nhold anon h1\n", 2, "expected `hold anon|shmem|ramfs|pinned|slab|pagetable ID SIZE [node=N]`"),
            ("---\nhold anon h1 1000\n", 2, "positive multiple of 4K"),
            // (2122016K/4096 + 1) x 4048 bytes is above INT_MAX: msgmnb refuses it.
            (
                "mem: 4G\nmaxmem: 8G\n---\nhold slab s1 2122016K\n", 4,
                "a slab hold is at most 2122012K (2172940288 bytes)"
            ),
            ("---\nhold slab s1 3G\n", 2, "msgmnb, an int, cannot hold more"),
            ("---\nhold anon h1 1M node=1\n", 2, "expected a node below 1"),
            ("---\nhold anon h1 1M\nhold ramfs h1 1M\n", 3, "already held"),
            ("---\nrelease h1\n", 2, "expected the id of a held"),
            ("---\nhold anon h1 1M\nrelease h1\nrelease h1\n", 4, "expected the id of a held"),
            ("---\nfill-kernel 0\n", 2, "expected `fill-kernel NODE MARGIN_PAGES [id=ID]`"),
            ("---\nfill-kernel 1 10\n", 2, "expected a node below 1"),
            ("---\nfill-kernel 0 -5\n", 2, "expected a margin in pages"),
            ("---\nfill-kernel 0 5 name=x\n", 2, "expected `id=ID`"),
            ("---\nfill-kernel 0 5\nfill-kernel 0 5\n", 3, "already held"),
            ("---\ndump\n", 2, "expected `dump WHAT...`"),
            ("---\ndump everything\n", 2, "unknown dump `everything`"),
            ("---\ndump meminfo:3\n", 2, "only `blocks:` and `pageflags:`"),
            ("---\ndump blocks:5-3\n", 2, "expected a block selection"),
            ("---\nsleep soon\n", 2, "expected `sleep SECONDS`"),
            ("---\nsleep -1\n", 2, "expected `sleep SECONDS`")
        ]
        for (text, line, expect) in cases {
            do {
                _ = try Scenario.parse(text, file: "bad.scn")
                XCTFail("no error for: \(text.debugDescription)")
            } catch let e as ScenarioError {
                XCTAssertEqual(e.file, "bad.scn", text.debugDescription)
                XCTAssertEqual(e.line, line, "\(text.debugDescription): \(e)")
                XCTAssertTrue(
                    e.message.contains(expect), "\(text.debugDescription): got `\(e.message)`, want `\(expect)`")
                XCTAssertTrue(e.description.hasPrefix("bad.scn:\(line): "))
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
    }
}

final class ObservationTests: XCTestCase {
    /// Lines copied from the captures render back byte for byte.
    func testCaptureLinesRoundTrip() throws {
        let lines = [
            #"block idx=32 phys_index=0x00000020 state=offline valid_zones="Normal Movable" removable=1 node=0 phys_device=0"#,
            #"write path=/sys/devices/system/memory/memory35/state value="online_movable " rc=1 elapsed_cs=0 err="sh: write error: Invalid argument" errno=EINVAL"#,
            #"write path=/sys/devices/system/memory/memory35/state value="" rc=1 elapsed_cs=0 err="sh: write error: Invalid argument" errno=EINVAL"#,
            #"zone node=0 zone=DMA free=3808 pcp=0 min=190 low=237 high=284 spanned=4095 present=3998 managed=3840 protection=0,880,880,880,880 start_pfn=1"#,
            #"step n=1 label="baseline""#,
            #"qmp_event name=SHUTDOWN data="{'guest':true,'reason':'guest-shutdown'}""#,
            #"end completed=1 scenario_rc=0 qemu_rc=0 boot_s=7.7 total_s=8.4 build_s=0.1"#,
            #"dmesg [    0.050812]   DMA      [mem 0x0000000000001000-0x0000000000ffffff]"#,
            #"guest uname="6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)""#
        ]
        for l in lines {
            let o = try XCTUnwrap(try Observation.parse(l))
            XCTAssertEqual(o.line, l)
        }
        let z = try XCTUnwrap(try Observation.parse(lines[0]))
        XCTAssertEqual(z.kind, "block")
        XCTAssertEqual(z["valid_zones"], "Normal Movable")
        XCTAssertEqual(z["idx"], "32")
        let d = try XCTUnwrap(try Observation.parse(lines[7]))
        XCTAssertEqual(d.kind, "dmesg")
        XCTAssertEqual(d.fields, [])
        XCTAssertEqual(d.text, "[    0.050812]   DMA      [mem 0x0000000000001000-0x0000000000ffffff]")
    }

    func testEscapes() throws {
        var o = Observation("read")
        o.add("path", "/proc/x")
        o.addQuoted("value", "a \"b\"\\\n\t\u{1}")
        XCTAssertEqual(o.line, #"read path=/proc/x value="a \"b\"\\\n\t\x01""#)
        XCTAssertEqual(try Observation.parse(o.line), o)
        var bare = Observation("x")
        bare.add("empty", "")
        bare.add("sp", "a b")
        XCTAssertEqual(bare.line, #"x empty="" sp="a b""#)
    }

    func testCommentsAndLogs() throws {
        XCTAssertNil(try Observation.parse("# oracle-result v1"))
        XCTAssertNil(try Observation.parse("   "))
        let log = try Observation.parseLog("# h\nstep n=1 label=\"x\"\nscenario_exit rc=0\n")
        XCTAssertEqual(log.map(\.kind), ["step", "scenario_exit"])
        XCTAssertEqual(Observation("scenario_exit", ["rc": "0"]).line, "scenario_exit rc=0")
        XCTAssertEqual(log[1].dropping(["rc"]).line, "scenario_exit")
    }
}
