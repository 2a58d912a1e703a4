#if os(Linux)
import Foundation
import Glibc
import KernelFS
import MemoryModel
import XCTest

@testable import FUSEServer

/// Over a real mount: a `state` write while a pending ACPI eject holds device_hotplug_lock
/// waits as 6.1's restart loop (lock_device_hotplug_sysfs → -ERESTARTNOINTR) makes it. A
/// caught signal does not end it (the kernel restarts the write after the handler); SIGKILL
/// does; once the eject removes the block the write fails with ENODEV.
extension FUSEMountTests {
    func testAStateWriteWaitsForThePendingEjectAndOnlyAKillEndsIt() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        XCTAssertEqual(try m.hotAddDIMM(id: "d", sizeBytes: 256 << 20), [32, 33])
        let fs = KernelFS(machine: m)
        let state = "/sys/devices/system/memory/memory32/state"
        // The lookups' dentries and inodes from DMA32, not from the DIMM (which they would pin).
        _ = try fs.read(state)
        for b in [32, 33] { try m.storeState(block: b, .onlineKernel) }
        let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs)
        XCTAssertEqual(m.allocate(owner: ramfs, blocks: 60_000), 60_000)
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "d", deadline: m.clock + 5_000_000_000))
        XCTAssertTrue(m.deviceHotplugLockHeldByWorker)
        try withMount(fs) { root in
            func writer(_ script: String) throws -> Process {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/sh")
                p.arguments = ["-c", script]
                p.standardError = Pipe()
                try p.run()
                return p
            }
            let path = root + state
            // Python, whose SIGUSR1 handler is caught (dash's echo reports every write error
            // as "I/O error"); os.write would retry an EINTR itself (PEP 475), but none comes.
            let caught = try writer(
                "python3 -c \"import os,signal; signal.signal(signal.SIGUSR1, lambda *a: None); os.write(os.open('\(path)', os.O_WRONLY), b'offline')\""
            )
            let killed = try writer("echo offline > \(path)")
            Thread.sleep(forTimeInterval: 0.5)
            XCTAssertTrue(caught.isRunning && killed.isRunning, "both writes restart")
            kill(caught.processIdentifier, SIGUSR1)
            kill(killed.processIdentifier, SIGKILL)
            let until = Date().addingTimeInterval(10)
            while killed.isRunning && Date() < until { usleep(20_000) }
            XCTAssertFalse(killed.isRunning, "SIGKILL ends the wait")
            XCTAssertEqual(killed.terminationReason, .uncaughtSignal)
            Thread.sleep(forTimeInterval: 0.3)
            XCTAssertTrue(caught.isRunning, "a caught signal does not")
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "going-offline\n")
            fs.withLock { $0.destroyOwner(ramfs) }
            caught.waitUntilExit()
            XCTAssertNil(m.blocks[32], "the eject removed the DIMM")
            XCTAssertNotEqual(caught.terminationStatus, 0)
            let err = (caught.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile()
            XCTAssertTrue(
                String(decoding: err, as: UTF8.self).contains("No such device"), String(decoding: err, as: UTF8.self))
        }
    }
}
#endif
