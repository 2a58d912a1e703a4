import MemoryModel

extension ProcViews {
    /// One iomem resource: [start, end] inclusive, name, children.
    struct Resource {
        var start: Int
        var end: Int
        var name: String
        var children: [Resource] = []
    }

    /// The "System RAM" resources: boot e820 RAM (page 0 is "Reserved"), then memory added
    /// by ACPI DIMMs (one resource per DIMM) and virtio-mem (adjacent blocks merged, named
    /// `System RAM (virtio_mem)`), read from the memory blocks present now.
    static func systemRAM(_ m: Machine) -> [Resource] {
        var out: [Resource] = []
        if let layout = m.layout {
            for e in layout.e820User ?? layout.e820 where e.kind == .usable {
                let s = Swift.max(e.start, 0x1000)
                if s < e.end { out.append(Resource(start: s, end: e.end - 1, name: "System RAM")) }
            }
        } else if let host = m.host {
            for r in host.ram {
                let res = Resource(start: r.range.start << 12, end: (r.range.end << 12) - 1, name: "System RAM")
                if let last = out.last, last.end + 1 == res.start {
                    out[out.count - 1].end = res.end
                } else {
                    out.append(res)
                }
            }
        } else {
            for z in m.zones where z.presentPages > 0 {
                out.append(Resource(start: z.startPFN << 12, end: (z.endPFN << 12) - 1, name: "System RAM"))
            }
        }
        let added = addedRanges(m)
        if added.isEmpty, let layout = m.layout {
            // Blocks not created yet: the DIMMs the layout accepted at boot.
            for d in layout.dimms where d.accepted {
                out.append(Resource(start: d.start, end: d.start + d.sizeBytes - 1, name: "System RAM"))
            }
        }
        for r in added {
            let virtio = isVirtioMem(m, r.device)
            let res = Resource(
                start: r.start << 12, end: (r.end << 12) - 1,
                name: virtio ? "System RAM (virtio_mem)" : "System RAM")
            if virtio, let last = out.last, last.name == res.name, last.end + 1 == res.start {
                out[out.count - 1].end = res.end
            } else {
                out.append(res)
            }
        }
        return out
    }

    /// The "System RAM" lines of /proc/iomem, as the captures list them.
    public static func iomemSystemRAMLines(_ m: Machine) -> [String] {
        systemRAM(m).map { "\(hex0($0.start, 8))-\(hex0($0.end, 8)) : \($0.name)" }
    }

    /// `/proc/iomem` as root sees it (real addresses): RAM, e820 reservations, the PCI
    /// windows of the pc machine, the platform devices, the kernel image's sections.
    public static func iomem(_ m: Machine) -> String {
        // A machine booted from a snapshot shows the host's own resources.
        if let host = m.host, !host.iomem.isEmpty { return host.iomem.joined(separator: "\n") + "\n" }
        var top: [Resource] = []
        var ram = systemRAM(m)
        if let layout = m.layout {
            let img = layout.kernelImage.start << 12
            for (i, r) in ram.enumerated() where r.start <= img && img <= r.end {
                ram[i].children = IomemCalibration.kernelSections.map {
                    Resource(start: img + $0.start, end: img + $0.end - 1, name: $0.name)
                }
            }
            top += ram
            top.append(Resource(start: 0, end: 0xfff, name: "Reserved"))
            for e in layout.e820User ?? layout.e820 where e.kind == .reserved {
                var r = Resource(start: e.start, end: e.end - 1, name: "Reserved")
                if e.start == 0xf_0000 { r.children = [Resource(start: 0xf_0000, end: 0xf_ffff, name: "System ROM")] }
                top.append(r)
            }
            // PCI windows: legacy VGA, the 32-bit hole above low RAM, the 64-bit hole.
            top.append(Resource(start: 0xa_0000, end: 0xb_ffff, name: "PCI Bus 0000:00"))
            top.append(Resource(start: layout.belowFourGBytes, end: 0xfebf_ffff, name: "PCI Bus 0000:00"))
            let hole64: Int
            if let dev = layout.deviceMemory {
                hole64 = roundUp(dev.upperBound, 1 << 30)
            } else {
                hole64 = roundUp(
                    layout.aboveFourGBytes > 0 ? layout.aboveFourGStart + layout.aboveFourGBytes : 4 << 30, 1 << 30)
            }
            top.append(
                Resource(start: hole64, end: hole64 + IomemCalibration.pciHole64Size - 1, name: "PCI Bus 0000:00"))
            for (s, e, name, kids) in IomemCalibration.platform {
                top.append(
                    Resource(
                        start: s, end: e, name: name,
                        children: kids.map { Resource(start: $0.0, end: $0.1, name: $0.2) }))
            }
        } else {
            top = ram
        }
        top.sort { $0.start < $1.start }
        var out = ""
        func emit(_ r: Resource, _ depth: Int) {
            out += String(repeating: "  ", count: depth) + "\(hex0(r.start, 8))-\(hex0(r.end, 8)) : \(r.name)\n"
            for c in r.children.sorted(by: { $0.start < $1.start }) { emit(c, depth + 1) }
        }
        for r in top { emit(r, 0) }
        return out
    }
}
