import SystemPackage
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// Issue 3 §7: hotplug writes are serialized as device_hotplug_lock serializes them, readers
/// see what the kernel shows mid-operation, and the API is safe from several threads.
final class ConcurrencyTests: XCTestCase {
    static let mem = "/sys/devices/system/memory"

    /// A 2 GiB guest with a 256 MiB DIMM at 4 GiB (memory32, memory33), both onlined Movable,
    /// memory32 filled with anonymous memory so that its offline has to migrate.
    func machine() throws -> (Machine, KernelFS) {
        let m = try Machine.boot(MachineConfig(memBytes: 2 << 30, maxmemBytes: 16 << 30, slots: 4))
        let fs = KernelFS(machine: m)
        try fs.withHotplugLock { m in _ = try m.hotAddDIMM(id: "dimm1", sizeBytes: 256 << 20) }
        for id in [32, 33] { try fs.write("\(Self.mem)/memory\(id)/state", "online_movable\n") }
        let anon = try m.createOwner(name: "test:anon", kind: .anon)
        let z = m.zoneIndex(node: 0, type: .movable)
        m.drainPCP(zone: z)
        var taken = 0
        while taken < 8192, let pfn = m.rmqueueBuddy(z, order: 0, mt: .movable) {
            if pfn / m.blockPages == 32 {
                m.markAllocated(pfn, order: 0, kind: .anon, z: z); m.attach(pfn, to: anon); taken += 1
            } else {
                m.freeOneBlock(z, pfn, order: 0, mt: .movable); break
            }
        }
        XCTAssertGreaterThan(taken, 0)
        return (m, fs)
    }

    func read(_ fs: KernelFS, _ path: String) -> String { (try? fs.read(path)) ?? "<error>" }

    /// A reader that gets in while an offline is migrating sees `going-offline` in `state`,
    /// `1` in `online` (it changes when the offline completes) and the block's candidates in
    /// `valid_zones` (computed as for an offline block); afterwards, `offline`.
    func testReaderSeesGoingOfflineMidOperation() throws {
        let (m, fs) = try machine()
        var seen: [[String]] = []
        fs.preemptionTrace = { fs in
            seen.append(["state", "online", "valid_zones"].map { self.read(fs, "\(Self.mem)/memory32/\($0)") })
        }
        try fs.write("\(Self.mem)/memory32/state", "offline\n")
        fs.preemptionTrace = nil
        XCTAssertGreaterThanOrEqual(seen.count, 2, "the offline passes no preemption point")
        for s in seen { XCTAssertEqual(s[0...1], ["going-offline\n", "1\n"]) }
        XCTAssertEqual(seen.first?[2], "Movable Normal\n")
        XCTAssertEqual(read(fs, "\(Self.mem)/memory32/state"), "offline\n")
        XCTAssertEqual(read(fs, "\(Self.mem)/memory32/online"), "0\n")
        XCTAssertGreaterThan(m.vmstat.pgmigrateSuccess, 0)
        try m.verify()
    }

    /// The blocks of an add appear one at a time: a reader between them sees memory34 but
    /// not yet memory35, offline.
    func testBlocksOfAnAddAppearOneAtATime() throws {
        let (m, fs) = try machine()
        var listings: [[String]] = []
        fs.preemptionTrace = { fs in
            listings.append(((try? fs.list(Self.mem)) ?? []).filter { $0.hasPrefix("memory3") && $0.count == 8 })
        }
        try fs.withHotplugLock { m in _ = try m.hotAddDIMM(id: "dimm2", sizeBytes: 256 << 20) }
        fs.preemptionTrace = nil
        XCTAssertEqual(listings.first, ["memory32", "memory33", "memory34"])
        XCTAssertEqual(listings.last, ["memory32", "memory33", "memory34", "memory35"])
        XCTAssertEqual(read(fs, "\(Self.mem)/memory35/state"), "offline\n")
        try m.verify()
    }

    /// A write that takes no hotplug lock (nr_hugepages) gets in mid-offline. Once the block
    /// is isolated (second preemption point: the first retry pass) the pool cannot take its
    /// pages, so the offline does not dissolve them and the pool keeps all 32.
    func testSysctlWriteDuringOfflineLeavesIsolatedBlockAlone() throws {
        let (m, fs) = try machine()
        var calls = 0
        fs.preemptionTrace = { fs in
            calls += 1
            guard calls == 2 else { return }
            do { try fs.write("/proc/sys/vm/nr_hugepages", "32\n") } catch { XCTFail("\(error)") }
        }
        try fs.write("\(Self.mem)/memory32/state", "offline\n")
        fs.preemptionTrace = nil
        XCTAssertGreaterThanOrEqual(calls, 2)
        XCTAssertEqual(read(fs, "/proc/sys/vm/nr_hugepages"), "32\n")
        XCTAssertTrue(read(fs, "/proc/meminfo").contains("HugePages_Total:      32\n"))
        XCTAssertEqual(read(fs, "\(Self.mem)/memory32/state"), "offline\n")
        try m.verify()
    }

    /// Before isolation (first preemption point, right after `going-offline` is set) the
    /// block's free memory is still allocatable, as in the kernel: pool pages taken there
    /// are free huge pages in the range, which the offline dissolves, and each dissolve
    /// lowers the persistent pool size (dissolve_free_huge_page: max_huge_pages--).
    func testPoolPagesTakenBeforeIsolationAreDissolved() throws {
        let (m, fs) = try machine()
        var calls = 0
        fs.preemptionTrace = { fs in
            calls += 1
            guard calls == 1 else { return }
            do { try fs.write("/proc/sys/vm/nr_hugepages", "32\n") } catch { XCTFail("\(error)") }
        }
        try fs.write("\(Self.mem)/memory32/state", "offline\n")
        fs.preemptionTrace = nil
        // ZONE_MOVABLE comes first for the pool's GFP_HIGHUSER_MOVABLE: memory32 had 48 free
        // 2 MiB blocks (8192 of its pages were anon), enough for all 32 pages.
        XCTAssertEqual(read(fs, "/proc/sys/vm/nr_hugepages"), "0\n")
        XCTAssertEqual(read(fs, "\(Self.mem)/memory32/state"), "offline\n")
        try m.verify()
    }

    /// Real threads: one offlines and onlines memory32 and memory33 in turn, one resizes the
    /// huge page pool, two read. Every read is one of the kernel's values, `online` never
    /// says 0 while `state` said online before it in the same block's sequence of reads, no
    /// call deadlocks, and the machine's invariants hold at the end.
    func testThreadsHammeringTheTree() throws {
        let (_, fs) = try machine()
        let rounds = 40
        let group = DispatchGroup()
        let q = DispatchQueue.global()
        final class Box: @unchecked Sendable {
            var errors: [String] = []; let lock = NSLock()
            func add(_ e: String) { lock.lock(); errors.append(e); lock.unlock() }
        }
        let box = Box()
        q.async(group: group) {
            for i in 0..<rounds {
                let id = 32 + i % 2
                for v in ["offline", "online_movable"] {
                    do { try fs.write("\(Self.mem)/memory\(id)/state", v + "\n") } catch {
                        box.add("memory\(id) \(v): \(error)")
                    }
                }
            }
        }
        q.async(group: group) {
            for i in 0..<rounds {
                do { try fs.write("/proc/sys/vm/nr_hugepages", i % 2 == 0 ? "16\n" : "0\n") } catch {
                    box.add("nr_hugepages: \(error)")
                }
            }
        }
        for _ in 0..<2 {
            q.async(group: group) {
                for _ in 0..<(rounds * 4) {
                    for id in [32, 33] {
                        let state = (try? fs.read("\(Self.mem)/memory\(id)/state")) ?? "?"
                        if !["online\n", "offline\n", "going-offline\n"].contains(state) {
                            box.add("memory\(id) state \(state)")
                        }
                        let zones = (try? fs.read("\(Self.mem)/memory\(id)/valid_zones")) ?? "?"
                        if zones.isEmpty || zones == "?" { box.add("memory\(id) valid_zones \(zones)") }
                    }
                    if (try? fs.read("/proc/meminfo"))?.hasPrefix("MemTotal:") != true { box.add("meminfo") }
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 300), .success, "a caller hung")
        XCTAssertEqual(box.errors, [])
        try fs.withLock { try $0.verify() }
        for id in [32, 33] { XCTAssertEqual(read(fs, "\(Self.mem)/memory\(id)/state"), "online\n") }
    }

    /// A hotplug write to a block that disappears while it waits for device_hotplug_lock
    /// fails as a write to a stale sysfs file would (ENOENT), not with a crash.
    func testWriteToBlockRemovedWhileWaiting() throws {
        let (m, fs) = try machine()
        for id in [32, 33] { try fs.write("\(Self.mem)/memory\(id)/state", "offline\n") }
        let writerDone = DispatchSemaphore(value: 0)
        final class Result: @unchecked Sendable { var error: Error? }
        let result = Result()
        try fs.withHotplugLock { m in
            DispatchQueue.global().async {
                do { try fs.write("\(Self.mem)/memory32/state", "online\n") } catch { result.error = error }
                writerDone.signal()
            }
            // The writer resolves the path, then blocks on device_hotplug_lock behind us.
            Thread.sleep(forTimeInterval: 0.2)
            try m.acpiEjectDIMM(id: "dimm1")
        }
        XCTAssertEqual(writerDone.wait(timeout: .now() + 60), .success)
        XCTAssertEqual((result.error as? KernelError)?.errno, .noSuchFileOrDirectory)
        XCTAssertNil(m.blocks[32])
        try m.verify()
    }

    /// A writer waiting in real time (FUSE): an offline spinning on pages that never migrate
    /// blocks, with readers served meanwhile, until the writer's signal; then EINTR.
    func testRealTimeWriterBlocksUntilItsSignal() throws {
        let (m, fs) = try machine()
        let id = try pinnedBlock(m, fs)
        final class Flag: @unchecked Sendable {
            var on = false; let lock = NSLock()
            func set() { lock.lock(); on = true; lock.unlock() }
            var value: Bool { lock.lock(); defer { lock.unlock() }; return on }
        }
        let signal = Flag()
        let done = DispatchSemaphore(value: 0)
        final class Result: @unchecked Sendable { var error: Error? }
        let result = Result()
        DispatchQueue.global().async {
            do {
                try fs.write(
                    "\(Self.mem)/memory\(id)/state", "offline\n", context: WriteContext(signalPending: { signal.value })
                )
            } catch { result.error = error }
            done.signal()
        }
        // The reader sees the offline in progress, for as long as it likes.
        var sawGoingOffline = 0
        let start = DispatchTime.now()
        while sawGoingOffline < 20, DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds < 30_000_000_000 {
            if read(fs, "\(Self.mem)/memory\(id)/state") == "going-offline\n" { sawGoingOffline += 1 }
            usleep(5_000)
        }
        XCTAssertEqual(sawGoingOffline, 20, "the offline did not block in going-offline")
        XCTAssertEqual(done.wait(timeout: .now() + 0.1), .timedOut, "the offline returned without a signal")
        signal.set()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual((result.error as? KernelError)?.errno, .interrupted)
        XCTAssertEqual(read(fs, "\(Self.mem)/memory\(id)/state"), "online\n")
        XCTAssertEqual(fs.withLock { $0.explain.last?.message.contains("retried until the signal") }, true)
        try fs.withLock { try $0.verify() }
    }

    /// While the offline spins, another thread frees the pinned pages (the process exits):
    /// the next pass finds the block free and the blocked write succeeds, as in the kernel.
    func testRealTimeOfflineCompletesWhenThePinsGo() throws {
        let (m, fs) = try machine()
        let id = try pinnedBlock(m, fs)
        let done = DispatchSemaphore(value: 0)
        final class Result: @unchecked Sendable { var error: Error?; var finished = false }
        let result = Result()
        DispatchQueue.global().async {
            do {
                try fs.write(
                    "\(Self.mem)/memory\(id)/state", "offline\n", context: WriteContext(signalPending: { false }))
            } catch { result.error = error }
            done.signal()
        }
        let start = DispatchTime.now()
        while read(fs, "\(Self.mem)/memory\(id)/state") != "going-offline\n",
            DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds < 30_000_000_000
        { usleep(1_000) }
        XCTAssertEqual(done.wait(timeout: .now() + 0.2), .timedOut, "the offline returned while pinned pages remained")
        fs.withLock { m in m.destroyOwner(m.ownerID(named: "test:pinned")!) }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertNil(result.error)
        XCTAssertEqual(read(fs, "\(Self.mem)/memory\(id)/state"), "offline\n")
        try fs.withLock { try $0.verify() }
    }

    /// memory32 and memory33 onlined to ZONE_NORMAL, memory33 with long-term pinned pages in
    /// it (they never migrate). memory32 goes first: the kernel's next slab pages land in the
    /// block that makes ZONE_NORMAL populated, and the pins fill it before reaching memory33.
    func pinnedBlock(_ m: Machine, _ fs: KernelFS) throws -> Int {
        for id in [32, 33] { try fs.write("\(Self.mem)/memory\(id)/state", "offline\n") }
        for id in [32, 33] { try fs.write("\(Self.mem)/memory\(id)/state", "online_kernel\n") }
        m.kernelActivityRuns()  // the pinning process: its page tables come first
        let o = try m.createOwner(name: "test:pinned", kind: .pinned)
        m.allocate(owner: o, blocks: 40_000)
        let range = m.blocks[33]!.range
        XCTAssertTrue(m.owners[o]!.blocks.contains { range.contains(Int($0)) })
        XCTAssertFalse(
            (range.start..<range.end).contains {
                m.memmap.kind($0) == .slabUnreclaimable || m.memmap.kind($0) == .slabReclaimable
            })
        return 33
    }
}
