import Foundation
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// A pending ACPI eject's worker holds device_hotplug_lock (`acpi_device_hotplug`) while it
/// spins in offline_pages(); 6.1's `state`/`online`/`probe` stores take the lock with
/// `lock_device_hotplug_sysfs`, which restarts the write (-ERESTARTNOINTR) until it is free.
final class HotplugLockRestartTests: XCTestCase {
    static let mem = "/sys/devices/system/memory"

    /// A 1 GiB guest with a 256 MiB DIMM (memory32, memory33) online_kernel, ramfs pages in
    /// both, and an eject left spinning on memory33. `slab`: the kernel's post-online slab
    /// pages land in memory32 (then the resumed eject is refused), else the eject removes it.
    func pendingEject(slab: Bool) throws -> (Machine, KernelFS, ramfs: Int) {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        m.hotplug.probeInterface = true
        XCTAssertEqual(try m.hotAddDIMM(id: "d", sizeBytes: 256 << 20), [32, 33])
        let fs = KernelFS(machine: m)
        // The names the tests walk take their dentries and inodes now, from DMA32, not
        // later from the DIMM's Normal zone (an unmovable slab page there refuses the eject).
        for p in [
            "memory32/state", "memory33/state", "memory32/online", "probe", "auto_online_blocks"
        ] { _ = try? fs.read("\(Self.mem)/\(p)") }
        for p in ["/sys/devices/system/node/node0/memory32/state", "/proc/sys/vm/nr_hugepages"] { _ = try? fs.read(p) }
        for b in [32, 33] { try m.storeState(block: b, .onlineKernel) }
        if slab { m.kernelActivityRuns() }
        let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs)
        XCTAssertEqual(m.allocate(owner: ramfs, blocks: 60_000), 60_000)
        XCTAssertThrowsError(try m.acpiEjectDIMM(id: "d", deadline: m.clock + 5_000_000_000))
        XCTAssertEqual(m.drivers.pendingEject?.spinning, slab ? 33 : 32)
        fs.journaling = true
        return (m, fs, ramfs)
    }

    /// Malformed values are refused before the lock (state_store's mhp_online_type_from_str,
    /// online_store's strtobool, probe_store's kstrtoull and alignment check: EINVAL); a valid
    /// value from a writer that cannot wait throws `DeviceHotplugLockBusy`, changes nothing
    /// and is not journaled. Reads and lock-free stores go on.
    func testStoresRestartWhileTheWorkerHoldsTheLock() throws {
        let (m, fs, _) = try pendingEject(slab: true)
        func refusal(_ p: String, _ v: String) -> KernelError? { catching { try fs.write(p, v) } as? KernelError }
        XCTAssertEqual(refusal("\(Self.mem)/memory32/state", "foo\n")?.errno, .invalidArgument)
        XCTAssertEqual(refusal("\(Self.mem)/memory32/online", "2\n")?.errno, .invalidArgument)
        XCTAssertEqual(refusal("\(Self.mem)/probe", "0x100001000\n")?.errno, .invalidArgument)
        let journaled = fs.journal.filter { $0.kind == .write }.count
        for (p, v) in [
            ("\(Self.mem)/memory32/state", "offline\n"), ("\(Self.mem)/memory33/state", "online\n"),
            ("\(Self.mem)/memory32/online", "0\n"), ("\(Self.mem)/probe", "0x180000000\n"),
            ("/sys/devices/system/node/node0/memory32/state", "offline\n")
        ] {
            XCTAssertThrowsError(try fs.write(p, v)) {
                XCTAssertEqual($0 as? DeviceHotplugLockBusy, DeviceHotplugLockBusy(device: "d", block: 33), p)
            }
        }
        XCTAssertEqual(fs.journal.filter { $0.kind == .write }.count, journaled)
        XCTAssertEqual(try fs.read("\(Self.mem)/memory33/state"), "going-offline\n")
        XCTAssertEqual(try fs.read("\(Self.mem)/memory32/state"), "online\n")
        XCTAssertNil(m.blocks[48], "the probe added nothing")
        // auto_online_blocks_store and the hugetlb sysctls take no device_hotplug_lock.
        XCTAssertEqual(try fs.write("\(Self.mem)/auto_online_blocks", "online\n"), 7)
        XCTAssertEqual(try fs.write("/proc/sys/vm/nr_hugepages", "1\n"), 2)
        try m.verify()
    }

    /// A real-time writer (FUSE) waits as the kernel's restart loop does; the eject ends when
    /// its pages go (here it removes the DIMM) and the write then finds its attribute's
    /// kernfs node removed: ENODEV (kernfs_fop_write_iter). A writer killed meanwhile ends
    /// (EINTR, which nobody sees) with nothing changed and nothing journaled.
    func testARealTimeWriterWaitsForTheEjectThenSeesTheBlockGone() throws {
        let (m, fs, ramfs) = try pendingEject(slab: false)
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var killed = false, errors: [String: Error] = [:]
            func set(_ k: String, _ e: Error) { lock.lock(); errors[k] = e; lock.unlock() }
            var isKilled: Bool { lock.lock(); defer { lock.unlock() }; return killed }
            func kill() { lock.lock(); killed = true; lock.unlock() }
        }
        let box = Box()
        let done = DispatchGroup()
        for (name, killable) in [("waiter", false), ("killed", true)] {
            done.enter()
            DispatchQueue.global().async {
                let ctx = WriteContext(
                    signalPending: { false }, fatalSignalPending: { killable && box.isKilled })
                do { try fs.write("\(Self.mem)/memory32/state", Array("offline\n".utf8), context: ctx) } catch {
                    box.set(name, error)
                }
                done.leave()
            }
        }
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(done.wait(timeout: .now() + 0.2), .timedOut, "both writers restart")
        box.kill()
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual((box.errors["killed"] as? KernelError)?.errno, .interrupted)
        XCTAssertEqual(try fs.read("\(Self.mem)/memory32/state"), "going-offline\n", "the worker's, untouched")
        fs.withLock { $0.destroyOwner(ramfs) }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertNil(m.blocks[32])
        XCTAssertEqual(m.drivers.ostEvents.map(\.status), [0, 0x84, 0])
        XCTAssertEqual((box.errors["waiter"] as? KernelError)?.errno, .operationNotSupportedByDevice)
        // Neither store ran: nothing to replay.
        XCTAssertEqual(fs.journal.filter { $0.kind == .write }.count, 0)
        try m.verify()
    }
}

private func catching(_ body: () throws -> Void) -> Error? {
    do { try body(); return nil } catch { return error }
}
