/// `struct memory_block`: the unit user space onlines and offlines (drivers/base/memory.c).
public struct MemoryBlock: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case online, offline, goingOffline
        /// The text `state` shows.
        public var name: String {
            switch self {
            case .online: "online"
            case .offline: "offline"
            case .goingOffline: "going-offline"
            }
        }
    }
    /// Block id: physical start / block size (`memoryN`).
    public let id: Int
    public let startPFN: PFN
    public let pages: Int
    public var state: State
    /// `mem->zone`: the zone of an online block; nil when an online boot block spans zones
    /// (valid_zones shows `none` and offline is EINVAL) and for offline blocks.
    public var zone: ZoneType?
    public var node: Int
    /// The memory group (an ACPI DIMM's static group, a virtio-mem device's dynamic group).
    public var group: Int?
    /// memmap_on_memory: pages at the block's start that hold its own memmap.
    public var vmemmapPages: Int
    /// Added at boot (early) rather than hot-added.
    public let isBoot: Bool
    /// The device that added it (a DIMM id, a virtio-mem id), nil for boot memory.
    public var device: String?
    /// `mem->online_type` of the last online request.
    public var onlineType: OnlineType

    public init(
        id: Int, startPFN: PFN, pages: Int, state: State, zone: ZoneType?, node: Int,
        group: Int? = nil, vmemmapPages: Int = 0, isBoot: Bool, device: String? = nil
    ) {
        self.id = id; self.startPFN = startPFN; self.pages = pages; self.state = state; self.zone = zone
        self.node = node; self.group = group; self.vmemmapPages = vmemmapPages; self.isBoot = isBoot
        self.device = device; self.onlineType = .offline
    }

    public var range: PFNRange { PFNRange(start: startPFN, count: pages) }
}
