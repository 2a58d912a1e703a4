import KernelFS
import SystemPackage
import XCTest

@testable import MemoryModel
@testable import Snapshot

/// Snapshot → prediction against the model's own offline, block by block: the fake root is
/// the model's exported tree, and each block's real answer comes from writing "offline" to
/// that block of a fresh boot of the same machine (deterministic).
final class ModelAgreementTests: XCTestCase {
    /// A shape: the machine and what is done to it before the snapshot.
    struct Shape: Sendable {
        var name: String
        var config: MachineConfig
        var prepare: @Sendable (KernelFS) throws -> Void
    }

    func boot(_ shape: Shape) throws -> KernelFS {
        let m = try Machine.boot(shape.config)
        if let d = m.layout?.dimms.first(where: { $0.accepted }), m.blocks[d.start / (m.blockPages << 12)] == nil {
            try m.acpiColdPlugDIMMs()
        }
        if !m.hugetlb.initialized { m.hugetlbInit() }
        let fs = KernelFS(machine: m)
        try shape.prepare(fs)
        return fs
    }

    static func outcome(_ e: Errno?) -> BlockPrediction.Outcome? {
        switch e {
        case nil: .success
        case .resourceBusy?: .ebusy
        case .invalidArgument?: .einval
        case .interrupted?: .spins
        case .noMemory?: .enomem
        default: nil
        }
    }

    /// Predicted vs. the model's answer for every block; returns (right, total, misses).
    func agreement(_ shape: Shape) throws -> (Int, Int, [String], [BlockPrediction.Outcome]) {
        let fs = try boot(shape)
        let root = try ModelFakeRoot.make(fs)
        defer { ModelFakeRoot.remove(root) }
        let (s, census) = SnapshotCapture(root: HostRoot(root)).capture()
        try SnapshotCheck.check(s, source: root)
        XCTAssertNotNil(census)
        XCTAssertTrue(s.census?.pageCounts ?? false)
        let predictions = OfflinePredictor(snapshot: s, census: census).predictAll()
        var right = 0
        var misses: [String] = []
        for p in predictions {
            let fresh = try boot(shape)
            var err: Errno?
            do { try fresh.write("/sys/devices/system/memory/memory\(p.block)/state", "offline\n") } catch let e
                as KernelError
            { err = e.errno }
            let actual = Self.outcome(err)
            if actual == p.outcome {
                right += 1
            } else {
                misses.append(
                    "\(shape.name) memory\(p.block) (\(p.zone)): predicted \(p.outcome.rawValue) [\(p.reason): \(p.detail)], model \(actual?.rawValue ?? "\(String(describing: err))")"
                )
            }
        }
        return (right, predictions.count, misses, predictions.map(\.outcome))
    }

    /// The DIMM's blocks (offline after the cold plug): the first `kernel` onlined to the
    /// kernel zone, the rest movable.
    static func onlineDIMM(_ fs: KernelFS, kernel: Int) throws {
        let offline = fs.withLock { m in m.blocks.filter { $0.value.state == .offline }.map(\.key).sorted() }
        for (i, b) in offline.enumerated() {
            try fs.write(
                "/sys/devices/system/memory/memory\(b)/state", i < kernel ? "online_kernel\n" : "online_movable\n")
        }
    }

    static let dimm = MachineConfig(
        memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4, dimms: [DIMMConfig(id: "d1", sizeBytes: 512 << 20)])

    static let shapes: [Shape] = [
        // The a-baseline machine with a 512 MiB DIMM (one block online_kernel, three movable),
        // anonymous memory, ramfs pages (GFP_HIGHUSER: kernel zones) and a 2 MiB pool.
        Shape(name: "dimm-ramfs", config: dimm) { fs in
            try onlineDIMM(fs, kernel: 1)
            try fs.write("/proc/sys/vm/nr_hugepages", "40\n")
            try fs.withLock { m in
                let anon = try m.createOwner(name: "t:anon", kind: .anon)
                m.allocate(owner: anon, blocks: 60_000)
                let ramfs = try m.createOwner(name: "t:ramfs", kind: .ramfs)
                m.allocate(owner: ramfs, blocks: 40_000)
            }
        },
        // HVO on, the pool in the movable DIMM, then the kernel zones filled with slab: dissolving
        // a free huge page needs vmemmap pages the kernel zones no longer have (seed case 3).
        Shape(
            name: "hvo-pressure",
            config: {
                var c = dimm; c.cmdline = "hugetlb_free_vmemmap=on"; return c
            }()
        ) { fs in
            try onlineDIMM(fs, kernel: 0)
            try fs.write("/proc/sys/vm/nr_hugepages", "100\n")
            try fs.withLock { m in
                let slab = try m.createOwner(name: "t:slab", kind: .slabUnreclaimable, gfp: [.kernel, .nowarn])
                m.allocate(owner: slab, blocks: 1 << 30)
            }
        },
        // The same without HVO: every movable block offlines (the huge pages dissolve freely).
        Shape(name: "no-hvo-pressure", config: dimm) { fs in
            try onlineDIMM(fs, kernel: 0)
            try fs.write("/proc/sys/vm/nr_hugepages", "100\n")
            try fs.withLock { m in
                let slab = try m.createOwner(name: "t:slab", kind: .slabUnreclaimable, gfp: [.kernel, .nowarn])
                m.allocate(owner: slab, blocks: 1 << 30)
            }
        }
    ]

    func testPredictionsAgreeWithTheModel() throws {
        var right = 0, total = 0
        var misses: [String] = []
        var seen: [BlockPrediction.Outcome: Int] = [:]
        for shape in Self.shapes {
            let (r, t, m, o) = try agreement(shape)
            right += r; total += t; misses += m
            for x in o { seen[x, default: 0] += 1 }
        }
        print("outcomes: \(seen.map { "\($0.key.rawValue) \($0.value)" }.sorted())")
        // The shapes exercise success, isolation failures, holes/zones and HVO's ENOMEM (the
        // never-migrating ramfs block is the expected miss below; the real-kernel fixtures cover EINTR).
        for o in [BlockPrediction.Outcome.success, .ebusy, .einval, .enomem] {
            XCTAssertNotNil(seen[o], "no \(o) block")
        }
        // dimm-ramfs memory1: its first pageblock's only "unmovable" page is a page on a per-cpu
        // list, which kpageflags shows without flags, like kernel stacks and vmalloc pages; DMA32
        // has more such pages than its per-cpu lists hold, so they count as kernel memory there
        // (flagless=auto) and the prediction says EBUSY where the model drains the lists and spins
        // on the ramfs pages. The files cannot tell the two apart.
        XCTAssertEqual(misses.map { String($0.prefix(while: { $0 != "(" })) }, ["dimm-ramfs memory1 "])
        for m in misses { print("miss: " + m) }
        print("snapshot predictions vs the model: \(right)/\(total)")
        XCTAssertGreaterThan(total, 15)
        XCTAssertGreaterThanOrEqual(Double(right) / Double(total), 0.95, misses.joined(separator: "\n"))
    }

    /// The snapshot sees what the model serves: zones, blocks, pools.
    func testSnapshotMatchesTheModelsFiles() throws {
        let fs = try boot(Self.shapes[0])
        let root = try ModelFakeRoot.make(fs)
        defer { ModelFakeRoot.remove(root) }
        let (s, census) = SnapshotCapture(root: HostRoot(root)).capture()
        fs.withLock { m in
            XCTAssertEqual(s.blockSizeBytes, m.blockPages << 12)
            XCTAssertEqual(s.blocks.map(\.id), m.blocks.keys.sorted())
            XCTAssertEqual(
                s.zones.filter { $0.present > 0 }.map(\.managed),
                m.zones.filter { $0.presentPages > 0 }.map(\.managedPages))
            XCTAssertEqual(census?.endPFN, m.kpageflagsEndPFN)
            // Every free page the zones count is a free page in the census (buddy, not pcp).
            let free = census!.counts(0, census!.endPFN)[.free] ?? 0
            XCTAssertEqual(free, m.totalFreePages)
        }
        XCTAssertEqual(s.hugePool(sizeKB: 2048)?.nr, 40)
        // What a fake root lacks is listed, not guessed.
        XCTAssertTrue(s.missing.contains { $0.path == "/sys/firmware/memmap" })
    }
}
