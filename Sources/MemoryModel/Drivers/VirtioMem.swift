import SystemPackage

/// virtio-mem (drivers/virtio/virtio_mem.c, Linux 6.1), subblock mode (SBM): a device region
/// whose memory the host asks the guest to plug or unplug by changing `requested_size`.
///
/// The model follows the driver's decisions, written anew:
/// - The device region is split into Linux memory blocks; each block into subblocks of
///   max(pageblock, device block) bytes. The device registers one dynamic memory group
///   (unit = one memory block) and adds memory one block at a time (no memmap_on_memory).
/// - Plugging fills partially plugged blocks first (kernel, movable, offline), then adds new
///   blocks at the next unused block id; a block's plugged subblocks are given to the buddy
///   allocator when it is onlined, its unplugged ones stay out of it ("fake offline").
/// - Unplugging walks the block classes offline-partial, offline, movable-partial,
///   kernel-partial, movable, kernel, highest block first within a class. Offline blocks are
///   unplugged directly (and removed once empty). Online blocks go through alloc_contig_range:
///   the whole block at once if it is fully plugged and enough is asked for, else subblock by
///   subblock from the top, skipping busy ones. A block without plugged subblocks is offlined
///   and removed (`offline_and_remove_memory`).
/// - EBUSY/ENOMEM arm a retry timer (50 s, doubling to 300 s after each expiry); success resets it.
///
/// Fake-offlined pages are PageReserved frames of their zone here: present but not managed,
/// as `adjust_managed_page_count(-n)` leaves them in the kernel.
public struct VirtioMemDevice: Sendable, Equatable {
    public let id: String
    /// `virtioN`: probe order.
    public let index: Int
    public let node: Int
    public let startBytes: Int
    public let regionBytes: Int
    public let deviceBlockBytes: Int
    public let subblockBytes: Int
    public let group: Int
    /// The device's config: what the host asks for and what is plugged now.
    public internal(set) var requestedBytes: Int
    public internal(set) var pluggedBytes = 0
    /// Plugged subblocks of every memory block the driver tracks (added to Linux), by block id.
    public internal(set) var plugged: [Int: [Bool]] = [:]
    /// `sbm.next_mb_id`: the first memory block never prepared.
    public internal(set) var nextBlock: Int
    public internal(set) var retryTimerMs = VirtioMemDevice.retryMinMs
    /// Virtual time the armed retry timer fires at, nil when not armed.
    public internal(set) var retryAt: UInt64?
    /// Every value the device's `size` took, in order (QEMU's MEMORY_DEVICE_SIZE_CHANGE).
    public internal(set) var sizeChanges: [(time: UInt64, size: Int)] = []
    /// The last worker run's result (0 or a negative errno).
    public internal(set) var lastResult = 0
    /// `virtio_mem_retry` from outside the worker (a block of the device was onlined): the
    /// worker runs again as soon as the runner looks, without touching the retry timer.
    public internal(set) var kicked = false

    public static let retryMinMs = 50_000
    public static let retryMaxMs = 300_000
    /// VIRTIO_MEM_DEFAULT_OFFLINE_THRESHOLD: stop adding blocks while this much is offline.
    public static let offlineThresholdBytes = 1 << 30

    public var name: String { "virtio_mem virtio\(index)" }

    public static func == (a: VirtioMemDevice, b: VirtioMemDevice) -> Bool {
        a.id == b.id && a.requestedBytes == b.requestedBytes && a.pluggedBytes == b.pluggedBytes
            && a.plugged == b.plugged
            && a.nextBlock == b.nextBlock && a.retryAt == b.retryAt
    }
}

/// The driver's view of one memory block (`VIRTIO_MEM_SBM_MB_*`), derived from the block device.
public enum VirtioMemBlockState: Sendable, Equatable {
    case unused, offline, offlinePartial, kernel, kernelPartial, movable, movablePartial
}

// The force unwraps of this file rest on two invariants of the driver's own state (no
// sysfs write, scenario step or host request reaches them with a nil):
// - a device, once probed, stays in `drivers.virtioMem` (the model never unbinds the
//   driver), and every `drivers.virtioMem[id]!` follows an entry point that checked `id`
//   (virtioMemRun's guard, virtioMemSetRequestedSize's, or a walk over the table's keys);
// - a block's `plugged[mb]` is created by the plug path before any use and dropped only by
//   vmemForget (once the block is removed) or the failed add's rollback, after which that
//   call no longer touches `mb`; every `plugged[mb]!` uses an `mb` read from `plugged`'s
//   keys (or just created) in the same worker pass.
extension Machine {
    // MARK: Probe

    /// Load the driver: probe every device the layout placed, in order (virtio0, virtio1, ...),
    /// and plug what each already requests.
    public func virtioMemProbeAll() throws {
        enterKernel()
        defer { exitToUserMode() }
        guard let layout else { return }
        for (i, p) in layout.virtioMem.enumerated() where drivers.virtioMem[p.id] == nil {
            let requested = config.virtioMem.first { $0.id == p.id }?.requestedBytes ?? 0
            try virtioMemProbe(p, index: i, requestedBytes: requested)
        }
    }

    func virtioMemProbe(_ p: VirtioMemPlacement, index: Int, requestedBytes: Int) throws {
        let blockBytes = blockPages << Geometry.pageShift
        let sb = Swift.max(Geometry.pageblockPages << Geometry.pageShift, p.blockBytes)
        guard sb <= blockBytes else {
            throw KernelError(.invalidArgument, "virtio-mem \(p.id): big block mode is not modelled")
        }
        let gid = try registerDynamicMemoryGroup(node: p.node, unitPages: blockPages)
        let startMB = (p.start + blockBytes - 1) / blockBytes
        var dev = VirtioMemDevice(
            id: p.id, index: index, node: p.node, startBytes: p.start, regionBytes: p.regionBytes,
            deviceBlockBytes: p.blockBytes, subblockBytes: sb, group: gid,
            requestedBytes: requestedBytes, nextBlock: startMB)
        dev.sizeChanges = []
        drivers.virtioMem[p.id] = dev
        if !hotplug.notifiers.contains(where: { $0.name == "virtio_mem" }) {
            registerMemoryNotifier(name: "virtio_mem") { m, n in m.virtioMemNotify(n) }
        }
        let info = dev.name
        log("\(info): start address: \(hex(p.start))")
        log("\(info): region size: \(hex(p.regionBytes))")
        log("\(info): device block size: \(hex(p.blockBytes))")
        log("\(info): nid: \(p.node)")
        log("\(info): memory block size: \(hex(blockBytes))")
        log("\(info): subblock size: \(hex(sb))")
        virtioMemRun(p.id)
    }

    // MARK: Host side

    /// QMP `qom-set <id> requested-size`: the device updates its config and notifies the
    /// guest, whose worker runs at once (cancelling an armed retry timer).
    public func virtioMemSetRequestedSize(id: String, bytes: Int) throws {
        enterKernel()
        defer { exitToUserMode() }
        guard var dev = drivers.virtioMem[id] else {
            throw KernelError(.noSuchFileOrDirectory, "no virtio-mem device \(id)")
        }
        guard bytes >= 0, bytes <= dev.regionBytes, bytes % dev.deviceBlockBytes == 0 else {
            throw KernelError(
                .invalidArgument, "requested-size \(bytes) is not a multiple of the block size within the region")
        }
        dev.requestedBytes = bytes
        drivers.virtioMem[id] = dev
        virtioMemRun(id)
    }

    /// Let virtual time pass until `deadline` or until the device's size equals the request,
    /// firing the retry timers of every device that expire on the way. True when done.
    @discardableResult
    public func virtioMemWait(id: String, until deadline: UInt64) -> Bool {
        enterKernel()
        defer { exitToUserMode() }
        while let dev = drivers.virtioMem[id], dev.pluggedBytes != dev.requestedBytes {
            let kicked = drivers.virtioMem.values.contains { $0.kicked }
            guard let next = kicked ? clock : drivers.virtioMem.values.compactMap(\.retryAt).min(), next <= deadline
            else {
                if clock < deadline { clock = deadline }
                return false
            }
            if clock < next { clock = next }
            virtioMemRunTimers()
        }
        return true
    }

    /// Fire every retry timer that has expired by now (`virtio_mem_timer_expired`), and run
    /// the workers that were kicked.
    public func virtioMemRunTimers() {
        enterKernel()
        defer { exitToUserMode() }
        for id in drivers.virtioMem.keys.sorted() where drivers.virtioMem[id]?.kicked == true {
            drivers.virtioMem[id]?.kicked = false
            virtioMemRun(id, configChanged: false)
        }
        for id in drivers.virtioMem.keys.sorted() {
            guard var dev = drivers.virtioMem[id], let at = dev.retryAt, at <= clock else { continue }
            dev.retryAt = nil
            dev.retryTimerMs = Swift.min(dev.retryTimerMs * 2, VirtioMemDevice.retryMaxMs)
            drivers.virtioMem[id] = dev
            virtioMemRun(id, configChanged: false)
        }
    }

    /// `virtio_mem_run_wq`.
    func virtioMemRun(_ id: String, configChanged: Bool = true) {
        guard var dev = drivers.virtioMem[id] else { return }
        dev.retryAt = nil
        drivers.virtioMem[id] = dev
        if configChanged {
            log("\(dev.name): plugged size: \(hex(dev.pluggedBytes))")
            log("\(dev.name): requested size: \(hex(dev.requestedBytes))")
        }
        var rc = 0
        drivers.virtioMemWorkerActive = true
        defer { drivers.virtioMemWorkerActive = false }
        // offline_and_remove_memory success retriggers the worker: rerun while removals happen.
        for _ in 0..<8 {
            let removedBefore = drivers.virtioMemRemovals
            let d = drivers.virtioMem[id]!
            rc = 0
            if d.requestedBytes > d.pluggedBytes {
                rc = virtioMemPlugRequest(id, (d.requestedBytes - d.pluggedBytes) / d.subblockBytes)
            } else if d.requestedBytes < d.pluggedBytes {
                rc = virtioMemUnplugRequest(id, (d.pluggedBytes - d.requestedBytes) / d.subblockBytes)
            }
            if rc == 0 || drivers.virtioMemRemovals == removedBefore { break }
        }
        dev = drivers.virtioMem[id]!
        dev.lastResult = rc
        switch rc {
        case 0:
            dev.retryTimerMs = VirtioMemDevice.retryMinMs
        case -Int(Errno.noSpace.rawValue):
            break
        default:
            dev.retryAt = clock &+ UInt64(dev.retryTimerMs) * 1_000_000
            explain.add(
                time: clock, dev.name,
                "request not completed (\(Errno(rawValue: Int32(-rc)))): retry in \(dev.retryTimerMs / 1000) s")
        }
        drivers.virtioMem[id] = dev
    }

    // MARK: Block states

    /// The driver's state of a memory block of the device.
    public func virtioMemBlockState(_ id: String, block mb: Int) -> VirtioMemBlockState {
        guard let dev = drivers.virtioMem[id], let bits = dev.plugged[mb], let b = blocks[mb] else { return .unused }
        let full = !bits.contains(false)
        switch b.state {
        case .online, .goingOffline:
            if b.zone == .movable { return full ? .movable : .movablePartial }
            return full ? .kernel : .kernelPartial
        default:
            return full ? .offline : .offlinePartial
        }
    }

    func vmemBlockStart(_ mb: Int) -> Int { mb * blockPages }

    func vmemSetPlugged(_ id: String, _ mb: Int, _ sbs: Range<Int>, _ on: Bool) {
        var dev = drivers.virtioMem[id]!
        var bits = dev.plugged[mb]!
        for s in sbs where bits[s] != on {
            bits[s] = on
            dev.pluggedBytes += on ? dev.subblockBytes : -dev.subblockBytes
        }
        dev.plugged[mb] = bits
        dev.sizeChanges.append((clock, dev.pluggedBytes))
        drivers.virtioMem[id] = dev
        let a = mb * (blockPages << Geometry.pageShift) + sbs.lowerBound * dev.subblockBytes
        let e = a + sbs.count * dev.subblockBytes - 1
        log("<7>\(dev.name): \(on ? "plugging" : "unplugging") memory: \(hex(a)) - \(hex(e))")
    }

    // MARK: Plug

    /// `virtio_mem_sbm_plug_request`: returns 0 or a negative errno.
    func virtioMemPlugRequest(_ id: String, _ count: Int) -> Int {
        var nb = count
        guard nb > 0, let dev0 = drivers.virtioMem[id] else { return 0 }
        let sbsPerMB = (blockPages << Geometry.pageShift) / dev0.subblockBytes
        for cls in [VirtioMemBlockState.kernelPartial, .movablePartial, .offlinePartial] {
            for mb in dev0.plugged.keys.sorted() where virtioMemBlockState(id, block: mb) == cls {
                // virtio_mem_sbm_plug_any_sb: first unplugged runs, fake-onlined when online.
                while nb > 0, let first = drivers.virtioMem[id]!.plugged[mb]!.firstIndex(of: false) {
                    var n = 1
                    let bits = drivers.virtioMem[id]!.plugged[mb]!
                    while n < nb, first + n < sbsPerMB, !bits[first + n] { n += 1 }
                    vmemSetPlugged(id, mb, first..<(first + n), true)
                    nb -= n
                    if cls != .offlinePartial { vmemFakeOnline(id, mb, first..<(first + n)) }
                }
                if nb == 0 { return 0 }
            }
        }
        // New blocks, one at a time.
        let blockBytes = blockPages << Geometry.pageShift
        let lastMB = (dev0.startBytes + dev0.regionBytes) / blockBytes - 1
        while nb > 0 {
            let dev = drivers.virtioMem[id]!
            let offlineBytes = dev.plugged.keys.filter { blocks[$0]?.state == .offline }.count * blockBytes
            guard offlineBytes + blockBytes <= Swift.max(2 * blockBytes, VirtioMemDevice.offlineThresholdBytes) else {
                return -Int(Errno.noSpace.rawValue)
            }
            // Unused blocks (plugged once, removed since) first, lowest first; then a new one.
            let firstMB = (dev.startBytes + blockBytes - 1) / blockBytes
            let mb = (firstMB..<dev.nextBlock).first { dev.plugged[$0] == nil } ?? dev.nextBlock
            guard mb <= lastMB else { return -Int(Errno.noSpace.rawValue) }
            var d = dev
            if mb == d.nextBlock { d.nextBlock += 1 }
            d.plugged[mb] = [Bool](repeating: false, count: sbsPerMB)
            drivers.virtioMem[id] = d
            let n = Swift.min(nb, sbsPerMB)
            // Plug before adding, so onlining gives exactly the plugged subblocks to the buddy.
            vmemSetPlugged(id, mb, 0..<n, true)
            let start = mb * blockBytes
            log("<7>\(dev.name): adding memory: \(hex(start)) - \(hex(start + blockBytes - 1))")
            do {
                try addMemory(node: dev.node, startBytes: start, sizeBytes: blockBytes, group: dev.group, device: id)
            } catch {
                log("<7>\(dev.name): adding memory failed: \(vmemErrno(error))")
                vmemSetPlugged(id, mb, 0..<n, false)
                var d2 = drivers.virtioMem[id]!
                d2.plugged[mb] = nil
                drivers.virtioMem[id] = d2
                return vmemErrno(error)
            }
            nb -= n
        }
        return 0
    }

    // MARK: Unplug

    /// `virtio_mem_sbm_unplug_request`: returns 0 or a negative errno (-EBUSY when busy memory remains).
    func virtioMemUnplugRequest(_ id: String, _ count: Int) -> Int {
        var nb = count
        guard nb > 0 else { return 0 }
        let order: [VirtioMemBlockState] = [
            .offlinePartial, .offline, .movablePartial, .kernelPartial, .movable, .kernel
        ]
        for cls in order {
            let mbs = drivers.virtioMem[id]!.plugged.keys.sorted(by: >).filter {
                virtioMemBlockState(id, block: $0) == cls
            }
            for mb in mbs {
                let rc: Int
                switch cls {
                case .offline, .offlinePartial: rc = vmemUnplugOffline(id, mb, &nb)
                default: rc = vmemUnplugOnline(id, mb, &nb)
                }
                if rc != 0 { return rc }
                if nb == 0 { return 0 }
            }
        }
        return nb > 0 ? -Int(Errno.resourceBusy.rawValue) : 0
    }

    /// Plugged subblocks from the top: (first, count) runs of at most `nb` subblocks.
    func vmemUnplugRaw(_ id: String, _ mb: Int, _ nb: inout Int) {
        var s = drivers.virtioMem[id]!.plugged[mb]!.count - 1
        while s >= 0 && nb > 0 {
            let bits = drivers.virtioMem[id]!.plugged[mb]!
            guard bits[s] else { s -= 1; continue }
            var first = s
            while first > 0 && bits[first - 1] && s - first + 1 < nb { first -= 1 }
            vmemSetPlugged(id, mb, first..<(s + 1), false)
            nb -= s - first + 1
            s = first - 1
        }
    }

    /// `virtio_mem_sbm_unplug_any_sb_offline`.
    func vmemUnplugOffline(_ id: String, _ mb: Int, _ nb: inout Int) -> Int {
        vmemUnplugRaw(id, mb, &nb)
        if !drivers.virtioMem[id]!.plugged[mb]!.contains(true) {
            let blockBytes = blockPages << Geometry.pageShift
            log(
                "<7>\(drivers.virtioMem[id]!.name): removing memory: \(hex(mb * blockBytes)) - \(hex((mb + 1) * blockBytes - 1))"
            )
            do {
                try removeMemory(startBytes: mb * blockBytes, sizeBytes: blockBytes)
                vmemForget(id, mb)
            } catch {
                log("<7>\(drivers.virtioMem[id]!.name): removing memory failed: \(vmemErrno(error))")
            }
        }
        return 0
    }

    /// `virtio_mem_sbm_unplug_any_sb_online`.
    func vmemUnplugOnline(_ id: String, _ mb: Int, _ nb: inout Int) -> Int {
        let sbsPerMB = drivers.virtioMem[id]!.plugged[mb]!.count
        var whole = false
        if nb >= sbsPerMB && !drivers.virtioMem[id]!.plugged[mb]!.contains(false) {
            let rc = vmemFakeOffline(id, mb, 0..<sbsPerMB)
            if rc == 0 {
                vmemSetPlugged(id, mb, 0..<sbsPerMB, false)
                nb -= sbsPerMB
                whole = true
            } else if rc != -Int(Errno.resourceBusy.rawValue) {
                return rc
            }
        }
        if !whole {
            var s = sbsPerMB - 1
            while s >= 0 && nb > 0 {
                guard drivers.virtioMem[id]!.plugged[mb]![s] else { s -= 1; continue }
                let rc = vmemFakeOffline(id, mb, s..<(s + 1))
                if rc == 0 {
                    vmemSetPlugged(id, mb, s..<(s + 1), false)
                    nb -= 1
                } else if rc != -Int(Errno.resourceBusy.rawValue) {
                    return rc
                }
                s -= 1
            }
        }
        if !drivers.virtioMem[id]!.plugged[mb]!.contains(true) {
            let blockBytes = blockPages << Geometry.pageShift
            let dev = drivers.virtioMem[id]!
            log(
                "<7>\(dev.name): offlining and removing memory: \(hex(mb * blockBytes)) - \(hex((mb + 1) * blockBytes - 1))"
            )
            // MEM_GOING_OFFLINE: the driver lets go of its fake-offline pages.
            vmemFakeOnline(id, mb, 0..<sbsPerMB, unplugged: true)
            do {
                try offlineAndRemoveMemory(startBytes: mb * blockBytes, sizeBytes: blockBytes)
                vmemForget(id, mb)
                drivers.virtioMemRemovals += 1
            } catch {
                log("<7>\(dev.name): offlining and removing memory failed: \(vmemErrno(error))")
                if blocks[mb]?.state == .online { _ = vmemFakeOffline(id, mb, 0..<sbsPerMB) }
            }
        }
        return 0
    }

    func vmemForget(_ id: String, _ mb: Int) {
        var dev = drivers.virtioMem[id]!
        // VIRTIO_MEM_SBM_MB_UNUSED: the next plug reuses the lowest unused block first.
        dev.plugged[mb] = nil
        drivers.virtioMem[id] = dev
    }

    // MARK: Fake offline / online

    /// `virtio_mem_fake_offline`: alloc_contig_range over the subblocks (retried a few times
    /// in ZONE_MOVABLE), then the pages leave the zone's managed count. 0, -ENOMEM or -EBUSY.
    func vmemFakeOffline(_ id: String, _ mb: Int, _ sbs: Range<Int>) -> Int {
        let sbPages = drivers.virtioMem[id]!.subblockBytes >> Geometry.pageShift
        let range = PFNRange(start: vmemBlockStart(mb) + sbs.lowerBound * sbPages, count: sbs.count * sbPages)
        guard let z = zoneIndex(ofPFN: range.start) else { return -Int(Errno.resourceBusy.rawValue) }
        let movable = zones[z].type == .movable
        for _ in 0..<5 {
            do {
                try allocContigRange(range, kind: .kernel)
            } catch let e as KernelError {
                if e.errno == .noMemory { return -Int(Errno.noMemory.rawValue) }
                if !movable { break }
                continue
            } catch { break }
            zones[z].kindPages[Int(PageKind.kernel.rawValue)] -= range.count
            memmap.fill(range, kind: .reserved)
            // virtio_mem_set_fake_offline: __SetPageOffline, the driver holding a reference.
            memmap.pageOffline.set(range)
            zones[z].managedPages -= range.count
            return 0
        }
        return -Int(Errno.resourceBusy.rawValue)
    }

    /// `virtio_mem_fake_online`: fake-offlined pages of an online block go back to the buddy
    /// allocator and the managed count. With `unplugged`, only the unplugged subblocks (what
    /// the MEM_GOING_OFFLINE notifier hands back before offlining).
    func vmemFakeOnline(_ id: String, _ mb: Int, _ sbs: Range<Int>, unplugged: Bool = false) {
        guard let b = blocks[mb], b.state == .online else { return }
        let dev = drivers.virtioMem[id]!
        let sbPages = dev.subblockBytes >> Geometry.pageShift
        for s in sbs {
            if unplugged && dev.plugged[mb]![s] { continue }
            let range = PFNRange(start: vmemBlockStart(mb) + s * sbPages, count: sbPages)
            guard memmap.kind(range.start) == .reserved, let z = zoneIndex(ofPFN: range.start) else { continue }
            memmap.fill(range, kind: .kernel)
            zones[z].kindPages[Int(PageKind.kernel.rawValue)] += range.count
            zones[z].managedPages += range.count
            freeContigRange(range)
        }
    }

    /// The driver's memory notifier: when one of its blocks comes online, the subblocks that
    /// are not plugged must not stay in the buddy allocator (`virtio_mem_online_page_cb`).
    ///
    /// Offlining a block by hand (6.1 allows it for partly plugged blocks): in
    /// MEM_GOING_OFFLINE the driver drops its reference to the fake-offline pages of the
    /// unplugged subblocks and counts them as managed again, so that isolation and the
    /// final test pass over them and offlining subtracts the whole block
    /// (`virtio_mem_sbm_notify_going_offline` → `virtio_mem_fake_offline_going_offline`);
    /// MEM_CANCEL_OFFLINE takes the reference and the count back
    /// (`virtio_mem_fake_offline_cancel_offline`). The block becomes offline(-partial): its
    /// state follows the memory block's.
    func virtioMemNotify(_ n: MemoryNotify) -> Int {
        switch n.event {
        case .goingOffline, .cancelOffline, .offline:
            let mb = n.startPFN / blockPages
            guard let id = drivers.virtioMem.filter({ $0.value.plugged[mb] != nil }).keys.min() else { return 0 }
            if n.event == .offline { drivers.virtioMemGoingOffline.remove(mb); return 0 }
            if n.event == .cancelOffline && !drivers.virtioMemGoingOffline.contains(mb) { return 0 }
            let dev = drivers.virtioMem[id]!
            let sbPages = dev.subblockBytes >> Geometry.pageShift
            guard let z = zoneIndex(ofPFN: n.startPFN) else { return 0 }
            var pages = 0
            for (s, on) in dev.plugged[mb]!.enumerated() where !on {
                let range = PFNRange(start: vmemBlockStart(mb) + s * sbPages, count: sbPages)
                // Only pages still fake-offline (the driver's own offline_and_remove_memory
                // hands them back to the buddy before it offlines).
                guard memmap.pageOffline.contains(range.start) else { continue }
                pages += sbPages
                // page_ref_dec / page_ref_inc: test_pages_isolated sees page_count 0.
                if n.event == .goingOffline {
                    memmap.pageOffline.dropReferences(range)
                } else {
                    memmap.pageOffline.takeReferences(range)
                }
            }
            if n.event == .goingOffline {
                zones[z].managedPages += pages
                drivers.virtioMemGoingOffline.insert(mb)
            } else {
                zones[z].managedPages -= pages
                drivers.virtioMemGoingOffline.remove(mb)
            }
            return 0
        case .online:
            break
        default:
            return 0
        }
        let mb = n.startPFN / blockPages
        for id in drivers.virtioMem.keys.sorted() {
            guard let bits = drivers.virtioMem[id]?.plugged[mb] else { continue }
            for (s, on) in bits.enumerated() where !on { _ = vmemFakeOffline(id, mb, s..<(s + 1)) }
            // Onlining brought the device's offline memory to half the threshold or less:
            // maybe more can be added now (not when the worker's own add onlined it).
            let dev = drivers.virtioMem[id]!
            let blockBytes = blockPages << Geometry.pageShift
            let offline = dev.plugged.keys.filter { $0 != mb && blocks[$0]?.state == .offline }.count * blockBytes
            let threshold = Swift.max(2 * blockBytes, VirtioMemDevice.offlineThresholdBytes)
            if !drivers.virtioMemWorkerActive && offline + threshold / 2 <= threshold
                && dev.requestedBytes != dev.pluggedBytes
            {
                drivers.virtioMem[id]?.kicked = true
            }
        }
        return 0
    }

    func vmemErrno(_ error: Error) -> Int {
        if let e = error as? KernelError { return -Int(e.errno.rawValue) }
        return -Int(Errno.invalidArgument.rawValue)
    }
}
