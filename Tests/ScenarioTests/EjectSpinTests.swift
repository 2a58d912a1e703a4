import Foundation
import KernelFS
import XCTest

@testable import MemoryModel
@testable import Scenario

/// An eject whose ACPI hotplug worker spins in offline_pages() on ramfs pages (no signal
/// reaches a kernel thread): the kernel's capture dimm-eject-ramfs-spins is the answer.
final class EjectSpinTests: XCTestCase {
    /// Every block state, valid_zones and hotplug outcome of the capture, at every step: the
    /// first dimm-del reports only _OST 0x84 while memory33 stays going-offline (memory34/35
    /// not reached yet); after the release the worker finishes 33-35, fails 32 in the second
    /// pass and onlines 33-35 again in the default zone (Normal).
    func testEjectWaitsForTheRamfsPagesThenIsRefused() throws {
        let dir = Fixtures.conformance
        let sc = try Fixtures.load(dir.appendingPathComponent("dimm-eject-ramfs-spins.scn"))
        func structural(_ lines: [String]) -> [String] {
            lines.filter { $0.hasPrefix("block ") || $0.hasPrefix("hotplug ") || $0.hasPrefix("step ") }
                .map { $0.replacingOccurrences(of: #" elapsed_s=[0-9.]+"#, with: "", options: .regularExpression) }
        }
        let kernel = try String(
            contentsOf: dir.appendingPathComponent("dimm-eject-ramfs-spins.kernel.txt"), encoding: .utf8
        ).split(separator: "\n").map(String.init)
        let run = ModelRunner(scenario: sc).run()
        XCTAssertEqual(structural(run.lines), structural(kernel))
        XCTAssertTrue(structural(kernel).contains { $0.contains("state=going-offline") })
        XCTAssertTrue(
            run.explain.contains { $0.contains("the ACPI hotplug worker spins in offline_pages() on memory33") })
    }

    /// While the worker spins, another eject waits behind it (EBUSY, nothing reported) and the
    /// spinning block keeps its range isolated; freeing the ramfs pages lets the walk go on as
    /// the freeing operation returns, with no call of the caller's: memory32's slab pages
    /// refuse the second pass, memory33 comes back online (_OST 0x82).
    func testPendingEjectKeepsTheBlockIsolatedUntilResumed() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        XCTAssertEqual(try m.hotAddDIMM(id: "d", sizeBytes: 256 << 20), [32, 33])
        for b in [32, 33] { try m.storeState(block: b, .onlineKernel) }
        m.kernelActivityRuns()  // the guest's process: its page tables, its file's XArray
        let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs)
        XCTAssertEqual(m.allocate(owner: ramfs, blocks: 60_000), 60_000)
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "d", deadline: m.clock + 5_000_000_000))
        XCTAssertEqual(m.drivers.ostEvents.map(\.status), [0, 0x84])
        XCTAssertEqual(m.blocks[33]!.state, .goingOffline)
        XCTAssertEqual(m.pageblockMigrateType(m.blocks[33]!.startPFN), .isolate)
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "d"))
        XCTAssertEqual(m.drivers.ostEvents.count, 2)
        let other = try m.createOwner(name: "other", kind: .anon)
        XCTAssertEqual(m.release(owner: ramfs, blocks: 1), 1)  // not the page the worker waits for
        m.allocate(owner: other, blocks: 10)
        m.release(owner: other)
        XCTAssertEqual(m.blocks[33]!.state, .goingOffline)
        XCTAssertEqual(m.drivers.ostEvents.count, 2)
        m.destroyOwner(ramfs)
        XCTAssertEqual(m.drivers.ostEvents.map(\.status), [0, 0x84, 0x82])
        XCTAssertEqual([m.blocks[32]!.state, m.blocks[33]!.state], [.online, .online])
        XCTAssertNotEqual(m.pageblockMigrateType(m.blocks[33]!.startPFN), .isolate)
        XCTAssertTrue(m.kmsg.contains("memory memory32: Offline failed."))
        try m.verify()
    }

    /// The worker runs where the calling task leaves the kernel, never inside an operation:
    /// a free inside a larger operation (here the whole `syscall`) lets it go on only when
    /// that operation returns; KernelFS's machine lock is such an operation too.
    func testTheWorkerRunsWhenTheOutermostOperationReturns() throws {
        for viaKernelFS in [false, true] {
            let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
            XCTAssertEqual(try m.hotAddDIMM(id: "d", sizeBytes: 256 << 20), [32, 33])
            for b in [32, 33] { try m.storeState(block: b, .onlineKernel) }
            m.kernelActivityRuns()
            let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs)
            XCTAssertEqual(m.allocate(owner: ramfs, blocks: 60_000), 60_000)
            XCTAssertThrowsError(try m.acpiEjectDIMM(id: "d", deadline: m.clock + 5_000_000_000))
            let body: (Machine) -> Void = { m in
                m.destroyOwner(ramfs)
                XCTAssertEqual(m.blocks[33]!.state, .goingOffline, "inside the operation")
                XCTAssertEqual(m.drivers.ostEvents.map(\.status), [0, 0x84])
            }
            if viaKernelFS { KernelFS(machine: m).withLock(body) } else { m.syscall { body(m) } }
            XCTAssertEqual(m.drivers.ostEvents.map(\.status), [0, 0x84, 0x82])
            XCTAssertEqual([m.blocks[32]!.state, m.blocks[33]!.state], [.online, .online])
            XCTAssertNil(m.drivers.pendingEject)
            try m.verify()
        }
    }

    /// A `state` write while the worker spins: 6.1's lock_device_hotplug_sysfs restarts it
    /// until the eject ends, which waits for the guest's own ramfs pages, and the guest's
    /// SIGALRM does not end it (-ERESTARTNOINTR restarts after the handler). The guest prints
    /// nothing more; the run ends as the kernel runner's does at the scenario's timeout.
    func testAStateWriteDuringTheSpinHangsTheGuestUntilTheTimeout() throws {
        let sc = try Scenario.parse(
            """
            description: a state write while an eject spins on ramfs pages
            mem: 1G
            maxmem: 4G
            slots: 4
            dimm: dimm1 512M
            timeout: 400
            ---
            online 32 online_kernel
            online 33 online_kernel
            online 34 online_movable
            online 35 online_movable
            hold ramfs r1 300M
            dimm-del dimm1 20
            step spinning
            dump blocks:32-35
            write /sys/devices/system/memory/memory34/state offline
            step never
            release r1
            """, file: "eject-write-hangs.scn")
        let run = ModelRunner(scenario: sc).run()
        XCTAssertFalse(run.completed)
        XCTAssertTrue(run.lines.contains { $0.hasPrefix("block ") && $0.contains("state=going-offline") })
        XCTAssertFalse(run.lines.contains { $0.hasPrefix("write ") && $0.contains("value=\"offline\"") })
        XCTAssertFalse(run.lines.contains { $0.hasPrefix("step ") && $0.contains("never") })
        XCTAssertEqual(run.lines.suffix(2).first, "scenario_exit rc=-1")
        let end = try XCTUnwrap(run.lines.last)
        XCTAssertTrue(end.hasPrefix("end completed=0 reason=timeout scenario_rc=- "), end)
        XCTAssertTrue(run.explain.contains { $0.contains("lock_device_hotplug_sysfs restarts the write") })
    }

    /// kacpi_hotplug is an ordered workqueue: a DIMM QEMU places while the eject's worker
    /// spins gets no add and no _OST until the eject ends; then its insertion runs. The
    /// scenario runner's dimm-add sees no _OST in its 60 s (ok=0, QEMU's address). A second
    /// device_del waits as well, even of a DIMM that was never added.
    func testAHotAddWaitsBehindTheSpinningEject() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        XCTAssertEqual(try m.hotAddDIMM(id: "d", sizeBytes: 256 << 20), [32, 33])
        for b in [32, 33] { try m.storeState(block: b, .onlineKernel) }
        m.kernelActivityRuns()
        let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs)
        XCTAssertEqual(m.allocate(owner: ramfs, blocks: 60_000), 60_000)
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "d", deadline: m.clock + 5_000_000_000))
        XCTAssertEqual(try m.hotAddDIMM(id: "e", sizeBytes: 256 << 20), [])
        XCTAssertNil(m.blocks[34])
        XCTAssertEqual(m.drivers.unattachedDIMMs["e"]?.start, 0x110000)  // above d's range
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "e"))
        XCTAssertEqual(m.drivers.ostEvents.map(\.device), ["d", "d"])
        m.destroyOwner(ramfs)
        XCTAssertEqual(m.drivers.ostEvents.map(\.status), [0, 0x84, 0x82, 0])
        XCTAssertEqual(m.drivers.ostEvents.last?.device, "e")
        XCTAssertEqual(m.blocks[34]?.state, .offline)
        XCTAssertNotNil(m.blocks[35])
        XCTAssertNil(m.drivers.unattachedDIMMs["e"])
        try m.verify()
    }

    func testTheScenarioRunnersDimmAddSeesNoOSTWhileTheWorkerSpins() throws {
        let sc = try Scenario.parse(
            """
            description: a dimm-add while an eject spins on ramfs pages
            mem: 1G
            maxmem: 4G
            slots: 4
            dimm: dimm1 512M
            ---
            online 32 online_kernel
            online 33 online_kernel
            hold ramfs r1 300M
            dimm-del dimm1 20
            dimm-add d2 256M
            release r1
            sleep 5
            dump blocks
            """, file: "eject-add-waits.scn")
        let run = ModelRunner(scenario: sc).run()
        let hotplug = run.lines.filter { $0.hasPrefix("hotplug ") }
        XCTAssertEqual(hotplug.count, 2)
        XCTAssertTrue(hotplug[1].hasPrefix("hotplug action=dimm-add id=d2 "), hotplug[1])
        XCTAssertTrue(hotplug[1].contains(" addr=0x120000000 blocks=36-37 ost=- ok=0"), hotplug[1])
        // After the release the eject goes on and the queued insertion runs: d2's blocks exist.
        XCTAssertTrue(run.lines.contains { $0.hasPrefix("block idx=36 ") && $0.contains("state=offline") })
        XCTAssertTrue(run.completed)
    }
}
