import MemoryModel

/// The random differential campaign's generator (issue 15): seed N gives one ordinary scenario
/// file, a machine shape and a short sequence of the writes, reads, holds and hot-plug events
/// the conformance scenarios use, valid for the parser (DIMMs fit the slots, ids never reused,
/// releases name live holds). The same seed always gives the same text (SplitMix64, no other
/// randomness), so `tests/campaign/seed-N.scn` can be regenerated and compared. Seeds below
/// 1000 draw their machine from `shapes` (`seed % 9`), seeds from 1000 from `heldOutShapes`
/// (`(seed - 1000) % 8`) and seeds from 2000 from `thirdShapes` (`(seed - 2000) % 8`), sets
/// added without changing any earlier seed's text.
public enum CampaignGenerator {
    /// The first set of machine shapes, one per `seed % shapes.count` for seeds below `heldOutBase`.
    public static let shapes: [CampaignShape] = [
        // One node, two cold-plugged 512M DIMMs at 4G (blocks 32-39), room for two more.
        CampaignShape(
            name: "dimms", header: ["mem: 1G", "maxmem: 4G", "slots: 4", "dimm: dimm1 512M", "dimm: dimm2 512M"],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: Array(32..<40), freeSlots: 2, hotAddRoom: 2048,
            nextDimmBlock: 40),
        // Two nodes of 1G, movablecore=256M, one 512M DIMM per node.
        CampaignShape(
            name: "two-nodes",
            header: [
                "mem: 2G", "maxmem: 4G", "slots: 4", "node: 0 1G", "node: 1 1G",
                "dimm: dimm1 512M node=0", "dimm: dimm2 512M node=1", "append: movablecore=256M"
            ],
            nodes: 2, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<40), freeSlots: 2, hotAddRoom: 1024,
            nextDimmBlock: 40),
        // 2G with kernelcore=512M (ZONE_MOVABLE at boot) and one DIMM.
        CampaignShape(
            name: "kernelcore",
            header: ["mem: 2G", "maxmem: 4G", "slots: 2", "dimm: dimm1 512M", "append: kernelcore=512M"],
            nodes: 1, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<36), freeSlots: 1, hotAddRoom: 1536,
            nextDimmBlock: 36),
        // 2G with movablecore=25%.
        CampaignShape(
            name: "movablecore", header: ["mem: 2G", "maxmem: 4G", "slots: 2", "append: movablecore=25%"],
            nodes: 1, bootBlocks: Array(0..<16), dimmBlocks: [], freeSlots: 2, hotAddRoom: 2048, nextDimmBlock: 32),
        // movable_node: node 1's DIMM goes to Movable, onlined at boot.
        CampaignShape(
            name: "movable-node",
            header: [
                "mem: 1G", "maxmem: 4G", "slots: 4", "node: 0 768M", "node: 1 256M",
                "dimm: dimm1 512M node=1", "append: movable_node memhp_default_state=online"
            ],
            nodes: 2, bootBlocks: Array(0..<8), dimmBlocks: Array(32..<36), freeSlots: 3, hotAddRoom: 2560,
            nextDimmBlock: 36),
        // memmap_on_memory=1: DIMMs added at run time carry their own memmap.
        CampaignShape(
            name: "memmap-on-memory",
            header: ["mem: 1G", "maxmem: 4G", "slots: 4", "append: memory_hotplug.memmap_on_memory=1"],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: [], freeSlots: 4, hotAddRoom: 3072, nextDimmBlock: 32),
        // virtio-mem: a 2G device, online_movable by default.
        CampaignShape(
            name: "virtio-mem",
            header: [
                "mem: 1G", "maxmem: 4G", "slots: 4", "virtio-mem: vm0 size=2G requested=0",
                "append: memhp_default_state=online_movable"
            ],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: [], freeSlots: 0, hotAddRoom: 0, nextDimmBlock: 32,
            virtioMem: 2048),
        // 3G with 1 GiB pages (gbpages): 1G pools and demote.
        CampaignShape(
            name: "gbpages", header: ["mem: 3G", "maxmem: 6G", "slots: 2", "cpu: gbpages"],
            nodes: 1, bootBlocks: Array(0..<24), dimmBlocks: [], freeSlots: 2, hotAddRoom: 3072, nextDimmBlock: 32,
            gbpages: true),
        // 4G (1G above 4G), two 1G DIMMs onlined at boot by auto-movable, memmap_on_memory, gbpages.
        CampaignShape(
            name: "big-auto-movable",
            header: [
                "mem: 4G", "maxmem: 8G", "slots: 4", "cpu: gbpages",
                "dimm: dimm1 1G", "dimm: dimm2 1G",
                "append: memhp_default_state=online memory_hotplug.online_policy=auto-movable memory_hotplug.memmap_on_memory=1"
            ],
            nodes: 1, bootBlocks: Array(0..<24) + Array(32..<40), dimmBlocks: Array(40..<56), freeSlots: 2,
            hotAddRoom: 2048,
            nextDimmBlock: 56, gbpages: true)
    ]

    /// The first seed of the second set: seeds from here draw from `heldOutShapes`
    /// (`(seed - heldOutBase) % heldOutShapes.count`), seeds below it from `shapes` as they always
    /// have, so the text of every seed recorded before the second set existed is unchanged.
    public static let heldOutBase = 1000

    /// The second set of machine shapes (seeds >= 1000): command-line features and layouts the
    /// first nine leave out (boot-time pools, HVO from boot, three nodes, odd sizes, other default
    /// online types, auto-movable's ratio, movablecore in bytes, memmap_on_memory on two nodes).
    public static let heldOutShapes: [CampaignShape] = [
        // 3G with gbpages, pools of both sizes from the command line, 1 GiB the default hstate.
        CampaignShape(
            name: "boot-pools",
            header: [
                "mem: 3G", "maxmem: 6G", "slots: 2", "cpu: gbpages",
                "append: hugepagesz=1G hugepages=1 hugepagesz=2M hugepages=64 default_hugepagesz=1G"
            ],
            nodes: 1, bootBlocks: Array(0..<24), dimmBlocks: [], freeSlots: 2, hotAddRoom: 3072, nextDimmBlock: 32,
            gbpages: true),
        // 1536M with HVO on from boot and a boot pool, maxmem 3G.
        CampaignShape(
            name: "hvo-boot",
            header: ["mem: 1536M", "maxmem: 3G", "slots: 3", "append: hugetlb_free_vmemmap=on hugepages=48"],
            nodes: 1, bootBlocks: Array(0..<12), dimmBlocks: [], freeSlots: 3, hotAddRoom: 1536, nextDimmBlock: 32),
        // Three nodes of 1G, a cold DIMM on node 2.
        CampaignShape(
            name: "three-nodes",
            header: [
                "mem: 3G", "maxmem: 5G", "slots: 3", "node: 0 1G", "node: 1 1G", "node: 2 1G",
                "dimm: dimm1 512M node=2"
            ],
            nodes: 3, bootBlocks: Array(0..<24), dimmBlocks: Array(32..<36), freeSlots: 2, hotAddRoom: 1536,
            nextDimmBlock: 36, fillNode: 1),
        // memhp_default_state=online_kernel: a cold DIMM and run-time DIMMs onlined to Normal.
        CampaignShape(
            name: "online-kernel",
            header: [
                "mem: 1G", "maxmem: 4G", "slots: 4", "dimm: dimm1 512M", "append: memhp_default_state=online_kernel"
            ],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: Array(32..<36), freeSlots: 3, hotAddRoom: 2560,
            nextDimmBlock: 36),
        // auto-movable with auto_movable_ratio=50 on two nodes, a cold DIMM on node 1.
        CampaignShape(
            name: "auto-movable-ratio",
            header: [
                "mem: 2G", "maxmem: 4G", "slots: 4", "node: 0 1G", "node: 1 1G", "dimm: dimm1 512M node=1",
                "append: memhp_default_state=online memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=50"
            ],
            nodes: 2, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<36), freeSlots: 3, hotAddRoom: 1536,
            nextDimmBlock: 36),
        // movablecore in bytes (384M) on nodes of 1536M + 512M, a 256M DIMM per node, maxmem 3G.
        CampaignShape(
            name: "movablecore-bytes",
            header: [
                "mem: 2G", "maxmem: 3G", "slots: 4", "node: 0 1536M", "node: 1 512M", "dimm: dimm1 256M node=0",
                "dimm: dimm2 256M node=1", "append: movablecore=402653184"
            ],
            nodes: 2, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<36), freeSlots: 2, hotAddRoom: 512,
            nextDimmBlock: 36),
        // memmap_on_memory on two nodes, run-time DIMMs onlined movable.
        CampaignShape(
            name: "memmap-two-nodes",
            header: [
                "mem: 2G", "maxmem: 4G", "slots: 4", "node: 0 1G", "node: 1 1G",
                "append: memory_hotplug.memmap_on_memory=1 memhp_default_state=online_movable"
            ],
            nodes: 2, bootBlocks: Array(0..<16), dimmBlocks: [], freeSlots: 4, hotAddRoom: 2048, nextDimmBlock: 32),
        // 1536M, a 1G virtio-mem device, online_kernel by default. (Nothing requested at boot:
        // the runner does not wait for the driver's plug at probe, which raced the first step.)
        CampaignShape(
            name: "virtio-mem-kernel",
            header: [
                "mem: 1536M", "maxmem: 4G", "slots: 2", "virtio-mem: vm0 size=1G requested=0",
                "append: memhp_default_state=online_kernel"
            ],
            nodes: 1, bootBlocks: Array(0..<12), dimmBlocks: [], freeSlots: 0, hotAddRoom: 0, nextDimmBlock: 32,
            virtioMem: 1024)
    ]

    /// The first seed of the third set: seeds from here draw from `thirdShapes`
    /// (`(seed - thirdBase) % thirdShapes.count`); seeds below it keep their shapes and text.
    public static let thirdBase = 2000

    /// The third set of machine shapes (seeds >= 2000): boot options and machines none of the
    /// first 17 has, where the model had not been checked (HVO with 1 GiB pages, HVO with
    /// memmap_on_memory and with virtio-mem, run-time onlining under auto-movable, `mem=` below
    /// the RAM, movable_node on three nodes, 1 GiB pools beside a large ZONE_MOVABLE, per-node
    /// boot pools).
    public static let thirdShapes: [CampaignShape] = [
        // 3G with gbpages and HVO on from boot, one 1 GiB page from the command line: 1G pools,
        // demote and HVO toggles together.
        CampaignShape(
            name: "hvo-gbpages",
            header: [
                "mem: 3G", "maxmem: 5G", "slots: 2", "cpu: gbpages",
                "append: hugetlb_free_vmemmap=on hugepagesz=1G hugepages=1"
            ],
            nodes: 1, bootBlocks: Array(0..<24), dimmBlocks: [], freeSlots: 2, hotAddRoom: 2048, nextDimmBlock: 32,
            gbpages: true),
        // memmap_on_memory and HVO together, run-time DIMMs onlined by default (to Normal).
        CampaignShape(
            name: "memmap-hvo",
            header: [
                "mem: 1G", "maxmem: 4G", "slots: 4",
                "append: memory_hotplug.memmap_on_memory=1 hugetlb_free_vmemmap=on memhp_default_state=online"
            ],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: [], freeSlots: 4, hotAddRoom: 3072, nextDimmBlock: 32),
        // memhp_default_state=offline with auto-movable: every block is onlined at run time by a
        // write, and `online` lets the policy choose the zone.
        CampaignShape(
            name: "offline-auto-movable",
            header: [
                "mem: 2G", "maxmem: 4G", "slots: 4", "dimm: dimm1 512M", "dimm: dimm2 512M",
                "append: memhp_default_state=offline memory_hotplug.online_policy=auto-movable"
            ],
            nodes: 1, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<40), freeSlots: 2, hotAddRoom: 1024,
            nextDimmBlock: 40),
        // mem=768M on 1G of RAM with a cold DIMM (beyond max_mem_size while booting: refused) and
        // room for run-time DIMMs; blocks 6-7 and 32-35 do not exist.
        CampaignShape(
            name: "mem-limit",
            header: ["mem: 1G", "maxmem: 4G", "slots: 4", "dimm: dimm1 512M", "append: mem=768M"],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: Array(32..<36), freeSlots: 3, hotAddRoom: 2560,
            nextDimmBlock: 36),
        // movable_node on three nodes, cold DIMMs on nodes 1 and 2 onlined at boot.
        CampaignShape(
            name: "movable-node-three",
            header: [
                "mem: 2G", "maxmem: 5G", "slots: 4", "node: 0 1G", "node: 1 512M", "node: 2 512M",
                "dimm: dimm1 512M node=1", "dimm: dimm2 512M node=2", "append: movable_node memhp_default_state=online"
            ],
            nodes: 3, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<40), freeSlots: 2, hotAddRoom: 2048,
            nextDimmBlock: 40, fillNode: 1),
        // virtio-mem with HVO: pools land in the device's movable memory with their vmemmap freed.
        CampaignShape(
            name: "virtio-mem-hvo",
            header: [
                "mem: 1G", "maxmem: 4G", "slots: 2", "virtio-mem: vm0 size=2G requested=0",
                "append: hugetlb_free_vmemmap=on memhp_default_state=online_movable"
            ],
            nodes: 1, bootBlocks: Array(0..<8), dimmBlocks: [], freeSlots: 0, hotAddRoom: 0, nextDimmBlock: 32,
            virtioMem: 2048),
        // 4G (1G above 4G) with gbpages and movablecore=50%: 1 GiB pools beside a 2G ZONE_MOVABLE,
        // run-time DIMMs online_movable.
        CampaignShape(
            name: "movable-gbpages",
            header: [
                "mem: 4G", "maxmem: 8G", "slots: 4", "cpu: gbpages",
                "append: movablecore=50% memhp_default_state=online_movable"
            ],
            nodes: 1, bootBlocks: Array(0..<24) + Array(32..<40), dimmBlocks: [], freeSlots: 4, hotAddRoom: 4096,
            nextDimmBlock: 40, gbpages: true),
        // Two nodes with per-node boot pools (node format of hugepages=), a cold DIMM per node
        // onlined movable at boot.
        CampaignShape(
            name: "node-pools",
            header: [
                "mem: 2G", "maxmem: 4G", "slots: 4", "node: 0 1G", "node: 1 1G", "dimm: dimm1 512M node=0",
                "dimm: dimm2 512M node=1", "append: hugepages=0:32,1:16 memhp_default_state=online_movable"
            ],
            nodes: 2, bootBlocks: Array(0..<16), dimmBlocks: Array(32..<40), freeSlots: 2, hotAddRoom: 1024,
            nextDimmBlock: 40)
    ]

    /// The shape seed `seed` uses: `shapes` below `heldOutBase`, `heldOutShapes` from it to
    /// `thirdBase`, `thirdShapes` from there.
    public static func shape(seed: Int) -> CampaignShape {
        if seed >= thirdBase { return thirdShapes[(seed - thirdBase) % thirdShapes.count] }
        if seed >= heldOutBase { return heldOutShapes[(seed - heldOutBase) % heldOutShapes.count] }
        return shapes[((seed % shapes.count) + shapes.count) % shapes.count]
    }

    /// Seed `seed`'s scenario text.
    public static func scenario(seed: Int) -> String {
        var g = Builder(seed: seed, shape: shape(seed: seed))
        return g.build()
    }

    struct Builder {
        var rng: SplitMix64
        let seed: Int
        let shape: CampaignShape
        var lines: [String] = []
        var holds: [String] = []
        var holdCount = 0
        var dimms: [(id: String, blocks: Range<Int>)] = []
        var dimmCount = 0
        var freeSlots: Int
        var room: Int
        var nextBlock: Int
        var vmemSize = 0
        var steps = 0

        init(seed: Int, shape: CampaignShape) {
            self.seed = seed
            self.shape = shape
            // A distinct stream from the model's own seed-1 machine stream.
            rng = SplitMix64(seed: UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 &+ 0x15)
            freeSlots = shape.freeSlots
            room = shape.hotAddRoom
            nextBlock = shape.nextDimmBlock
        }

        mutating func int(_ n: Int) -> Int { rng.below(n) }
        mutating func pick<T>(_ xs: [T]) -> T { rng.pick(xs) }
        mutating func chance(_ percent: Int) -> Bool { rng.chance(percent) }

        var filled = false

        /// Hot-pluggable blocks present now: cold DIMMs, run-time DIMMs, virtio-mem's plugged part
        /// (its region starts at 4G, block 32, and plugs upwards).
        var blocks: [Int] {
            shape.dimmBlocks + dimms.flatMap { Array($0.blocks) }
                + Array(stride(from: 32, to: 32 + vmemSize / 128, by: 1))
        }

        mutating func block() -> Int {
            let movable = blocks
            if movable.isEmpty || chance(20) { return pick(shape.bootBlocks) }
            return pick(movable)
        }

        mutating func build() -> String {
            var out = [
                "# campaign seed \(seed): shape \(shape.name) (generated by `memhp campaign generate`; do not edit)",
                "description: campaign seed \(seed) on \(shape.name)"
            ]
            out += shape.header
            out.append("timeout: 300")
            out.append("---")
            let count = 10 + int(11)
            for i in 0..<count {
                if i % 5 == 0 { steps += 1; lines.append("step s\(steps)") }
                op()
            }
            lines.append("dump blocks hugepages zones")
            return (out + lines).joined(separator: "\n") + "\n"
        }

        mutating func op() {
            let r = int(100)
            switch r {
            case 0..<16: blockWrite()
            case 16..<30: poolWrite()
            case 30..<40: read()
            case 40..<46:
                lines.append(
                    "write $MEM/auto_online_blocks \(pick(["offline", "online", "online_kernel", "online_movable"]))")
            case 46..<52: lines.append("write $VM/hugetlb_optimize_vmemmap \(pick(["0", "1"]))")
            case 52..<57: overcommit()
            case 57..<65: hold()
            case 65..<73: hotplug()
            case 73..<80: malformed()
            case 80..<85: gigantic()
            case 85..<90: lines.append("dump \(pick(["blocks", "hugepages", "zones", "blocks hugepages"]))")
            default: read()
            }
        }

        mutating func blockWrite() {
            let b = block()
            switch int(5) {
            case 0: lines.append("online \(b) \(pick(["online", "online_kernel", "online_movable"]))")
            case 1: lines.append("online \(b)")
            case 2: lines.append("offline \(b) 5")
            case 3: lines.append("write $MEM/memory\(b)/online \(pick(["0", "1"])) timeout=5")
            default:
                lines.append("read $MEM/memory\(b)/valid_zones")
                lines.append("read $MEM/memory\(b)/state")
            }
        }

        mutating func poolCount() -> Int { pick([0, 1, 2, 8, 16, 50, 64, 100, 128, 200, 275, 400, 600]) }

        mutating func poolWrite() {
            let n = poolCount()
            switch int(10) {
            case 0..<4: lines.append("write $VM/nr_hugepages \(n)")
            case 4..<7: lines.append("write $HUGE/hugepages-2048kB/nr_hugepages \(n)")
            case 7..<9 where shape.nodes > 1:
                lines.append("write $NODE/node\(int(shape.nodes))/hugepages/hugepages-2048kB/nr_hugepages \(n)")
            case 9: lines.append("write $VM/nr_hugepages_mempolicy \(n)")
            default: lines.append("write $VM/nr_hugepages \(n)")
            }
        }

        mutating func overcommit() {
            let n = pick([0, 4, 32, 100])
            lines.append(
                chance(50)
                    ? "write $VM/nr_overcommit_hugepages \(n)"
                    : "write $HUGE/hugepages-2048kB/nr_overcommit_hugepages \(n)")
        }

        static let hugeFiles = [
            "nr_hugepages", "free_hugepages", "surplus_hugepages", "resv_hugepages", "nr_overcommit_hugepages"
        ]

        mutating func read() {
            switch int(8) {
            case 0: lines.append("read $HUGE/hugepages-2048kB/\(pick(Self.hugeFiles))")
            case 1:
                lines.append(
                    "read $VM/\(pick(["nr_hugepages", "nr_overcommit_hugepages", "hugetlb_optimize_vmemmap", "nr_hugepages_mempolicy"]))"
                )
            case 2:
                let n = int(shape.nodes)
                lines.append(
                    "read $NODE/node\(n)/hugepages/hugepages-2048kB/\(pick(["nr_hugepages", "free_hugepages", "surplus_hugepages"]))"
                )
            case 3:
                lines.append("read $NODE/\(pick(["online", "possible", "has_cpu", "has_memory", "has_normal_memory"]))")
            case 4: lines.append("read $NODE/node\(int(shape.nodes))/\(pick(["distance", "cpulist", "cpumap"]))")
            case 5: lines.append("read $MEM/auto_online_blocks")
            case 6:
                lines.append(
                    "read $MEM/memory\(block())/\(pick(["state", "valid_zones", "online", "removable", "phys_device"]))"
                )
            default: lines.append("read $MHP/\(pick(["online_policy", "auto_movable_ratio", "memmap_on_memory"]))")
            }
        }

        mutating func hold() {
            if !holds.isEmpty && chance(40) {
                let id = holds.remove(at: int(holds.count))
                lines.append("release \(id)")
                return
            }
            // Kernel-zone pressure only on two nodes (filling a single node starves the guest).
            if shape.nodes > 1 && !filled && chance(25) {
                filled = true
                lines.append("fill-kernel \(shape.fillNode ?? (shape.name == "two-nodes" ? 1 : 0)) \(pick([50, 500]))")
                holds.append("fill")
                return
            }
            holdCount += 1
            let id = "h\(holdCount)"
            let kind = pick(["anon", "anon", "shmem", "ramfs", "pinned"])
            let size = pick(["16M", "32M", "64M", "128M"])
            let node = shape.nodes > 1 && chance(50) ? " node=\(int(shape.nodes))" : ""
            lines.append("hold \(kind) \(id) \(size)\(node)")
            holds.append(id)
        }

        mutating func hotplug() {
            if let vm = shape.virtioMem {
                let sizes = stride(from: 0, through: vm, by: 128).map { $0 }
                var s = pick(sizes)
                if s == vmemSize { s = (s + 256) % (vm + 128) }
                vmemSize = s
                lines.append("vmem-resize vm0 \(s)M 60")
                return
            }
            if !dimms.isEmpty && chance(40) {
                let d = dimms.remove(at: int(dimms.count))
                lines.append("dimm-del \(d.id) 20")
                return
            }
            let size = pick([128, 256, 512])
            guard freeSlots > 0, room >= size else { return blockWrite() }
            dimmCount += 1
            let id = "hp\(dimmCount)"
            let node = shape.nodes > 1 ? " node=\(int(shape.nodes))" : ""
            lines.append("dimm-add \(id) \(size)M\(node)")
            let n = size / 128
            dimms.append((id, nextBlock..<(nextBlock + n)))
            nextBlock += n
            freeSlots -= 1
            room -= size
        }

        mutating func malformed() {
            let values = ["foo", "\"\"", "-1", "0x10", "\" 12\"", "99999999999999999999", "1k", "\"online \"", "2"]
            switch int(4) {
            case 0: lines.append("write $MEM/memory\(block())/state \(pick(values))")
            case 1: lines.append("write $VM/nr_hugepages \(pick(values))")
            case 2: lines.append("write $MEM/auto_online_blocks \(pick(values))")
            default: lines.append("write $VM/hugetlb_optimize_vmemmap \(pick(values))")
            }
        }

        mutating func gigantic() {
            guard shape.gbpages else { return poolWrite() }
            let g = "$HUGE/hugepages-1048576kB"
            switch int(4) {
            case 0, 1: lines.append("write \(g)/nr_hugepages \(pick([0, 1, 2]))")
            case 2: lines.append("write \(g)/demote \(pick([1, 2]))")
            default: lines.append("read \(g)/\(pick(["nr_hugepages", "free_hugepages", "demote_size", "demote"]))")
            }
        }
    }
}

/// A QEMU machine the campaign draws on: its scenario header and the blocks it has.
public struct CampaignShape: Sendable {
    public var name: String
    public var header: [String]
    public var nodes: Int
    /// Memory blocks of boot memory (the kernel's own; most refuse offline).
    public var bootBlocks: [Int]
    /// Blocks of the cold-plugged DIMMs.
    public var dimmBlocks: [Int]
    public var freeSlots: Int
    /// MiB left under maxmem for run-time DIMMs.
    public var hotAddRoom: Int
    /// The first block a run-time DIMM gets (QEMU's device-memory region fills upwards).
    public var nextDimmBlock: Int
    /// The virtio-mem device's region in MiB, when the shape has one.
    public var virtioMem: Int? = nil
    public var gbpages = false
    /// The node `fill-kernel` fills (two-nodes: 1, other shapes: 0, unless set).
    public var fillNode: Int? = nil
}
