/// Boot stage 1: the machine QEMU builds from `-m`, `slots`, `maxmem`, `-numa` and the memory
/// devices, after the checks QEMU (and this model) make: where RAM sits below and above
/// 4 GiB (hw/i386/pc.c, pc_piix.c) and where the device memory region lies.
struct QEMUMachine: Sendable, Equatable {
    /// maxmem − mem: the room DIMMs and virtio-mem devices share.
    var hotplugSpace: Int
    /// Boot RAM per QEMU NUMA node, by node id; empty when QEMU builds no NUMA (and no SRAT).
    var nodeMemory: [Int]
    var belowFourGBytes: Int
    var aboveFourGBytes: Int
    /// 4 GiB, or 1 TiB when the highest used address would reach the AMD HyperTransport hole.
    var aboveFourGStart: Int
    /// The hotplug (device memory) region, bytes; nil without `maxmem > mem`.
    var deviceMemory: Range<Int>?
    /// The highest guest physical address the layout uses, the 64-bit PCI hole included
    /// (pc_max_used_gpa).
    var maxUsedAddress: Int

    var qemuNodes: Int { nodeMemory.count }
}

extension BootLayout {
    /// Physical address bits the model's guests have: x86_64's most (MAX_PHYSMEM_BITS with
    /// 5-level paging), where the memmap of every pfn fits. QEMU's TCG qemu64 CPU has 40.
    static let physBits = 52

    static func qemuMachine(_ config: MachineConfig) throws -> QEMUMachine {
        let (hotplugSpace, nodeMemory) = try validate(config)
        let q = placeRAM(config, hotplugSpace: hotplugSpace, nodeMemory: nodeMemory)
        // pc_memory_init: the layout must fit the CPU's physical address bits.
        let limit = (1 << physBits) - 1
        guard q.maxUsedAddress <= limit else {
            throw MachineConfigError(
                "Address space limit \(hex(limit)) < \(hex(q.maxUsedAddress)) phys-bits too low (\(physBits))")
        }
        return q
    }

    /// What QEMU refuses (its error text where it has one) and what this model cannot boot.
    /// Returns maxmem − mem and the boot RAM per QEMU NUMA node.
    static func validate(_ config: MachineConfig) throws -> (hotplugSpace: Int, nodeMemory: [Int]) {
        let page = Geometry.pageSize
        func fail(_ m: String) -> MachineConfigError { MachineConfigError(m) }
        guard config.memBytes > 0 else { throw fail("-m: memory size must be positive (got \(config.memBytes))") }
        guard config.memBytes % page == 0 else {
            throw fail("-m: memory size \(config.memBytes) is not a multiple of the 4 KiB page size")
        }
        guard config.memBytes >= minBootBytes else {
            throw fail(
                "-m: \(config.memBytes >> 20) MiB is too small to boot the Debian 6.1 kernel (model minimum 128 MiB)")
        }
        guard config.slots >= 0 else { throw fail("slots=\(config.slots) must not be negative") }
        guard config.slots <= maxSlots else {
            throw fail("slots=\(config.slots): unsupported amount of memory slots (at most \(maxSlots))")
        }
        guard config.maxmemBytes >= 0 else { throw fail("maxmem=\(config.maxmemBytes) must not be negative") }
        let maxmem = config.maxmemBytes == 0 ? config.memBytes : config.maxmemBytes
        guard maxmem % page == 0 else { throw fail("maxmem=\(maxmem) is not a multiple of the 4 KiB page size") }
        guard maxmem >= config.memBytes else {
            throw fail(
                "invalid value of maxmem: maximum memory size (\(hex(maxmem))) must be at least the initial memory size (\(hex(config.memBytes)))"
            )
        }
        if config.slots > 0 && config.maxmemBytes != 0 && maxmem == config.memBytes {
            throw fail(
                "invalid value of maxmem: memory slots were specified but maximum memory size equals initial memory size (\(hex(maxmem)))"
            )
        }
        let hotplugSpace = maxmem - config.memBytes
        // QEMU turns NUMA on by itself when memory can be hot-plugged (auto_enable_numa_with_memhp/_memdev).
        let numaOn = !config.nodes.isEmpty || config.slots > 0 && config.maxmemBytes != 0 || hotplugSpace > 0
        var nodeMem: [Int] = []
        if config.nodes.isEmpty {
            if numaOn { nodeMem = [config.memBytes] }
        } else {
            let ids = config.nodes.map(\.id)
            let uses = Dictionary(ids.map { ($0, 1) }, uniquingKeysWith: +)
            if let twice = ids.first(where: { uses[$0, default: 0] > 1 }) {
                throw fail("-numa: node id \(twice) is given twice")
            }
            for i in 0..<ids.count where !ids.contains(i) {
                throw fail("-numa: node ID missing: \(i) (node ids must be 0..\(ids.count - 1))")
            }
            for n in config.nodes.sorted(by: { $0.id < $1.id }) {
                guard n.memBytes >= 0 else { throw fail("-numa node \(n.id): negative memory size \(n.memBytes)") }
                guard n.memBytes % page == 0 else {
                    throw fail("-numa node \(n.id): memory size \(n.memBytes) is not a multiple of the 4 KiB page size")
                }
                nodeMem.append(n.memBytes)
            }
            let sum = nodeMem.reduce(0, +)
            guard sum == config.memBytes else {
                throw fail("total memory for NUMA nodes (\(hex(sum))) should equal RAM size (\(hex(config.memBytes)))")
            }
        }
        let qemuNodes = nodeMem.count
        if hotplugSpace == 0 && !(config.dimms.isEmpty && config.virtioMem.isEmpty) {
            throw fail("memory devices (pc-dimm, virtio-mem) need maxmem greater than the initial memory size")
        }
        guard config.dimms.count <= config.slots else {
            throw fail("\(config.dimms.count) DIMMs but only \(config.slots) memory slots (no free slots available)")
        }
        var seenIDs = Set<String>()
        for d in config.dimms {
            guard seenIDs.insert(d.id).inserted else { throw fail("device id '\(d.id)' is used twice") }
            guard d.sizeBytes > 0 else { throw fail("DIMM \(d.id): size must be positive (got \(d.sizeBytes))") }
            guard d.sizeBytes % dimmAlign == 0 else {
                throw fail("DIMM \(d.id): backend memory size must be multiple of 0x\(String(dimmAlign, radix: 16))")
            }
            guard d.node >= 0 && d.node < max(qemuNodes, 1) else {
                throw fail(
                    "DIMM \(d.id): property node has value \(d.node) but the machine has \(max(qemuNodes, 1)) NUMA node(s)"
                )
            }
        }
        for v in config.virtioMem {
            guard seenIDs.insert(v.id).inserted else { throw fail("device id '\(v.id)' is used twice") }
            guard v.blockBytes >= dimmAlign, v.blockBytes & (v.blockBytes - 1) == 0 else {
                throw fail("virtio-mem \(v.id): block-size \(v.blockBytes) must be a power of two of at least 2 MiB")
            }
            guard v.regionBytes > 0, v.regionBytes % v.blockBytes == 0 else {
                throw fail(
                    "virtio-mem \(v.id): region size \(v.regionBytes) must be a positive multiple of the block size \(v.blockBytes)"
                )
            }
            guard v.requestedBytes >= 0, v.requestedBytes <= v.regionBytes, v.requestedBytes % v.blockBytes == 0 else {
                throw fail(
                    "virtio-mem \(v.id): requested-size \(v.requestedBytes) must be a multiple of the block size and at most the region size"
                )
            }
            guard v.node >= 0 && v.node < max(qemuNodes, 1) else {
                throw fail("virtio-mem \(v.id): node \(v.node) does not exist")
            }
        }
        let deviceTotal =
            config.dimms.reduce(0) { $0 + $1.sizeBytes } + config.virtioMem.reduce(0) { $0 + $1.regionBytes }
        guard deviceTotal <= hotplugSpace else {
            throw fail(
                "not enough space for memory devices: \(hex(deviceTotal)) requested, maxmem − mem leaves \(hex(hotplugSpace))"
            )
        }
        return (hotplugSpace, nodeMem)
    }

    /// The pc machine's RAM split (`max-ram-below-4g`, gigabyte_align), the device memory
    /// region above RAM (`slots` × 1 GiB of alignment slack on top of maxmem − mem) and
    /// RAM above 4 GiB moved to 1 TiB when the layout would reach the AMD HT hole.
    static func placeRAM(_ config: MachineConfig, hotplugSpace: Int, nodeMemory: [Int]) -> QEMUMachine {
        let below = config.memBytes >= lowmemDefault ? lowmemGigabyteAligned : config.memBytes
        let above = config.memBytes - below
        let deviceSize = hotplugSpace > 0 ? hotplugSpace + config.slots * GiB : 0
        func layoutEnds(aboveStart: Int) -> (device: Range<Int>?, maxUsed: Int) {
            let ramEnd = aboveStart + above
            if deviceSize > 0 {
                let base = roundUp(above > 0 ? ramEnd : 4 * GiB, GiB)
                return (base..<(base + deviceSize), roundUp(base + deviceSize, GiB) + pciHole64Size - 1)
            }
            return (nil, roundUp(above > 0 ? ramEnd : 4 * GiB, GiB) + pciHole64Size - 1)
        }
        var aboveStart = 4 * GiB
        if layoutEnds(aboveStart: aboveStart).maxUsed >= amdHTStart { aboveStart = amdAbove1T }
        let ends = layoutEnds(aboveStart: aboveStart)
        return QEMUMachine(
            hotplugSpace: hotplugSpace, nodeMemory: nodeMemory, belowFourGBytes: below, aboveFourGBytes: above,
            aboveFourGStart: aboveStart, deviceMemory: ends.device, maxUsedAddress: ends.maxUsed)
    }

    /// Boot stage 2: the SRAT memory affinity entries QEMU's build_srat writes (boot RAM per
    /// node around the 640 KiB–1 MiB hole and the 4 GiB split, then the whole device memory
    /// region as hotpluggable on the last node), and Linux's PXM → node map (first seen,
    /// CPU 0's PXM 0 first).
    static func srat(_ q: QEMUMachine) -> (entries: [SRATMemory], pxmToNode: [Int: Int]) {
        let below = q.belowFourGBytes
        var sratRaw: [(pxm: Int, start: Int, end: Int, hotplug: Bool)] = []
        if q.qemuNodes > 0 {
            var next = 0
            for (i, m) in q.nodeMemory.enumerated() {
                var base = next, len = m
                next = base + len
                if base <= 0xa0000 && next > 0xa0000 {
                    len -= next - 0xa0000
                    if len > 0 { sratRaw.append((i, base, base + len, false)) }
                    if next <= 0x100000 { next = 0x100000; continue }
                    base = 0x100000; len = next - 0x100000
                }
                if base <= below && next > below {
                    len -= next - below
                    if len > 0 { sratRaw.append((i, base, base + len, false)) }
                    base = q.aboveFourGStart; len = next - below; next = base + len
                }
                if len > 0 { sratRaw.append((i, base, base + len, false)) }
            }
            if let dm = q.deviceMemory { sratRaw.append((q.qemuNodes - 1, dm.lowerBound, dm.upperBound, true)) }
        }
        var pxmToNode: [Int: Int] = [:]
        if q.qemuNodes > 0 { pxmToNode[0] = 0 }
        for e in sratRaw where pxmToNode[e.pxm] == nil { pxmToNode[e.pxm] = pxmToNode.count }
        // Every PXM of sratRaw was given a node just above.
        let entries = sratRaw.map {
            SRATMemory(pxm: $0.pxm, node: pxmToNode[$0.pxm]!, start: $0.start, end: $0.end, hotpluggable: $0.hotplug)
        }
        return (entries, pxmToNode)
    }
}
