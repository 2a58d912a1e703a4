import XCTest

@testable import MemoryModel

/// Each boot stage of `BootLayout.compute` on its own, against the real 6.1 captures in
/// tests/fixtures/linux-6.1-captures (lines copied as literals, with file and line) or
/// figures computed by hand in the comments.
final class BootStageTests: XCTestCase {
    let G = 1 << 30, M = 1 << 20
    /// The captures' command line and machine: -m 1G,slots=4,maxmem=4G.
    let base = "console=ttyS0 quiet panic=-1"

    // MARK: Stage 1: QEMU's machine

    func testQEMUSplitsRAMAndPlacesTheDeviceRegion() throws {
        // 1 GiB, maxmem 4 GiB, 4 slots: all RAM below 4 GiB; the region starts at 4 GiB and is
        // 3 GiB (maxmem − mem) + 4 × 1 GiB of slot alignment = 7 GiB long: 0x100000000-0x2bfffffff,
        // the hotplug SRAT entry of a-baseline.dmesg.txt:41.
        let a = try BootLayout.qemuMachine(MachineConfig())
        XCTAssertEqual([a.belowFourGBytes, a.aboveFourGBytes, a.aboveFourGStart], [G, 0, 4 * G])
        XCTAssertEqual(a.deviceMemory, 0x1_0000_0000..<0x2_c000_0000)
        XCTAssertEqual(a.nodeMemory, [G], "memory hotplug turns NUMA on: one node")

        // 4 GiB (>= 3.5 GiB): the split moves down to 3 GiB; 1 GiB above 4 GiB ends at 5 GiB,
        // where the region (4 GiB + 2 slots × 1 GiB) starts.
        let b = try BootLayout.qemuMachine(MachineConfig(memBytes: 4 * G, maxmemBytes: 8 * G, slots: 2))
        XCTAssertEqual([b.belowFourGBytes, b.aboveFourGBytes, b.aboveFourGStart], [3 * G, G, 4 * G])
        XCTAssertEqual(b.deviceMemory, (5 * G)..<(11 * G))

        // No maxmem, no slots, no -numa: no NUMA and no region.
        let c = try BootLayout.qemuMachine(MachineConfig(maxmemBytes: 0, slots: 0))
        XCTAssertEqual(c.nodeMemory, [])
        XCTAssertNil(c.deviceMemory)
    }

    func testQEMUMovesRAMAboveTheAMDHyperTransportHole() {
        // 1000 GiB: 3 GiB below, 997 GiB from 4 GiB ends at 1001 GiB; + 2 GiB of 64-bit PCI
        // hole = 1003 GiB, below the HT hole at 0xfd00000000 (1012 GiB): stays at 4 GiB.
        let fits = BootLayout.placeRAM(
            MachineConfig(memBytes: 1000 * G, maxmemBytes: 0), hotplugSpace: 0, nodeMemory: [])
        XCTAssertEqual(fits.aboveFourGStart, 4 * G)
        // 1010 GiB: 1011 + 2 = 1013 GiB would reach it: RAM above 4 GiB starts at 1 TiB.
        let moved = BootLayout.placeRAM(
            MachineConfig(memBytes: 1010 * G, maxmemBytes: 0), hotplugSpace: 0, nodeMemory: [])
        XCTAssertEqual(moved.aboveFourGStart, 1 << 40)
    }

    func testQEMURefusesWhatQEMURefuses() {
        func message(_ c: MachineConfig) -> String? {
            do { _ = try BootLayout.validate(c); return nil } catch { return (error as? MachineConfigError)?.message }
        }
        XCTAssertEqual(
            message(
                MachineConfig(
                    nodes: [
                        NodeConfig(id: 1, memBytes: 256 * M), NodeConfig(id: 0, memBytes: 512 * M),
                        NodeConfig(id: 1, memBytes: 256 * M)
                    ])), "-numa: node id 1 is given twice")
        XCTAssertEqual(
            message(MachineConfig(memBytes: 64 * M)),
            "-m: 64 MiB is too small to boot the Debian 6.1 kernel (model minimum 128 MiB)")
        XCTAssertEqual(
            message(MachineConfig(dimms: [DIMMConfig(id: "d", sizeBytes: 3 * M)])),
            "DIMM d: backend memory size must be multiple of 0x200000")
        XCTAssertNil(message(MachineConfig()))
    }

    // MARK: Stage 2: SRAT

    func testSRATOfTheCapturesAndOfTwoNodes() throws {
        // a-baseline.dmesg.txt:39-41
        let (entries, map) = BootLayout.srat(try BootLayout.qemuMachine(MachineConfig()))
        XCTAssertEqual(
            entries.map(\.line),
            [
                "ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]",
                "ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x3fffffff]",
                "ACPI: SRAT: Node 0 PXM 0 [mem 0x100000000-0x2bfffffff] hotplug"
            ])
        XCTAssertEqual(map, [0: 0])
        // Two nodes of 512 MiB, maxmem 4 GiB, 2 slots: node 0 around the 640 KiB-1 MiB hole,
        // node 1 from 512 MiB to 1 GiB, and the region (4 GiB .. 4 + 3 + 2 GiB) on the last node.
        let two = MachineConfig(
            maxmemBytes: 4 * G, slots: 2,
            nodes: [NodeConfig(id: 0, memBytes: 512 * M), NodeConfig(id: 1, memBytes: 512 * M)])
        let (e2, map2) = BootLayout.srat(try BootLayout.qemuMachine(two))
        XCTAssertEqual(
            e2.map { [$0.node, $0.start, $0.end] },
            [
                [0, 0, 0xa0000], [0, 0x100000, 512 * M], [1, 512 * M, G], [1, 4 * G, 9 * G]
            ])
        XCTAssertEqual(e2.map(\.hotpluggable), [false, false, false, true])
        XCTAssertEqual(map2, [0: 0, 1: 1])
    }

    // MARK: Stage 3: e820

    func testE820OfTheCaptures() throws {
        let q = try BootLayout.qemuMachine(MachineConfig())
        let e820 = BootLayout.firmwareE820(q)
        // a-baseline.dmesg.txt:4-10
        XCTAssertEqual(
            e820.map { $0.line("BIOS-e820") }, BaselineCapture.e820)
        var log: [String] = []
        let params = KernelParameters(parsing: base, gbpages: false, nodeCount: 1)
        let k = try BootLayout.kernelE820(
            e820, config: MachineConfig(cmdline: base), params: params, profile: .captures, belowFourGBytes: G,
            log: &log)
        // Page 0 and 640 KiB-1 MiB gone; 0x9fc00 trims to pfn 0x9f.
        XCTAssertEqual(k.ram, [PFNRange(start: 1, end: 0x9f), PFNRange(start: 0x100, end: 0x3ffe0)])
        XCTAssertNil(k.user)
        XCTAssertEqual(log.first, "Command line: " + base)
        XCTAssertTrue(log.contains("last_pfn = 0x3ffe0 max_arch_pfn = 0x400000000"))  // a-baseline.dmesg.txt:17
        XCTAssertEqual(log.last, "RAMDISK: [mem 0x3fed2000-0x3ffdffff]")  // c-movablecore.dmesg.txt:20
        XCTAssertEqual(k.initrd.end, 0x3ffe0, "right below the BIOS's top 128 KiB of low RAM")
    }

    func testE820WithMemLimit() throws {
        // mem=512M: the usable range from 1 MiB ends at 512 MiB; nothing above.
        let q = try BootLayout.qemuMachine(MachineConfig())
        var log: [String] = []
        let params = KernelParameters(parsing: "mem=512M", gbpages: false, nodeCount: 1)
        let k = try BootLayout.kernelE820(
            BootLayout.firmwareE820(q), config: MachineConfig(cmdline: "mem=512M"), params: params,
            profile: .captures, belowFourGBytes: G, log: &log)
        XCTAssertEqual(k.ram.last, PFNRange(start: 0x100, end: 0x20000))
        XCTAssertEqual(k.maxPFN, 0x20000)
        XCTAssertTrue(log.contains("e820: remove [mem 0x20000000-0xfffffffffffffffe] usable"))
        XCTAssertTrue(log.contains("user: [mem 0x0000000000100000-0x000000001fffffff] usable"))
    }

    // MARK: Stage 4: NUMA

    func testNUMAMemoryFromSRATOrAFakedNode() {
        let ram = [PFNRange(start: 1, end: 0x9f), PFNRange(start: 0x100, end: 0x3ffe0)]
        var log: [String] = []
        let faked = BootLayout.numaMemory(ram: ram, srat: [], pxmToNode: [:], maxPFN: 0x3ffe0, log: &log)
        XCTAssertEqual(
            log,
            ["No NUMA configuration found", "Faking a node at [mem 0x0000000000000000-0x000000003ffdffff]"])
        XCTAssertEqual(faked.memoryRanges.map(\.node), [0, 0])
        XCTAssertEqual(faked.maxPossiblePFN, 0x3ffe0)
        XCTAssertEqual(faked.nodeIDs, [0])

        // Two nodes split at 512 MiB (pfn 0x20000) and a hotplug range ending at 9 GiB.
        let srat = [
            SRATMemory(pxm: 0, node: 0, start: 0, end: 512 * M, hotpluggable: false),
            SRATMemory(pxm: 1, node: 1, start: 512 * M, end: G, hotpluggable: false),
            SRATMemory(pxm: 1, node: 1, start: 4 * G, end: 9 * G, hotpluggable: true)
        ]
        log = []
        let two = BootLayout.numaMemory(ram: ram, srat: srat, pxmToNode: [0: 0, 1: 1], maxPFN: 0x3ffe0, log: &log)
        XCTAssertEqual(
            two.memoryRanges.map(\.range),
            [
                PFNRange(start: 1, end: 0x9f), PFNRange(start: 0x100, end: 0x20000),
                PFNRange(start: 0x20000, end: 0x3ffe0)
            ])
        XCTAssertEqual(two.memoryRanges.map(\.node), [0, 0, 1])
        XCTAssertEqual(two.maxPossiblePFN, 9 * G >> 12)
        XCTAssertEqual(two.nodeIDs, [0, 1])
        XCTAssertEqual(log.count, 3, "one line per SRAT entry")
    }

    // MARK: Stage 5: zones

    func testZoneRangesAndMovablecoreOfTheCaptures() {
        // a-baseline.dmesg.txt / c-movablecore.dmesg.txt:45-47: DMA 0x1000-0xffffff,
        // DMA32 0x1000000-0x3ffdffff, Normal empty.
        let (arch, movable) = BootLayout.archZoneRanges(firstPFN: 1, maxPFN: 0x3ffe0)
        XCTAssertEqual(arch[.dma], PFNRange(start: 1, end: 0x1000))
        XCTAssertEqual(arch[.dma32], PFNRange(start: 0x1000, end: 0x3ffe0))
        XCTAssertEqual(arch[.normal]?.isEmpty, true)
        XCTAssertEqual(movable, .dma32)

        // movablecore=256M (c-movablecore.dmesg.txt:50: Node 0: 0x0000000030000000). By hand:
        // 262014 present pages, 65536 movable, so 196478 kernel pages: 158 in DMA below the
        // first range's end, 3840 of DMA up to pfn 0x1000, then 192480 from 0x1000 = 0x2ffe0,
        // rounded up to MAX_ORDER_NR_PAGES (1024): 0x30000.
        let memory: [(range: PFNRange, node: Int)] = [
            (PFNRange(start: 1, end: 0x9f), 0), (PFNRange(start: 0x100, end: 0x3ffe0), 0)
        ]
        var log: [String] = []
        let params = KernelParameters(parsing: "movablecore=256M", gbpages: false, nodeCount: 1)
        let zmp = BootLayout.findZoneMovablePFNs(
            params: params, nodes: [0], ranges: { BootLayout.ranges(ofNode: $0, memory) },
            span: { BootLayout.span(ofNode: $0, memory) }, totalPages: 262014, usableStart: 0x1000, log: &log)
        XCTAssertEqual(zmp, [0: 0x30000])
        let nodes = BootLayout.nodeLayouts(
            nodeIDs: [0], memoryRanges: memory, arch: arch, movableZone: movable, movableStart: zmp, params: params)
        let z = nodes[0].zones
        XCTAssertEqual([z[0].startPFN, z[0].spannedPages, z[0].presentPages], [1, 0xfff, 0x9e + 0xf00])
        XCTAssertEqual([z[1].startPFN, z[1].spannedPages], [0x1000, 0x30000 - 0x1000])
        XCTAssertEqual([z[3].startPFN, z[3].spannedPages, z[3].presentPages], [0x30000, 0xffe0, 0xffe0])
        XCTAssertEqual(nodes[0].movableStartPFN, 0x30000)
    }

    // MARK: Stage 6: memblock

    func testMemblockReservationsOfTheCaptures() throws {
        let c = MachineConfig(cmdline: base)
        let l = try BootLayout.compute(c, profile: .captures)
        var log: [String] = []
        let numa = NUMAMemory(memoryRanges: l.memoryRanges, maxPossiblePFN: l.maxPossiblePFN, nodeIDs: [0])
        let unreserved = l.nodes.map { n in
            var n = n
            for i in n.zones.indices {
                n.zones[i].reservedPages = 0; n.zones[i].lateFreedPages = 0; n.zones[i].giganticPages = 0
            }
            return n
        }
        let m = try BootLayout.memblockReservations(
            config: c, profile: .captures, params: l.params, ram: l.memoryRanges.map(\.range), numa: numa,
            nodes: unreserved, maxPFN: l.maxPFN, initrd: PFNRange(start: 0x3fed2, end: 0x3ffe0), log: &log)
        XCTAssertEqual(log, ["NODE_DATA(0) allocated [mem 0x3fea7000-0x3fed1fff]"])  // a-baseline.dmesg.txt:43
        // software IO TLB: mapped [mem 0x000000003ac00000-0x000000003ec00000] (c-movablecore.dmesg.txt:284)
        XCTAssertEqual(m.swiotlb, PFNRange(start: 0x3ac00, end: 0x3ec00))
        XCTAssertEqual(m.reserved.first?.range, PFNRange(start: 0, end: 256), "the first MiB")
        XCTAssertEqual(m.kernelImage.start, 16 * M >> 12, "nokaslr: the image at 16 MiB")
        XCTAssertEqual(m.reserved, l.reserved)
    }

    func testReservationsAreChargedToTheirZones() {
        // One node over pfns 0..<0x2000: DMA 0..<0x1000, DMA32 0x1000..<0x2000. A kept
        // reservation 0x800..<0x1800 is half in each; a late-freed one 0x1900..<0x1a00 in DMA32.
        func zone(_ t: ZoneType, _ s: PFN, _ n: Int) -> ZoneLayout {
            ZoneLayout(
                node: 0, type: t, startPFN: s, spannedPages: n, presentPages: n, reservedPages: 0,
                lateFreedPages: 0, giganticPages: 0)
        }
        var nodes = [
            NodeLayout(
                id: 0, memory: [PFNRange(start: 0, end: 0x2000)], span: PFNRange(start: 0, end: 0x2000),
                presentPages: 0x2000, movableStartPFN: nil,
                zones: [
                    zone(.dma, 0, 0x1000), zone(.dma32, 0x1000, 0x1000), zone(.normal, 0, 0), zone(.movable, 0, 0),
                    zone(.device, 0, 0)
                ])
        ]
        BootLayout.chargeReservations(
            [
                ReservedRange(PFNRange(start: 0x800, end: 0x1800), "kept", node: 0),
                ReservedRange(PFNRange(start: 0x1900, end: 0x1a00), "late", node: 0, fate: .freedLate)
            ], to: &nodes)
        XCTAssertEqual(nodes[0].zones[0].reservedPages, 0x800)
        XCTAssertEqual(nodes[0].zones[1].reservedPages, 0x800)
        XCTAssertEqual(nodes[0].zones[1].lateFreedPages, 0x100)
    }

    // MARK: Stage 7: mem_init's log

    func testMemInitLinesOfTheMovablecoreCapture() throws {
        let c = MachineConfig(cmdline: base + " movablecore=256M")
        let l = try BootLayout.compute(c, profile: .captures)
        var log: [String] = []
        let numa = NUMAMemory(memoryRanges: l.memoryRanges, maxPossiblePFN: l.maxPossiblePFN, nodeIDs: [0])
        let available = BootLayout.logMemInit(
            nodes: l.nodes, numa: numa, arch: l.archZoneRanges, reserved: l.reserved, config: c, params: l.params,
            profile: .captures, blockSize: l.memoryBlockSize, log: &log)
        // c-movablecore.dmesg.txt:44-57 (line 48, Device empty, is printed too)
        XCTAssertEqual(
            Array(log.prefix(14)),
            [
                "Zone ranges:",
                "  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
                "  DMA32    [mem 0x0000000001000000-0x000000003ffdffff]",
                "  Normal   empty",
                "  Device   empty",
                "Movable zone start for each node",
                "  Node 0: 0x0000000030000000",
                "Early memory node ranges",
                "  node   0: [mem 0x0000000000001000-0x000000000009efff]",
                "  node   0: [mem 0x0000000000100000-0x000000003ffdffff]",
                "Initmem setup node 0 [mem 0x0000000000001000-0x000000003ffdffff]",
                "On node 0, zone DMA: 1 pages in unavailable ranges",
                "On node 0, zone DMA: 97 pages in unavailable ranges",
                "On node 0, zone Movable: 32 pages in unavailable ranges"
            ])
        XCTAssertEqual(log.last, "x86/mm: Memory block size: 128MB")  // c-movablecore.dmesg.txt:148
        XCTAssertEqual(available, l.memInitAvailablePages)
        XCTAssertTrue(log.contains { $0.hasPrefix("Memory: \(available * 4)K/1048056K available") })
    }

    // MARK: Stage 8: DIMMs

    func testDIMMsFirstFitAndBootRefusals() throws {
        // Two 512 MiB DIMMs back to back from the region's start at 4 GiB.
        let c = MachineConfig(
            dimms: [DIMMConfig(id: "a", sizeBytes: 512 * M), DIMMConfig(id: "b", sizeBytes: 100 * M)])
        let q = try BootLayout.qemuMachine(c)
        var log: [String] = []
        let params = KernelParameters(parsing: "", gbpages: false, nodeCount: 1)
        let (dimms, _) = try BootLayout.placeDevices(
            c, qemu: q, pxmToNode: [0: 0], params: params, blockSize: 128 * M, log: &log)
        XCTAssertEqual(dimms.map(\.start), [4 * G, 4 * G + 512 * M])
        XCTAssertNil(dimms[0].refusedReason)
        // 100 MiB is not a multiple of the 128 MiB block: check_hotplug_memory_range refuses it.
        XCTAssertEqual(
            dimms[1].refusedReason, "not aligned to the memory block size (128 MiB): add_memory() -EINVAL")
        XCTAssertEqual(log, [])

        // mem=2G: a DIMM above max_mem_size is refused while booting, with the ACPI line.
        let memParams = KernelParameters(parsing: "mem=2G", gbpages: false, nodeCount: 1)
        _ = try BootLayout.placeDevices(
            c, qemu: q, pxmToNode: [0: 0], params: memParams, blockSize: 128 * M, log: &log)
        XCTAssertEqual(log, ["acpi PNP0C80:00: add_memory failed", "acpi PNP0C80:01: add_memory failed"])
    }

    // MARK: The late frees and the boot allocations

    func testLateFreeLinesOfTheCaptures() {
        var log: [String] = []
        BootLayout.logLateFrees(
            params: KernelParameters(parsing: base, gbpages: false, nodeCount: 1), reserved: [],
            swiotlb: PFNRange(start: 0x3ac00, end: 0x3ec00), initrd: PFNRange(start: 0, end: 0), profile: .captures,
            log: &log)
        // c-movablecore.dmesg.txt:168-169, 284
        XCTAssertEqual(
            Array(log.prefix(3)),
            [
                "HugeTLB: registered 2.00 MiB page size, pre-allocated 0 pages",
                "HugeTLB: 28 KiB vmemmap can be freed for a 2.00 MiB page",
                "software IO TLB: mapped [mem 0x000000003ac00000-0x000000003ec00000] (64MB)"
            ])
    }

    func testAtomicPoolOrderAndPresentBlocks() throws {
        // a-baseline.dmesg.txt: "DMA: preallocated 128 KiB ... pool": 1 GiB gives ~225k pages / 8192
        // = 27 pages < 128 KiB, so the 128 KiB minimum: order 5.
        let one = try BootLayout.compute(MachineConfig(cmdline: base), profile: .captures)
        XCTAssertEqual(BootLayout.atomicPoolOrder(nodes: one.nodes), 5)
        // 16 GiB: ~4.1 M pages / 8192 ≈ 500 pages ≈ 2 MiB: order 9 (Linux prints 2048 KiB).
        let sixteen = try BootLayout.compute(MachineConfig(memBytes: 16 * G, maxmemBytes: 0, slots: 0))
        XCTAssertEqual(BootLayout.atomicPoolOrder(nodes: sixteen.nodes), 9)
        // 1 GiB of boot RAM in 128 MiB blocks: memory0..memory7.
        XCTAssertEqual(BootLayout.presentBlocks(one.nodes[0].memory, blockSize: 128 * M), 8)
        XCTAssertEqual(one.bootAllocations.atomicPoolOrder, 5)
    }
    /// alloc_large_system_hash's tables against what 6.1 made: on one 1 GiB node the
    /// "hash table entries" lines of a-baseline.dmesg.txt:83-270 (Dquot-cache is a plain page,
    /// not one of them); on NUMA guests the tables' sizes in /proc/vmallocinfo (each area one
    /// guard page larger), read by 6.1.0-57 at the first step of a 1G+1G and a 3 × 1G guest
    /// (session 10 probes, tests/fixtures/numa-boot-probes).
    func testLargeSystemHashesOfTheCapturesAndOfNUMAGuests() throws {
        let one = try BootLayout.compute(MachineConfig(cmdline: base), profile: .captures)
        let tables = BootLayout.largeSystemHashes(nrKernelPages: BootLayout.nrKernelPages(one.nodes), possibleCPUs: 1)
        XCTAssertEqual(
            tables.map { "\($0.name) \($0.bytes)" },
            [
                "Dentry cache 1048576", "Inode-cache 524288", "Mount-cache 16384", "Mountpoint-cache 16384",
                "futex 16384", "IP idents 131072", "tcp_listen_portaddr_hash 8192", "Table-perturb 262144",
                "TCP established 65536", "TCP bind 262144", "MPTCP token 24576", "UDP 16384", "UDP-Lite 16384"
            ])
        XCTAssertEqual(tables.filter(\.early).map(\.name), ["Dentry cache", "Inode-cache"])
        // The buddy allocator's share on one node: 204 pages.
        XCTAssertEqual(tables.filter { !$0.early }.reduce(0) { $0 + $1.pages }, 204)

        func pages(_ nodes: [Int], maxmem: Int, dimms: [DIMMConfig] = []) throws -> [Int] {
            let l = try BootLayout.compute(
                MachineConfig(
                    memBytes: nodes.reduce(0, +) * G, maxmemBytes: maxmem * G, slots: 4,
                    nodes: nodes.enumerated().map { NodeConfig(id: $0.offset, memBytes: $0.element * G) },
                    dimms: dimms))
            return BootLayout.largeSystemHashes(nrKernelPages: BootLayout.nrKernelPages(l.nodes), possibleCPUs: 1)
                .map(\.pages)
        }
        // 1G + 1G: 2101248, 1052672, 36864 ×2, 20480, 266240, 20480, 266240, 135168, 528384,
        // 53248, 36864 ×2 bytes: 1108 pages, N0=554 N1=554.
        XCTAssertEqual(try pages([1, 1], maxmem: 4), [512, 256, 8, 8, 4, 64, 4, 64, 32, 128, 12, 8, 8])
        // 3 × 1G with a 512M DIMM on node 2: the mount tables double, IP idents, listen,
        // established and bind, MPTCP and UDP too (the dentry table's 8 KiB page array is
        // a vmalloc area of its own): 2150 pages with it, N0=721 N1=710 N2=719.
        XCTAssertEqual(
            try pages([1, 1, 1], maxmem: 5, dimms: [DIMMConfig(id: "d", sizeBytes: 512 * M, node: 2)]),
            [1024, 512, 16, 16, 4, 128, 8, 64, 64, 256, 24, 16, 16])
    }

    /// The boot's interleaved vmalloc areas per node (`BootAllocations.areaPages`) against
    /// 6.1.0-57's /proc/vmallocinfo on the same guests (session 10 probes): the hash tables
    /// (alloc_large_system_hash) and the BPF program pack (bpf_prog_pack_alloc, 2 MiB per
    /// possible node, its page array a 2-page vmalloc on two nodes).
    func testHashTablesAndBPFPackInterleaveOverTheNodes() throws {
        func areas(_ nodes: [Int], _ unit: Int, maxmem: Int) throws -> BootAllocations {
            try BootLayout.compute(
                MachineConfig(
                    memBytes: nodes.reduce(0, +) * unit, maxmemBytes: maxmem * G, slots: 3,
                    nodes: nodes.enumerated().map { NodeConfig(id: $0.offset, memBytes: $0.element * unit) })
            ).bootAllocations
        }
        // 512M + 512M: hashes N0=294 N1=294, pack N0=513 N1=513.
        XCTAssertEqual(try areas([512, 512], M, maxmem: 4).areaPages, [0: 294 + 513, 1: 294 + 513])
        // 1536M + 512M (the movablecore-bytes shape's nodes): 554 and 513 on each.
        XCTAssertEqual(try areas([1536, 512], M, maxmem: 3).areaPages, [0: 554 + 513, 1: 554 + 513])
        // 2G + 2G: the dentry table (4 MiB) is 2 MiB a node, so vmalloc_huge maps it with
        // PMDs, one order-9 block per node; the rest N0=N1=563 with its 2-page page array.
        let big = try areas([2, 2], G, maxmem: 6)
        XCTAssertEqual(big.areaHugeBlocks, [0: 1, 1: 1])
        XCTAssertEqual(big.areaPages, [0: 1075 - 512 + 513, 1: 1075 - 512 + 513])
        // 3 × 1G: each bulk request of 100 pages gives 34 to one node and 33 to the others, so
        // a node gets 348 of the dentry table's 1024 (6.1.0-57: 338, 338, 348, the remainder on
        // whichever node the cursor was at); the pack is 1536 pages and a 3-page array
        // (N0=508 N1=523 N2=508 and 1 each). Per node the kernel had 1229, 1233 and 1227.
        let three = try areas([1, 1, 1], G, maxmem: 5)
        XCTAssertEqual(three.areaPages.values.reduce(0, +), 1229 + 1233 + 1227)
        for (node, kernel) in [(0, 1229), (1, 1233), (2, 1227)] {
            XCTAssertEqual(three.areaPages[node] ?? 0, kernel, accuracy: 12, "node \(node): \(three.areaPages)")
        }
        // One node: the linear tables and the pack on node 0.
        XCTAssertEqual(try areas([1], G, maxmem: 4).areaPages, [0: 204 + 512])
    }
}
