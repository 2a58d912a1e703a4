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
    /// then the ACPI hotplug event adds it and the guest reports `_OST` 0 on success.
    @discardableResult
    public func hotAddDIMM(id: String, sizeBytes: Int, node: Int = 0) throws -> [Int] {
        let start = try freeDeviceMemoryAddress(sizeBytes: sizeBytes)
        do {
            let ids = try acpiMemoryDeviceAdd(id: id, startBytes: start, sizeBytes: sizeBytes, node: node)
            drivers.ostEvents.append((id, 0))
            return ids
        } catch {
            drivers.ostEvents.append((id, 0x80 | 0x0f))  // insertion failure
            throw error
        }
    }

    /// First fit in the hotplug region for a DIMM of this size (QEMU's memory_device_get_free_addr).
    func freeDeviceMemoryAddress(sizeBytes: Int) throws -> Int {
        let region = layout?.deviceMemory ?? (1 << 32)..<(memmap.pfnCount << Geometry.pageShift)
        let used =
            drivers.acpiDevices.values.map {
                ($0.range.start << Geometry.pageShift, $0.range.end << Geometry.pageShift)
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
    /// the two-pass offline of the device's blocks (errors ignored in the first pass). If a
    /// block still fails, the blocks this eject offlined are onlined again with the *default*
    /// zone (`device_online` without an online_type), the guest logs "Offline failed.",
    /// reports `_OST` 0x82 and the eject is refused (EBUSY). Otherwise the memory is removed
    /// and `_OST` 0 reported. The ACPI hotplug worker gets no signals, so a spinning offline
    /// is bounded by `deadline` or the default timeout and counts as a failure.
    public func acpiEjectDIMM(id: String, deadline: UInt64? = nil) throws {
        guard let dev = drivers.acpiDevices[id] else {
            throw KernelError(.operationNotSupportedByDevice, "no ACPI memory device \(id)")
        }
        drivers.ostEvents.append((id, 0x84))
        let ids = blocks.filter { $0.value.range.intersects(dev.range) }.map(\.key).sorted()
        var putOnline = Set<Int>()
        var errdev: Int?
        for bid in ids {
            do { if try deviceOffline(bid, deadline: deadline) { putOnline.insert(bid) } } catch { errdev = bid }
        }
        if errdev != nil {
            errdev = nil
            for bid in ids where !putOnline.contains(bid) {
                do { _ = try deviceOffline(bid, deadline: deadline) } catch { errdev = bid; break }
            }
            if let bad = errdev {
                log("memory memory\(bad): Offline failed.")
                explain.add(
                    time: clock, id,
                    "eject refused: memory\(bad) could not be offlined; re-onlined \(putOnline.sorted().map { "memory\($0)" }.joined(separator: ", ")) with the default zone"
                )
                for bid in putOnline.sorted() { _ = try? deviceOnline(bid) }
                drivers.ostEvents.append((id, 0x82))
                throw KernelError(.resourceBusy, "memory\(bad): Offline failed.")
            }
        }
        // acpi_bus_trim → acpi_memory_device_remove → __remove_memory, then _EJ0.
        try removeMemory(
            startBytes: dev.range.start << Geometry.pageShift, sizeBytes: dev.range.count << Geometry.pageShift)
        hotplug.groups[dev.group] = nil
        drivers.acpiDevices[id] = nil
        drivers.ostEvents.append((id, 0))
    }
}

extension String {
    /// Two decimal digits, zero padded (`%02d`).
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}
