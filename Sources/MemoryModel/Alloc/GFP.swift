/// The subset of GFP flags the model honours, with 6.1's bit values so that a mask prints as
/// the kernel prints it (`mode:0x210cc0(GFP_KERNEL|__GFP_NORETRY|__GFP_THISNODE)`).
public struct GFP: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let dma = GFP(rawValue: 0x01)
    public static let highmem = GFP(rawValue: 0x02)
    public static let dma32 = GFP(rawValue: 0x04)
    public static let movable = GFP(rawValue: 0x08)
    public static let reclaimable = GFP(rawValue: 0x10)
    public static let high = GFP(rawValue: 0x20)
    public static let io = GFP(rawValue: 0x40)
    public static let fs = GFP(rawValue: 0x80)
    public static let zero = GFP(rawValue: 0x100)
    public static let directReclaim = GFP(rawValue: 0x400)
    public static let kswapdReclaim = GFP(rawValue: 0x800)
    public static let write = GFP(rawValue: 0x1000)
    public static let nowarn = GFP(rawValue: 0x2000)
    public static let retryMayfail = GFP(rawValue: 0x4000)
    public static let nofail = GFP(rawValue: 0x8000)
    public static let noretry = GFP(rawValue: 0x10000)
    public static let memalloc = GFP(rawValue: 0x20000)
    public static let comp = GFP(rawValue: 0x40000)
    public static let nomemalloc = GFP(rawValue: 0x80000)
    public static let hardwall = GFP(rawValue: 0x100000)
    public static let thisnode = GFP(rawValue: 0x200000)
    public static let account = GFP(rawValue: 0x400000)

    public static let reclaim: GFP = [.directReclaim, .kswapdReclaim]
    public static let kernel: GFP = [.reclaim, .io, .fs]
    public static let user: GFP = [.reclaim, .io, .fs, .hardwall]
    public static let highuser: GFP = [.user, .highmem]
    public static let highuserMovable: GFP = [.highuser, .movable]

    /// The highest zone an allocation with these flags may use (`gfp_zone`). On x86_64
    /// __GFP_HIGHMEM means ZONE_NORMAL; only __GFP_MOVABLE with HIGHMEM reaches ZONE_MOVABLE.
    public var highestZone: ZoneType {
        if contains(.dma) { return .dma }
        if contains(.dma32) { return .dma32 }
        if contains(.movable) && contains(.highmem) { return .movable }
        return .normal
    }

    /// `gfp_migratetype`.
    public var migrateType: MigrateType {
        if contains(.movable) { return .movable }
        if contains(.reclaimable) { return .reclaimable }
        return .unmovable
    }

    public var description: String {
        var names: [String] = []
        var rest = self
        for (mask, name) in [
            (GFP.highuserMovable, "GFP_HIGHUSER_MOVABLE"), (.highuser, "GFP_HIGHUSER"),
            (.user, "GFP_USER"), (.kernel, "GFP_KERNEL")
        ] where rest.isSuperset(of: mask) {
            names.append(name); rest.subtract(mask); break
        }
        let singles: [(GFP, String)] = [
            (.dma, "__GFP_DMA"), (.highmem, "__GFP_HIGHMEM"), (.dma32, "__GFP_DMA32"),
            (.movable, "__GFP_MOVABLE"), (.reclaimable, "__GFP_RECLAIMABLE"), (.high, "__GFP_HIGH"),
            (.io, "__GFP_IO"), (.fs, "__GFP_FS"), (.zero, "__GFP_ZERO"), (.directReclaim, "__GFP_DIRECT_RECLAIM"),
            (.kswapdReclaim, "__GFP_KSWAPD_RECLAIM"), (.write, "__GFP_WRITE"), (.nowarn, "__GFP_NOWARN"),
            (.retryMayfail, "__GFP_RETRY_MAYFAIL"), (.nofail, "__GFP_NOFAIL"), (.noretry, "__GFP_NORETRY"),
            (.comp, "__GFP_COMP"), (.nomemalloc, "__GFP_NOMEMALLOC"), (.hardwall, "__GFP_HARDWALL"),
            (.thisnode, "__GFP_THISNODE"), (.account, "__GFP_ACCOUNT")
        ]
        for (flag, name) in singles where rest.contains(flag) { names.append(name) }
        return "0x\(String(rawValue, radix: 16))(\(names.joined(separator: "|")))"
    }
}
