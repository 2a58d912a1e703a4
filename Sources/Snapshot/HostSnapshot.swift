/// Everything `memhp snapshot` records about a host, except the per-pfn census (kept
/// beside it, run-length encoded). The JSON header of the file format (docs/snapshot.md):
/// field names are the format, so renaming one is a format version change.
public struct HostSnapshot: Codable, Sendable, Equatable {
    /// The file format's version; a reader refuses a newer one.
    public var format: Int = SnapshotFile.formatVersion
    public var capturedBy = "memhp"
    /// Seconds since the epoch, from the host's clock (CLOCK_REALTIME).
    public var capturedAt: Int = 0

    // Kernel
    public var arch: String?
    public var kernelRelease: String?
    public var kernelVersion: String?
    public var cmdline: String?

    // Physical layout
    /// /sys/firmware/memmap: the firmware's map as the kernel received it (e820 on x86).
    public var firmwareMap: [FirmwareRange] = []
    /// /proc/iomem, every line, with its nesting depth. Addresses read 0 without CAP_SYS_ADMIN.
    public var iomem: [IomemRange] = []

    // NUMA and zones
    public var nodesOnline: String?
    public var nodesWithMemory: String?
    public var zones: [ZoneSpan] = []
    /// /proc/pagetypeinfo's free-block counts: "node zone type" → counts per order.
    public var pagetypeFree: [PagetypeRow] = []
    public var pageblockOrder: Int?

    // Memory blocks
    public var blockSizeBytes: Int = 0
    public var autoOnlineBlocks: String?
    public var blocks: [BlockState] = []

    // HugeTLB
    public var hugepages: [HugePool] = []

    /// /proc/sys/vm values (name → text, trimmed) that hotplug and hugetlb read.
    public var sysctls: [String: String] = [:]
    /// /sys/module/memory_hotplug/parameters (name → text).
    public var moduleParameters: [String: String] = [:]
    /// /proc/meminfo, kB (or pages for the HugePages_ counts), as the file states them.
    public var meminfo: [String: Int] = [:]

    public var census: CensusHeader?
    /// What could not be read, and why, in the order found.
    public var missing: [Missing] = []

    public init() {}

    public struct FirmwareRange: Codable, Sendable, Equatable {
        public var start: UInt64
        /// Inclusive, as the file states it.
        public var end: UInt64
        public var type: String
    }

    public struct IomemRange: Codable, Sendable, Equatable {
        public var start: UInt64
        public var end: UInt64
        public var name: String
        public var depth: Int
    }

    public struct ZoneSpan: Codable, Sendable, Equatable {
        public var node: Int
        public var name: String
        public var startPFN: Int
        public var spanned: Int
        public var present: Int
        public var managed: Int
        public var free: Int
        public var min: Int
        public var low: Int
        public var high: Int
        /// lowmem_reserve[] ("protection: (...)").
        public var protection: [Int]
        /// Pages on the zone's per-cpu lists (the pagesets' `count:` summed); nil when unknown.
        public var pcp: Int? = nil

        public var endPFN: Int { startPFN + spanned }
    }

    public struct PagetypeRow: Codable, Sendable, Equatable {
        public var node: Int
        public var zone: String
        public var type: String
        public var counts: [Int]
    }

    public struct BlockState: Codable, Sendable, Equatable {
        public var id: Int
        public var state: String
        public var validZones: String?
        public var node: Int?
        public var physDevice: String?
        public var removable: String?
    }

    public struct HugePool: Codable, Sendable, Equatable {
        public var sizeKB: Int
        public var nr: Int
        public var free: Int
        public var resv: Int
        public var surplus: Int
        public var overcommit: Int
        public var perNode: [NodePool]
    }

    public struct NodePool: Codable, Sendable, Equatable {
        public var node: Int
        public var nr: Int
        public var free: Int
        public var surplus: Int
    }

    public struct CensusHeader: Codable, Sendable, Equatable {
        public var endPFN: Int
        public var runs: Int
        /// Bytes of the encoded census that follow the header.
        public var bytes: Int
        /// FNV-1a 64 of those bytes, hex.
        public var fnv1a64: String
        /// Whether /proc/kpagecount told free per-cpu pages from kernel memory.
        public var pageCounts: Bool
        /// Seconds the census took to read.
        public var seconds: Double
        /// The kernel marks only free blocks' heads KPF_BUDDY (newer than 6.1): the tails were
        /// inferred from the heads' alignment (PageCensus.inferringBuddyTails).
        public var buddyTailsInferred: Bool? = nil
    }

    public struct Missing: Codable, Sendable, Equatable {
        public var path: String
        public var why: String
        /// What the model loses without it.
        public var effect: String
    }
}

extension HostSnapshot {
    public var blockPages: Int { blockSizeBytes >> 12 }

    /// The zone a pfn lies in, by zoneinfo's spans (ZONE_MOVABLE may overlap Normal's span:
    /// the later zone of the node wins, as it does for the pages given to it).
    public func zone(ofPFN pfn: Int, node: Int? = nil) -> ZoneSpan? {
        zones.last { ($0.node == node || node == nil) && $0.present > 0 && pfn >= $0.startPFN && pfn < $0.endPFN }
    }

    public func hugePool(sizeKB: Int) -> HugePool? { hugepages.first { $0.sizeKB == sizeKB } }

    /// vm.hugetlb_optimize_vmemmap: HVO on.
    public var hvoEnabled: Bool { sysctls["hugetlb_optimize_vmemmap"] == "1" }
}
