import XCTest

@testable import MemoryModel

/// `do_migrate_range` migrates runs of order-0 LRU pages in batches (MigrationBatch.swift):
/// a shortcut of the mechanism, never of the result. The same machines, offlined with the
/// batch and page by page, must end each offline in the same state: every page's kind, every
/// head's order, owner and link, every free list and pcp list in order, the owners' lists in
/// order, the zones' counters, vmstat, the kernel log and the virtual clock. The machines
/// cover targets on a fragmented and on a roomy zone, another node, a source zone that is also
/// a target zone until its watermark fails, pages that never migrate in the middle of a run,
/// the slow path with reclaim, and offlines that fail.
final class BatchMigrationTests: XCTestCase {
    /// Everything migration and offline can change. Pages go as runs: a summarized chunk's
    /// tails as one line, an allocated head's full entry, a free head's but its link, a tail's kind (its order,
    /// owner and link mean nothing: page by page they hold what the page last was).
    func state(_ m: Machine) -> [String] {
        var out: [String] = []
        var pfn = 0
        while pfn < m.memmap.pfnCount {
            if let run = m.memmap.uniformRun(from: pfn) {
                out.append("\(pfn)..<\(run.end) \(run.kind)")
                pfn = run.end
                continue
            }
            let e = m.memmap.entry(pfn)
            let k = PageKind(rawValue: e.kind)!
            if k == .tail || k == .buddyTail {
                out.append("\(pfn) \(k)")
            } else if !k.isAllocated {
                // An absent, offline or reserved page's link is left from whatever it was; a pcp
                // page's too; a free head's names its free-list node, whichever was spare (the
                // lists' order is compared below).
                out.append("\(pfn) \(k) \(e.order) \(e.owner)")
            } else {
                out.append("\(pfn) \(k) \(e.order) \(e.owner) \(e.link)")
            }
            pfn += 1
        }
        for o in m.owners.all { out.append("owner \(o.name) \(o.blocks)") }
        for (i, z) in m.zones.enumerated() {
            out.append(
                "zone \(i) free \(z.freePages) pcp \(z.pcp.count) factor \(z.pcp.freeFactor) iso \(z.nrIsolatePageblock) \(z.kindPages)"
            )
            for li in 0..<ZoneLists.freeListCount where z.store.freePFNs(li).count > 0 {
                out.append("zone \(i) list \(li) \(z.store.freePFNs(li))")
            }
            for li in 0..<PerCPUPages.listCount {
                let r = z.fast.pcp + li
                let pfns = (0..<r.pointee.count).map { z.fast.pcpLoad(r, (r.pointee.head + $0) & (r.pointee.cap - 1)) }
                if !pfns.isEmpty { out.append("zone \(i) pcp \(li) \(pfns)") }
            }
        }
        let v = m.vmstat
        out.append(
            "vmstat migrate \(v.pgmigrateSuccess) \(v.pgmigrateFail) steal \(v.pgstealKswapd) \(v.pgstealDirect) stall \(v.allocstallNormal) \(v.allocstallMovable) oom \(v.oomKill)"
        )
        out.append("generation \(m.owners.reclaimableGeneration) clock \(m.clock) dense \(m.memmap.denseChunks)")
        out.append(contentsOf: m.kmsg)
        return out
    }

    /// Boot `config`, prepare it, then offline `blocks` in turn; the state after each offline
    /// (and its errno), and the pages the batch migrated.
    func run(
        batch: Bool, _ config: MachineConfig, online: [(Int, OnlineType)], offline blocks: [Int],
        prepare: (Machine) throws -> Void
    ) throws -> (states: [[String]], batched: Int) {
        let m = try Machine.boot(config)
        m.hotplug.batchMigration = batch
        for (id, type) in online { try m.storeState(block: id, type) }
        try prepare(m)
        var states: [[String]] = []
        for id in blocks {
            var result = "ok"
            do { try m.storeState(block: id, .offline) } catch let e as KernelError { result = "\(e.errno)" }
            try m.verify()
            states.append(["offline \(id): \(result)"] + state(m))
        }
        return (states, m.hotplug.batchMigratedPages)
    }

    /// Returns the batch's states (the first line of each: the offline's result).
    @discardableResult
    func assertSame(
        _ config: MachineConfig, online: [(Int, OnlineType)], offline blocks: [Int],
        minBatched: Int, file: StaticString = #filePath, line: UInt = #line, prepare: (Machine) throws -> Void
    ) throws -> [[String]] {
        let batched = try run(batch: true, config, online: online, offline: blocks, prepare: prepare)
        let single = try run(batch: false, config, online: online, offline: blocks, prepare: prepare)
        XCTAssertEqual(single.batched, 0, file: file, line: line)
        XCTAssertGreaterThanOrEqual(batched.batched, minBatched, "the batch was used", file: file, line: line)
        XCTAssertEqual(batched.states.count, single.states.count, file: file, line: line)
        for (b, s) in zip(batched.states, single.states) {
            XCTAssertEqual(b.count, s.count, "\(s[0])", file: file, line: line)
            for (x, y) in zip(b, s) where x != y {
                XCTFail("\(s[0]): first difference: batch '\(x)' vs page by page '\(y)'", file: file, line: line)
                break
            }
        }
        return batched.states
    }

    /// Kernel pages allocated and freed in a seeded pattern: the target zone's free lists and
    /// pcp lists hold blocks of every order, not just order-10 runs.
    func fragment(_ m: Machine, pages: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var held: [PFN] = []
        for _ in 0..<pages {
            if let p = m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel) { held.append(p) }
        }
        for p in held where rng.next() % 3 != 0 { m.freePages(p, order: 0) }
    }

    /// A 1 GiB DIMM onlined movable, mostly anonymous memory over fragmented kernel zones
    /// (the kernel zones' pcp lists and partial blocks serve the first targets).
    func testMovableDIMMOverFragmentedKernelZones() throws {
        let cfg = MachineConfig(
            memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 4, dimms: [DIMMConfig(id: "d", sizeBytes: 512 << 20)])
        try assertSame(cfg, online: (32...35).map { ($0, .onlineMovable) }, offline: [33, 32, 35], minBatched: 30_000) {
            m in
            fragment(m, pages: 40_000, seed: 7)
            let anon = try m.createOwner(name: "anon", kind: .anon)
            let cache = try m.createOwner(name: "cache", kind: .pageCache)
            let shm = try m.createOwner(name: "shm", kind: .shmem)
            var rng = SplitMix64(seed: 3)
            for _ in 0..<1500 {
                let owner = [anon, anon, cache, shm][Int(rng.next() % 4)]
                m.allocate(owner: owner, blocks: Int(rng.next() % 90) + 1)
            }
            // Holes in the runs: some pages freed again.
            m.release(owner: cache, blocks: 3000)
        }
    }

    /// The same DIMM full to the watermarks: the last offlines run the kernel zones down to
    /// their watermarks, reclaim the page cache and fail. (Below their low watermark the
    /// targets come from the slow path, page by page: kswapd does not run while the node's
    /// Movable zone still meets its high watermark, `pgdat_balanced`.)
    func testOfflinesThatRunOutOfTargets() throws {
        let cfg = MachineConfig(
            memBytes: 512 << 20, maxmemBytes: 2 << 30, slots: 4, dimms: [DIMMConfig(id: "d", sizeBytes: 512 << 20)])
        let states = try assertSame(
            cfg, online: (32...35).map { ($0, .onlineMovable) }, offline: [32, 33, 34], minBatched: 15_000
        ) {
            m in
            let cache = try m.createOwner(name: "cache", kind: .pageCache)
            m.allocate(owner: cache, blocks: 40_000)
            let anon = try m.createOwner(name: "anon", kind: .anon)
            m.allocate(owner: anon, blocks: 4 * 32768)
        }
        let vmstat = states.last!.first { $0.hasPrefix("vmstat ") }!
        XCTAssertFalse(vmstat.contains("steal 0 0"), "reclaim ran: \(vmstat)")
        XCTAssertEqual(
            states.map { $0[0] }, ["offline 32: ok", "offline 33: ok", "offline 34: Interrupted system call"])
    }

    /// offline-anon-128m's shape: the source zone (Movable) stays in the target zonelist, with
    /// free pages in its other blocks, and passes its watermark as the sources are freed.
    func testSourceZoneAmongTheTargets() throws {
        let cfg = MachineConfig(
            memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 4, dimms: [DIMMConfig(id: "d1", sizeBytes: 512 << 20)])
        try assertSame(cfg, online: (32...35).map { ($0, .onlineMovable) }, offline: [34, 32, 35], minBatched: 20_000) {
            m in
            let anon = try m.createOwner(name: "anon", kind: .anon)
            m.allocate(owner: anon, blocks: 4 * 32768)
            m.release(owner: anon, blocks: 3000)
        }
    }

    /// Two nodes: the targets are on the other node; blocks onlined to ZONE_NORMAL hold
    /// ramfs and pinned pages (they never migrate) between the runs.
    func testOtherNodeAndKernelZoneBlocks() throws {
        let cfg = MachineConfig(
            memBytes: 1 << 30, maxmemBytes: 2 << 30, slots: 4,
            nodes: [NodeConfig(id: 0, memBytes: 512 << 20), NodeConfig(id: 1, memBytes: 512 << 20)],
            dimms: [DIMMConfig(id: "d", sizeBytes: 512 << 20, node: 1)])
        try assertSame(
            cfg, online: [(32, .onlineMovable), (33, .onlineMovable), (34, .onlineKernel), (35, .onlineKernel)],
            offline: [32, 34, 33, 35], minBatched: 10_000
        ) { m in
            let anon = try m.createOwner(name: "anon", kind: .anon, node: 1, bound: true)
            let ramfs = try m.createOwner(name: "ramfs", kind: .ramfs, node: 1, bound: true)
            let pinned = try m.createOwner(name: "pinned", kind: .pinned, node: 1, bound: true)
            var rng = SplitMix64(seed: 11)
            for _ in 0..<1000 {
                m.allocate(owner: anon, blocks: Int(rng.next() % 60) + 1)
                if rng.next() % 8 == 0 { m.allocate(owner: [ramfs, pinned][Int(rng.next() % 2)], blocks: 1) }
            }
        }
    }
}
