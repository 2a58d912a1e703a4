import MemoryModel
import Scenario

/// A usage error in a study's grid, options or inputs: the CLI prints it and exits 2.
public struct StudyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The huge page size of a study point: the default 2 MiB hstate, or 1 GiB gigantic pages
/// (hugepages-1048576kB exists only when the CPU has pdpe1gb, so such points boot with gbpages).
public enum HugePageSize: String, Sendable, Codable, CaseIterable, Comparable {
    case m2 = "2M"
    case g1 = "1G"
    public var bytes: Int { self == .m2 ? 2 << 20 : 1 << 30 }
    /// Base pages per huge page (512 or 262144).
    public var basePages: Int { bytes >> 12 }
    /// The hstate's sysfs directory name (hugetlb_sysfs_add_hstate: "hugepages-%lukB").
    public var sysfsName: String { "hugepages-\(bytes >> 10)kB" }
    public static func < (a: Self, b: Self) -> Bool { a.bytes < b.bytes }
}

/// Kernel-memory pressure applied after the pool exists, before the offline attempts. Each is a
/// scenario step the real guest performs the same way: `slab`, `pagetable`, `ramfs` and `pinned`
/// are `hold`s bound to node 0 (unreclaimable slab and user page tables are unmovable kernel
/// allocations; ramfs page cache never migrates; FOLL_LONGTERM pins are moved out of
/// ZONE_MOVABLE and then stay),
/// `fill` is `fill-kernel` (node 0's kernel zones filled with ramfs pages until MARGIN is left
/// above min + lowmem_reserve: the vmemmap restore of HVO then has nowhere to allocate from).
public struct Pressure: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case none, slab, pagetable, ramfs, pinned, fill }
    /// The kinds that hold SIZE of memory (all but `none` and `fill`).
    public var holds: Bool { kind != .none && kind != .fill }
    public var kind: Kind
    /// Bytes held (slab, pagetable, ramfs, pinned) or the margin left (fill).
    public var bytes: Int
    public init(kind: Kind, bytes: Int) { self.kind = kind; self.bytes = bytes }

    /// `none`, `ramfs:128M`, `pinned:64M`, `fill:16M` (sizes as the scenario files write them).
    public static func parse(_ s: String) throws -> Pressure {
        if s == "none" { return Pressure(kind: .none, bytes: 0) }
        let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(rawValue: parts[0]), kind != .none else {
            throw StudyError(
                "--pressure: '\(s)' is not none, slab:SIZE, pagetable:SIZE, ramfs:SIZE, pinned:SIZE or fill:MARGIN (e.g. fill:16M)"
            )
        }
        guard let bytes = StudySize.parse(parts[1]) else {
            throw StudyError("--pressure: '\(s)': '\(parts[1])' is not a size (e.g. 64M)")
        }
        let (lo, span) = StudyScenario.holdJitterMiB(bytes)
        if kind == .slab && (lo + span) << 20 > HoldKind.slabMaxBytes {
            throw StudyError(
                "--pressure: '\(s)': a run holds up to \(lo + span)M (+25%), and a slab hold is at most \(HoldKind.slabMaxBytes >> 20)M (System V msgmnb is an int)"
            )
        }
        return Pressure(kind: kind, bytes: bytes)
    }
    public var description: String { kind == .none ? "none" : "\(kind.rawValue):\(StudySize.format(bytes))" }
}

/// How the hot-pluggable (DIMM) blocks are onlined: the ZONE_MOVABLE share and the policy.
public enum OnlinePolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `online_movable` for the top PERCENT of the DIMM blocks, `online_kernel` below them
    /// (ZONE_MOVABLE must sit above the kernel zone of a node: zone_for_pfn_range).
    case movableShare(Int)
    /// memory_hotplug.online_policy=auto-movable, then `online` (auto_movable_zone_for_pfn).
    case autoMovable

    public static func parse(_ s: String) throws -> OnlinePolicy {
        switch s {
        case "movable": return .movableShare(100)
        case "kernel": return .movableShare(0)
        case "auto-movable": return .autoMovable
        default:
            if s.hasPrefix("movable:"), let p = Int(s.dropFirst(8)), (0...100).contains(p) { return .movableShare(p) }
            throw StudyError("--online: '\(s)' is not movable, kernel, movable:PERCENT (0-100) or auto-movable")
        }
    }
    public var description: String {
        switch self {
        case .movableShare(100): "movable"
        case .movableShare(0): "kernel"
        case .movableShare(let p): "movable:\(p)"
        case .autoMovable: "auto-movable"
        }
    }
}

/// Sizes as scenario files and QEMU write them: a number with K/M/G/T (binary), bare = bytes.
public enum StudySize {
    public static func parse(_ s: String) -> Int? {
        guard let last = s.last else { return nil }
        let shifts: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        let (digits, shift) = shifts[last].map { (String(s.dropLast()), $0) } ?? (s, 0)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits),
            n < 1 << 40
        else { return nil }
        return n << shift
    }
    public static func format(_ bytes: Int) -> String {
        if bytes == 0 { return "0" }
        for (suffix, shift) in [("G", 30), ("M", 20), ("K", 10)] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }
}

/// The machine every run of a study boots (QEMU's `-m`, maxmem, slots, the hot-pluggable
/// DIMM). The node count is a factor of the grid, so boot memory is split per point.
public struct StudyMachine: Sendable, Hashable, Codable {
    public var memBytes: Int
    public var maxmemBytes: Int
    public var slots: Int
    /// The hot-pluggable memory: one cold-plugged pc-dimm on node 0 of this size.
    public var dimmBytes: Int
    public var cmdline: String
    public init(memBytes: Int, maxmemBytes: Int, slots: Int, dimmBytes: Int, cmdline: String = "") {
        self.memBytes = memBytes; self.maxmemBytes = maxmemBytes; self.slots = slots
        self.dimmBytes = dimmBytes; self.cmdline = cmdline
    }
    public var ramBytes: Int { memBytes + dimmBytes }
}

/// One point of the sweep: every factor fixed.
public struct StudyPoint: Sendable, Hashable, Codable {
    /// Pool size as a percentage of RAM (boot memory plus DIMM), rounded to whole huge pages.
    public var poolPercent: Int
    public var pageSize: HugePageSize
    public var hvo: Bool
    public var pressure: Pressure
    public var online: OnlinePolicy
    public var nodes: Int

    /// A short stable name: `pool25-2M-hvo-fill:16M-movable-n1`.
    public var id: String {
        "pool\(poolPercent)-\(pageSize.rawValue)-\(hvo ? "hvo" : "nohvo")-\(pressure)-\(online)-n\(nodes)"
    }
    /// The same point with HVO flipped: the comparison the seed's question asks for.
    public var otherHVO: StudyPoint { var p = self; p.hvo.toggle(); return p }

    public func poolPages(_ machine: StudyMachine) -> Int {
        let exact = Double(machine.ramBytes) * Double(poolPercent) / 100 / Double(pageSize.bytes)
        return Int(exact.rounded(.toNearestOrAwayFromZero))
    }
}

/// The grid: the cartesian product of the factor lists, in the order given, × repetitions.
public struct StudyGrid: Sendable, Hashable, Codable {
    public var poolPercents: [Int]
    public var pageSizes: [HugePageSize]
    public var hvo: [Bool]
    public var pressures: [Pressure]
    public var online: [OnlinePolicy]
    public var nodes: [Int]
    public var repetitions: Int
    public var seed: UInt64

    public init(
        poolPercents: [Int], pageSizes: [HugePageSize], hvo: [Bool], pressures: [Pressure],
        online: [OnlinePolicy], nodes: [Int], repetitions: Int, seed: UInt64
    ) {
        self.poolPercents = poolPercents; self.pageSizes = pageSizes; self.hvo = hvo; self.pressures = pressures
        self.online = online; self.nodes = nodes; self.repetitions = repetitions; self.seed = seed
    }

    /// Every point, pool outermost and node count innermost (the order of the CSV rows).
    public var points: [StudyPoint] {
        var out: [StudyPoint] = []
        for pool in poolPercents {
            for size in pageSizes {
                for pressure in pressures {
                    for on in online {
                        for n in nodes {
                            for h in hvo {
                                out.append(
                                    StudyPoint(
                                        poolPercent: pool, pageSize: size, hvo: h, pressure: pressure, online: on,
                                        nodes: n))
                            }
                        }
                    }
                }
            }
        }
        return out
    }
    public var runCount: Int { points.count * repetitions }

    /// Rejects a grid that is empty, contradictory or that the machine cannot hold.
    public func validate(machine: StudyMachine) throws {
        let lists: [(String, Int)] = [
            ("--pool", poolPercents.count), ("--page-size", pageSizes.count), ("--hvo", hvo.count),
            ("--pressure", pressures.count), ("--online", online.count), ("--nodes", nodes.count)
        ]
        for (name, n) in lists where n == 0 {
            throw StudyError("\(name): the list is empty, so the grid has no points")
        }
        guard repetitions >= 1 else { throw StudyError("--reps: \(repetitions) repetitions; at least 1 is needed") }
        func unique<T: Hashable>(_ name: String, _ xs: [T]) throws {
            guard Set(xs).count == xs.count else {
                throw StudyError("\(name): a value is listed twice (the points would repeat)")
            }
        }
        try unique("--pool", poolPercents); try unique("--page-size", pageSizes); try unique("--hvo", hvo)
        try unique("--pressure", pressures); try unique("--online", online); try unique("--nodes", nodes)
        for p in poolPercents where !(0...100).contains(p) {
            throw StudyError("--pool: \(p)% is not between 0 and 100 (a pool larger than memory cannot exist)")
        }
        for n in nodes where !(1...2).contains(n) { throw StudyError("--nodes: \(n) nodes; the study models 1 or 2") }
        if nodes.contains(2), machine.memBytes % (2 * (2 << 20)) != 0 {
            throw StudyError(
                "--nodes 2: boot memory \(StudySize.format(machine.memBytes)) does not split into two multiples of 2M")
        }
        guard machine.dimmBytes > 0 else {
            throw StudyError("--dimm: the study needs hot-pluggable memory (a DIMM of at least 128M)")
        }
        let movable = machine.dimmBytes
        for pool in poolPercents {
            for size in pageSizes {
                let pages = StudyPoint(
                    poolPercent: pool, pageSize: size, hvo: false, pressure: .init(kind: .none, bytes: 0),
                    online: .autoMovable, nodes: 1
                ).poolPages(machine)
                if pages * size.bytes > machine.ramBytes - (64 << 20) {
                    throw StudyError(
                        "--pool \(pool) with \(size.rawValue) pages: \(pages) pages (\(StudySize.format(pages * size.bytes))) do not fit in \(StudySize.format(machine.ramBytes)) of RAM with the kernel's own 64M"
                    )
                }
            }
        }
        for p in pressures where p.holds {
            if p.bytes >= machine.memBytes {
                throw StudyError(
                    "--pressure \(p): more than the boot memory (\(StudySize.format(machine.memBytes))) the kernel zones have"
                )
            }
        }
        _ = movable
    }
}
