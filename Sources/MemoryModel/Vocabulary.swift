import SystemPackage

/// Zone types in `enum zone_type` order for Debian 12's x86_64 6.1 (CONFIG_ZONE_DEVICE=y).
public enum ZoneType: Int, CaseIterable, Comparable, Sendable {
    case dma = 0, dma32, normal, movable, device

    public static func < (a: ZoneType, b: ZoneType) -> Bool { a.rawValue < b.rawValue }
    /// The name the kernel prints in zoneinfo, valid_zones and the boot log.
    public var name: String {
        switch self {
        case .dma: "DMA"
        case .dma32: "DMA32"
        case .normal: "Normal"
        case .movable: "Movable"
        case .device: "Device"
        }
    }
    /// Kernel zones are the ones below ZONE_MOVABLE that hold unmovable allocations.
    public var isKernelZone: Bool { self < .movable }
}

/// Pageblock migratetypes as `enum migratetype` has them in 6.1 without CMA (Debian: CONFIG_CMA unset).
public enum MigrateType: UInt8, CaseIterable, Sendable {
    case unmovable = 0, movable, reclaimable, highAtomic, isolate
    /// The types that have their own free lists and may be allocated from.
    public static let allocatable: [MigrateType] = [.unmovable, .movable, .reclaimable, .highAtomic]
    public static let pcpTypes: [MigrateType] = [.unmovable, .movable, .reclaimable]
    /// The name /proc/pagetypeinfo prints.
    public var name: String {
        switch self {
        case .unmovable: "Unmovable"
        case .movable: "Movable"
        case .reclaimable: "Reclaimable"
        case .highAtomic: "HighAtomic"
        case .isolate: "Isolate"
        }
    }
}

/// `online_type` (MMOP_*): what a write to `state`, or auto-onlining, asks for.
public enum OnlineType: Int, Sendable, CaseIterable {
    case offline = 0, online, onlineKernel, onlineMovable
    /// The strings `auto_online_blocks`, `state` and `memhp_default_state=` accept.
    public var name: String {
        switch self {
        case .offline: "offline"
        case .online: "online"
        case .onlineKernel: "online_kernel"
        case .onlineMovable: "online_movable"
        }
    }
    public init?(name: String) {
        guard let t = OnlineType.allCases.first(where: { $0.name == name }) else { return nil }
        self = t
    }
}

/// An error the model returns, carrying the errno the kernel would give user space and,
/// where the kernel has one, the reason it would print.
public struct KernelError: Error, Equatable, Sendable, CustomStringConvertible {
    public var errno: Errno
    public var reason: String
    public init(_ errno: Errno, _ reason: String = "") { self.errno = errno; self.reason = reason }
    public var description: String { reason.isEmpty ? "\(errno)" : "\(errno): \(reason)" }
}
