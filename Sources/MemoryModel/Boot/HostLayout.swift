/// A real machine's memory as its kernel files showed it (`memhp snapshot`): the layout of the
/// second boot path, next to QEMU's (`BootLayout`). Where `BootLayout.compute` derives e820,
/// SRAT, zone ranges and memblock reservations from QEMU's options, a host layout states
/// them as the running kernel reported them: System RAM per node (/proc/iomem and the blocks'
/// nodes), the zones' spans (/proc/zoneinfo), the memory blocks with their state and zone, the
/// hugepage pools and the sysctls. `Machine.boot(host:pages:)` (HostPlacement.swift) then
/// puts every page where the snapshot's census saw it.
///
/// Pure data; the Snapshot module builds it from a snapshot file.
public struct HostLayout: Sendable, Equatable {
    /// One top-level System RAM range of a node, in pfns.
    public struct RAM: Sendable, Equatable {
        public var range: PFNRange
        public var node: Int
        public init(range: PFNRange, node: Int) { self.range = range; self.node = node }
    }

    /// A populated zone's span (`zone_start_pfn`, `spanned_pages`).
    public struct ZoneSpan: Sendable, Equatable {
        public var node: Int
        public var type: ZoneType
        public var span: PFNRange
        public init(node: Int, type: ZoneType, span: PFNRange) { self.node = node; self.type = type; self.span = span }
    }

    /// A memory block device: online in `zone` (nil: several zones, valid_zones `none`), or offline.
    public struct Block: Sendable, Equatable {
        public var id: Int
        public var online: Bool
        public var zone: ZoneType?
        public var node: Int
        public init(id: Int, online: Bool, zone: ZoneType?, node: Int) {
            self.id = id; self.online = online; self.zone = zone; self.node = node
        }
    }

    /// A hugepage pool: what the census cannot show (its pages are placed as `.hugetlb` runs).
    public struct Pool: Sendable, Equatable {
        public var sizeBytes: Int
        public var resv: Int
        public var overcommit: Int
        /// Surplus pages per node (`surplus_hugepages` of nodeN).
        public var surplusPerNode: [Int: Int]
        public init(sizeBytes: Int, resv: Int = 0, overcommit: Int = 0, surplusPerNode: [Int: Int] = [:]) {
            self.sizeBytes = sizeBytes; self.resv = resv; self.overcommit = overcommit
            self.surplusPerNode = surplusPerNode
        }
    }

    public var ram: [RAM] = []
    public var zones: [ZoneSpan] = []
    /// `block_size_bytes`: 128 MiB up to 2 GiB on x86_64.
    public var blockBytes = 128 << 20
    public var blocks: [Block] = []
    public var pools: [Pool] = []
    /// The command line (kernel parameters), with the hotplug module parameters applied on top.
    public var params = KernelParameters()
    /// The CPU has 1 GiB pages (a 1 GiB pool exists).
    public var gbpages = false
    /// `vm.hugetlb_optimize_vmemmap`, and whether the pool's pages are optimized.
    public var hvo = false
    public var minFreeKbytes: Int?
    public var watermarkScaleFactor: Int?
    public var lowmemReserveRatio: [Int]?
    /// /proc/iomem as the host printed it (the model's /proc/iomem shows these lines).
    public var iomem: [String] = []
    /// The kernel that was snapshotted, for dmesg's first line.
    public var kernelRelease: String?
    /// One past the highest pfn the census covers or a block holds.
    public var endPFN = 0
    public var seed: UInt64 = 1

    public init() {}

    /// Node ids with memory or blocks.
    public var nodeIDs: [Int] { Array(Set(ram.map(\.node) + blocks.map(\.node) + zones.map(\.node))).sorted() }

    /// What `Machine.boot(host:)` refuses: a layout the model cannot hold, with the reason.
    public func check() throws(MachineConfigError) {
        let mib = 1 << 20
        guard blockBytes >= 128 * mib, blockBytes <= 2 << 30, blockBytes.nonzeroBitCount == 1 else {
            throw MachineConfigError(
                "memory block size \(blockBytes >> 20) MiB: the model takes a power of two from 128 MiB to 2 GiB")
        }
        guard !ram.isEmpty else { throw MachineConfigError("no System RAM") }
        guard endPFN > 0, endPFN + Geometry.pagesPerSection * 16 <= Machine.pluggableEndBytes >> Geometry.pageShift
        else {
            throw MachineConfigError("\(endPFN) page frames: beyond the 64 TiB of x86-64's MAX_PHYSMEM_BITS (46)")
        }
        guard let maxNode = nodeIDs.last, maxNode < 64, nodeIDs.first! >= 0 else {
            throw MachineConfigError("node ids \(nodeIDs): the model takes nodes 0 to 63")
        }
        for z in zones {
            guard !z.span.isEmpty, z.span.end <= endPFN + Geometry.pagesPerSection else {
                throw MachineConfigError("zone \(z.type.name) of node \(z.node): span \(z.span) outside the memory")
            }
            for o in zones where o.node == z.node && o.type.rawValue > z.type.rawValue && o.type != .movable {
                if o.span.intersects(z.span) {
                    throw MachineConfigError(
                        "zones \(z.type.name) and \(o.type.name) of node \(z.node) overlap (\(z.span), \(o.span))")
                }
            }
        }
        for b in blocks where b.id < 0 || (b.id + 1) * (blockBytes >> Geometry.pageShift) > endPFN + (blockBytes >> 12)
        {
            throw MachineConfigError("memory block \(b.id) lies beyond the memory")
        }
        for p in pools where ![2 << 20, 1 << 30].contains(p.sizeBytes) {
            throw MachineConfigError("hugepage size \(p.sizeBytes >> 10) kB: x86_64 has 2048 kB and 1048576 kB")
        }
    }
}
