/// ACPI memory devices (drivers/acpi/acpi_memhotplug.c, drivers/acpi/scan.c): QEMU pc-dimms,
/// cold-plugged at boot or hot-added at run time, and their eject.
///
/// Each device is one static memory group spanning the whole DIMM. It asks for
/// memmap_on_memory when `memory_hotplug.memmap_on_memory=1` and the DIMM is exactly one
/// memory block; otherwise its memmap comes from the node's kernel zones.
extension Machine {
    /// `acpi_memory_device_add` → `acpi_memory_enable_device`: register the static group and
    /// `__add_memory()` the range (EEXIST tolerated). Returns the blocks added.
    @discardableResult
    public func acpiMemoryDeviceAdd(id: String, startBytes: Int, sizeBytes: Int, node: Int, booting: Bool = false)
        throws -> [Int]
    {
        enterKernel()
        defer { exitToUserMode() }
        guard drivers.acpiDevices[id] == nil else { throw KernelError(.fileExists, "ACPI memory device \(id) exists") }
        guard sizeBytes > 0 else {
            log("acpi PNP0C80:\(String(format2: drivers.acpiDevices.count)): device is empty")
            throw KernelError(.invalidArgument, "device is empty")
        }
        let gid = try registerStaticMemoryGroup(
            node: node, maxPages: (sizeBytes + Geometry.pageSize - 1) >> Geometry.pageShift)
        let memmapOnMemory = supportsMemmapOnMemory(sizeBytes: sizeBytes)
        let ids: [Int]
        do {
            ids = try addMemory(
                node: node, startBytes: startBytes, sizeBytes: sizeBytes, group: gid,
                memmapOnMemory: memmapOnMemory, device: id, booting: booting)
        } catch let e as KernelError where e.errno != .fileExists {
            hotplug.groups[gid] = nil
            log("acpi PNP0C80:\(String(format2: drivers.acpiDevices.count)): add_memory failed")
            explain.add(time: clock, id, "add_memory of \(hex(startBytes))+\(hex(sizeBytes)) failed: \(e)")
            throw KernelError(.invalidArgument, "add_memory failed: \(e.reason)")
        }
        let instance = drivers.acpiDevices.count
        drivers.acpiDevices[id] = ACPIMemoryDevice(
            id: id, range: PFNRange(start: startBytes >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift),
            node: node, group: gid, instance: instance)
        prDebug(id, "acpi PNP0C80:\(String(format2: instance)): Memory device configured by ACPI")
        return ids
    }

    /// Add every DIMM the layout placed and the kernel accepted, as ACPI does while booting.
    /// They stay offline unless `memhp_default_state=` says otherwise.
    public func acpiColdPlugDIMMs() throws {
        guard let layout else { return }
        for d in layout.dimms where d.accepted {
            try acpiMemoryDeviceAdd(id: d.id, startBytes: d.start, sizeBytes: d.sizeBytes, node: d.node, booting: true)
        }
    }

    /// QEMU `device_add pc-dimm` at run time: the DIMM goes to the lowest free address of the
    /// device memory region (1 GiB aligned start of the region, DIMMs packed after each other),
    /// then the ACPI hotplug event adds it and the guest reports `_OST` 0 — also when the add
    /// fails: `acpi_device_hotplug` → `acpi_scan_device_check` → `acpi_bus_scan` →
    /// `acpi_bus_attach` ignores a scan handler's error (`acpi_scan_attach_handler` < 0 →
    /// return 0), so the scan succeeds and `_OST` is ACPI_OST_SC_SUCCESS; only "add_memory
    /// failed" in the log tells. QEMU's device stays where it was placed
    /// (`unattachedDIMMs`), so the next DIMM goes above it.
    @discardableResult
    public func hotAddDIMM(id: String, sizeBytes: Int, node: Int = 0) throws -> [Int] {
        enterKernel()
        defer { exitToUserMode() }
        let start = try freeDeviceMemoryAddress(sizeBytes: sizeBytes)
        if drivers.pendingEject != nil {
            // acpi_hotplug_schedule queues the insertion on kacpi_hotplug, an ordered
            // workqueue whose one worker spins in the eject: nothing happens, no _OST, until
            // the eject ends (`acpiHotplugWorkerRetries` runs the queue).
            drivers.unattachedDIMMs[id] = PFNRange(
                start: start >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift)
            drivers.queuedDIMMAdds.append((id, node))
            return []
        }
        return try acpiDIMMInserted(id: id, startBytes: start, sizeBytes: sizeBytes, node: node)
    }

    /// The insertion event of a placed DIMM: `acpi_memory_device_add`, then `_OST` 0 whatever
    /// the add did; a failed add leaves QEMU's device where it was placed (`unattachedDIMMs`).
    func acpiDIMMInserted(id: String, startBytes start: Int, sizeBytes: Int, node: Int) throws -> [Int] {
        defer { drivers.ostEvents.append((id, 0)) }
        do {
            return try acpiMemoryDeviceAdd(id: id, startBytes: start, sizeBytes: sizeBytes, node: node)
        } catch {
            drivers.unattachedDIMMs[id] = PFNRange(
                start: start >> Geometry.pageShift, count: sizeBytes >> Geometry.pageShift)
            throw error
        }
    }

    /// First fit in the hotplug region for a DIMM of this size (QEMU's memory_device_get_free_addr).
    func freeDeviceMemoryAddress(sizeBytes: Int) throws -> Int {
        let region = layout?.deviceMemory ?? (1 << 32)..<(memmap.pfnCount << Geometry.pageShift)
        let used =
            (drivers.acpiDevices.values.map(\.range) + drivers.unattachedDIMMs.values).map {
                ($0.start << Geometry.pageShift, $0.end << Geometry.pageShift)
            }
            + (layout?.dimms.map { ($0.start, $0.start + $0.sizeBytes) } ?? [])
        var addr = region.lowerBound
        for (s, e) in used.sorted(by: { $0.0 < $1.0 }) where e > addr {
            if s >= addr + sizeBytes { break }
            addr = Swift.max(addr, e)
        }
        guard addr + sizeBytes <= region.upperBound else {
            throw KernelError(.noSpace, "no room for a \(sizeBytes)-byte DIMM")
        }
        return addr
    }

    /// QEMU `device_del` of a DIMM: `acpi_scan_hot_remove`. `_OST` 0x84 (in progress), then
    /// the two-pass offline of the device's blocks (`acpi_scan_try_to_offline`, errors ignored
    /// in the first pass). If a block still fails, the blocks the eject offlined are onlined
    /// again with the *default* zone (`device_online` without an online_type), the guest logs
    /// "Offline failed.", reports `_OST` 0x82 and the eject is refused (EBUSY). Otherwise the
    /// memory is removed and `_OST` 0 reported. The ACPI hotplug worker is a kernel thread: no
    /// signal stops its offline_pages(), so on a block whose pages never migrate it spins
    /// until they are freed. The model then leaves the eject pending (the worker retries when
    /// the calling task leaves the kernel: `acpiHotplugWorkerRetries`), advances to `deadline`
    /// (the host waited that long for DEVICE_DELETED) and throws EBUSY with only 0x84 reported.
    public func acpiEjectDIMM(id: String, deadline: UInt64? = nil) throws {
        enterKernel()
        defer { exitToUserMode() }
        // One ordered hotplug worker: the next eject waits behind the spinning one.
        if let busy = drivers.pendingEject {
            throw KernelError(.resourceBusy, "the ACPI hotplug worker is busy with \(busy.device)")
        }
        if drivers.acpiDevices[id] == nil, drivers.unattachedDIMMs[id] != nil {
            // A DIMM whose add failed has no scan handler and no memory: acpi_scan_hot_remove
            // finds nothing to offline (acpi_scan_try_to_offline walks no physical nodes),
            // trims the device and calls _EJ0, and QEMU deletes it.
            drivers.ostEvents.append((id, 0x84))
            drivers.unattachedDIMMs[id] = nil
            drivers.ostEvents.append((id, 0))
            return
        }
        guard drivers.acpiDevices[id] != nil else {
            throw KernelError(.operationNotSupportedByDevice, "no ACPI memory device \(id)")
        }
        drivers.ostEvents.append((id, 0x84))
        let range = drivers.acpiDevices[id]!.range
        var walk = PendingEject(
            device: id, ids: blocks.filter { $0.value.range.intersects(range) }.map(\.key).sorted(), next: 0,
            putOnline: [], failed: false, secondPass: false, spinning: -1, pfn: 0, kind: .absent)
        if try !acpiEjectWalk(&walk) {
            clock = Swift.max(clock, deadline ?? clock)
            throw KernelError(.resourceBusy, "memory\(walk.spinning): offline_pages() spins")
        }
    }

    /// The spinning worker's next offline_pages() pass: once the page it was stuck on changed
    /// (freed, or no longer of the kind that never migrates) the offline is retried from the
    /// start and the walk goes on; otherwise the pass changes nothing. Run where the worker
    /// gets the CPU, when the calling task leaves the kernel (`exitToUserMode`).
    func acpiHotplugWorkerRetries() {
        guard var walk = drivers.pendingEject, memmap.kind(walk.pfn) != walk.kind else { return }
        drivers.pendingEject = nil
        let b = walk.spinning
        if let mem = blocks[b], let zt = mem.zone {
            let z = zoneIndex(node: mem.node, type: zt)
            undoIsolatePageRange(PFNRange(start: mem.startPFN + mem.vmemmapPages, end: mem.range.end), zone: z)
            zonePCPEnable(z)
            blocks[b]!.state = .online
        }
        _ = try? acpiEjectWalk(&walk)
        // The eject is over: the insertions queued behind it run, in order.
        while drivers.pendingEject == nil, !drivers.queuedDIMMAdds.isEmpty {
            let (id, node) = drivers.queuedDIMMAdds.removeFirst()
            guard let range = drivers.unattachedDIMMs.removeValue(forKey: id) else { continue }
            _ = try? acpiDIMMInserted(
                id: id, startBytes: range.start << Geometry.pageShift, sizeBytes: range.count << Geometry.pageShift,
                node: node)
        }
    }

    /// The two passes of `acpi_scan_try_to_offline` from where `walk` stands, then the
    /// refusal or the removal. Returns false when the walk is left pending on a spinning block.
    func acpiEjectWalk(_ walk: inout PendingEject) throws -> Bool {
        let id = walk.device
        var errdev: Int?
        while walk.next < walk.ids.count {
            let bid = walk.ids[walk.next]
            if walk.secondPass && walk.putOnline.contains(bid) { walk.next += 1; continue }
            do {
                // acpi_bus_offline: pn->put_online = !ret, in both passes.
                if try deviceOffline(bid, signals: false) { walk.putOnline.insert(bid) }
            } catch let spins as OfflineSpins {
                acpiEjectSuspend(walk, spins)
                return false
            } catch {
                if walk.secondPass { errdev = bid; break }
                walk.failed = true
            }
            walk.next += 1
            if !walk.secondPass && walk.next == walk.ids.count && walk.failed {
                walk.secondPass = true
                walk.next = 0
            }
        }
        if let bad = errdev {
            log("memory memory\(bad): Offline failed.")
            explain.add(
                time: clock, id,
                "eject refused: memory\(bad) could not be offlined; re-onlined \(walk.putOnline.sorted().map { "memory\($0)" }.joined(separator: ", ")) with the default zone"
            )
            for bid in walk.putOnline.sorted() { _ = try? deviceOnline(bid) }
            drivers.ostEvents.append((id, 0x82))
            throw KernelError(.resourceBusy, "memory\(bad): Offline failed.")
        }
        // acpi_bus_trim → acpi_memory_device_remove → __remove_memory, then _EJ0.
        let dev = drivers.acpiDevices[id]!
        try removeMemory(
            startBytes: dev.range.start << Geometry.pageShift, sizeBytes: dev.range.count << Geometry.pageShift)
        hotplug.groups[dev.group] = nil
        drivers.acpiDevices[id] = nil
        drivers.ostEvents.append((id, 0))
        return true
    }

    /// The worker spins in offline_pages() on `spins.block`: its state stays going-offline,
    /// its range isolated and its zone's pcp lists disabled, as while the kernel retries.
    func acpiEjectSuspend(_ walk: PendingEject, _ spins: OfflineSpins) {
        var walk = walk
        walk.spinning = spins.block
        walk.pfn = spins.pfn
        walk.kind = spins.kind
        if let mem = blocks[spins.block], let zt = mem.zone {
            let z = zoneIndex(node: mem.node, type: zt)
            zonePCPDisable(z)
            _ = startIsolatePageRange(
                PFNRange(start: mem.startPFN + mem.vmemmapPages, end: mem.range.end), zone: z, memoryOffline: true)
            blocks[spins.block]!.state = .goingOffline
        }
        drivers.pendingEject = walk
        explain.add(
            time: clock, walk.device,
            "the ACPI hotplug worker spins in offline_pages() on memory\(spins.block): pfn \(hex(spins.pfn)) is \(spins.kind) (\(neverMigratesWhy(spins.kind))); no signal reaches a kernel thread, so the eject waits until that page is freed"
        )
    }
}

extension String {
    /// Two decimal digits, zero padded (`%02d`).
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
