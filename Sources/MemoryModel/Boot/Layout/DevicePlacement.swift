/// Boot stage 8: the DIMMs and virtio-mem devices QEMU places in the device memory region
/// (first fit, back to back, in command-line order), and which DIMMs the kernel's ACPI
/// memory driver refuses at boot (`mem=`: -E2BIG; not block aligned: -EINVAL).
extension BootLayout {
    static func placeDevices(
        _ config: MachineConfig, qemu q: QEMUMachine, pxmToNode: [Int: Int], params: KernelParameters,
        blockSize: Int, log: inout [String]
    ) throws -> (dimms: [DIMMPlacement], virtioMem: [VirtioMemPlacement]) {
        var dimms: [DIMMPlacement] = []
        var virtio: [VirtioMemPlacement] = []
        if let dm = q.deviceMemory {
            var used: [Range<Int>] = []
            func place(_ size: Int, align: Int) -> Int? {
                var addr = roundUp(dm.lowerBound, align)
                for u in used.sorted(by: { $0.lowerBound < $1.lowerBound })
                where addr + size > u.lowerBound && addr < u.upperBound {
                    addr = roundUp(u.upperBound, align)
                }
                return addr + size <= dm.upperBound ? addr : nil
            }
            let lastNode = pxmToNode[q.qemuNodes - 1] ?? 0
            for d in config.dimms {
                guard let a = place(d.sizeBytes, align: dimmAlign) else {
                    throw MachineConfigError(
                        "DIMM \(d.id): no free range of \(hex(d.sizeBytes)) in the device memory region \(hex(dm.lowerBound))-\(hex(dm.upperBound - 1))"
                    )
                }
                used.append(a..<(a + d.sizeBytes))
                var why: String? = nil
                if let limit = params.memLimitBytes, a + d.sizeBytes > limit {
                    why = "mem= restriction: add_memory() refuses memory above max_mem_size while booting (-E2BIG)"
                } else if a % Geometry.sectionSize != 0 || d.sizeBytes % blockSize != 0 {
                    why = "not aligned to the memory block size (\(blockSize >> 20) MiB): add_memory() -EINVAL"
                }
                dimms.append(
                    DIMMPlacement(
                        id: d.id, pxm: d.node, node: pxmToNode[d.node] ?? lastNode, start: a,
                        sizeBytes: d.sizeBytes, refusedReason: why))
            }
            for v in config.virtioMem {
                let align = max(v.blockBytes, dimmAlign)
                guard let a = place(v.regionBytes, align: align) else {
                    throw MachineConfigError(
                        "virtio-mem \(v.id): no free range of \(hex(v.regionBytes)) in the device memory region")
                }
                used.append(a..<(a + v.regionBytes))
                virtio.append(
                    VirtioMemPlacement(
                        id: v.id, pxm: v.node, node: pxmToNode[v.node] ?? lastNode, start: a,
                        regionBytes: v.regionBytes, blockBytes: v.blockBytes))
            }
        }
        for (i, d) in dimms.enumerated() where d.refusedReason?.hasPrefix("mem=") ?? false {
            log.append("acpi PNP0C80:\(String(i, radix: 16).leftPadded(2, "0")): add_memory failed")
        }
        return (dimms, virtio)
    }
}
