import Foundation
import KernelFS
import MemoryModel
import Scenario
import Study

/// The model's benchmarks: what users run (the demo's fill, a study-sized batch of scenarios,
/// offline under pressure, pool resizes up to a million pages, terabyte boots and hot-adds)
/// and the allocator's hot paths. Setup (the boot an operation needs) is not timed; peak RSS
/// covers the whole child process.
public enum ModelSuite {
    /// Where the conformance scenarios are (`memhp bench --scenarios`).
    nonisolated(unsafe) public static var scenarioDir = "tests/conformance"

    public static let cases: [BenchCase] = [
        BenchCase(
            "demo-fill",
            "memhp demo's filler: 1 GiB guest + 512 MiB movable DIMM, 128 huge pages, ramfs one page a call until the kernel zones are full"
        ) {
            let fs = try demoMachine(hvo: true)
            return try fs.withLock { m in
                let filler = try m.createOwner(name: "ramfs-filler", kind: .ramfs, node: 0, bound: true)
                var n = 0
                let t = BenchTimer()
                while m.allocate(owner: filler, blocks: 1) == 1 { n += 1 }
                return t.sample(figures: ["pages": Double(n)])
            }
        },
        BenchCase(
            "offline-dissolve-pressure",
            "demo's risk case, HVO off: offline a movable block holding free huge pages (dissolved) while the kernel zones are full"
        ) {
            let fs = try demoMachine(hvo: false)
            try fs.withLock { m in
                let filler = try m.createOwner(name: "ramfs-filler", kind: .ramfs, node: 0, bound: true)
                while m.allocate(owner: filler, blocks: 1) == 1 {}
            }
            let t = BenchTimer()
            var ok = 1.0
            do { _ = try fs.write("/sys/devices/system/memory/memory33/state", "offline\n") } catch { ok = 0 }
            let pool = Double(try fs.read("/proc/sys/vm/nr_hugepages").dropLast()) ?? -1
            return t.sample(figures: ["offlined": ok, "nr_hugepages_after": pool])
        },
        BenchCase("scenarios-conformance", "a study-sized batch: every tests/conformance scenario run on the model") {
            let dir = scenarioDir
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
                $0.hasSuffix(".scn")
            }.sorted()
            guard !files.isEmpty else {
                throw BenchSkipped("no scenarios in \(dir) (run from the repository, or pass --scenarios DIR)")
            }
            let scenarios = try files.map { f in
                try Scenario.parse(String(contentsOfFile: "\(dir)/\(f)", encoding: .utf8), file: "\(dir)/\(f)")
            }
            var lines = 0
            let t = BenchTimer()
            for sc in scenarios { lines += ModelRunner(scenario: sc).run().lines.count }
            return t.sample(figures: ["scenarios": Double(scenarios.count), "observation_lines": Double(lines)])
        },
        BenchCase(
            "study-batch",
            "memhp study hvo on its default 4 GiB shape (2G + 2G DIMM): the default grid with 1 repetition (120 runs) on one thread; runs_per_min_2cores is the rate both cores would give (goal 1,000)"
        ) {
            let machine = StudyMachine(memBytes: 2 << 30, maxmemBytes: 8 << 30, slots: 4, dimmBytes: 2 << 30)
            let grid = StudyGrid(
                poolPercents: [10, 25, 50], pageSizes: [.m2, .g1], hvo: [false, true],
                pressures: try ["none", "pinned:128M", "fill:64M", "fill:16M", "fill:2M"].map(Pressure.parse),
                online: [.movableShare(100), .movableShare(50)], nodes: [1], repetitions: 1, seed: 1)
            let executor = try StudyExecutor(machine: machine, grid: grid, offlineTimeout: 1)
            let specs = executor.allSpecs
            let t = BenchTimer()
            let records = executor.run(specs, workers: 1)
            let s = t.sample()
            let perRun = s.cpu / Double(max(records.count, 1))
            return t.sample(figures: [
                "runs": Double(records.count), "cpu_ms_per_run": perRun * 1000,
                "runs_per_min_2cores": perRun > 0 ? 2 * 60 / perRun : 0
            ])
        },
        BenchCase("scenario-seeds", "one scenario (a-baseline) under 20 seeds") {
            let path = "\(scenarioDir)/a-baseline.scn"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw BenchSkipped("\(path) not found")
            }
            let base = try Scenario.parse(text, file: path)
            let t = BenchTimer()
            for seed in 1...20 {
                var sc = base
                sc.machine.seed = UInt64(seed)
                _ = ModelRunner(scenario: sc).run()
            }
            return t.sample(figures: ["runs": 20])
        },
        BenchCase(
            "pool-2048-hvo-off",
            "grow then shrink the 2 MiB pool to 2048 pages, HVO off (memhp bench --host: the same on this kernel)"
        ) {
            try poolResize(pages: 2048, hvo: false)
        },
        BenchCase("pool-2048-hvo-on", "grow then shrink the 2 MiB pool to 2048 pages, HVO on") {
            try poolResize(pages: 2048, hvo: true)
        },
        BenchCase("pool-100k-hvo-on", "grow then shrink the 2 MiB pool to 100,000 pages, HVO on") {
            try poolResize(pages: 100_000, hvo: true)
        },
        BenchCase(
            "pool-1m-hvo-on", "grow then shrink the 2 MiB pool to 1,000,000 pages (1.9 TiB), HVO on",
            needsBytes: 10 << 30
        ) {
            try poolResize(pages: 1_000_000, hvo: true)
        },
        BenchCase("boot-1t", "boot -m 1T (no hotplug)", needsBytes: 4 << 30) {
            try boot(MachineConfig(memBytes: 1 << 40, maxmemBytes: 1 << 40, slots: 0))
        },
        BenchCase("boot-16t", "boot --mem 16T --maxmem 17T", needsBytes: 8 << 30) {
            try boot(MachineConfig(memBytes: 16 << 40, maxmemBytes: 17 << 40, slots: 4))
        },
        BenchCase(
            "lsmem-16t",
            "lsmem (util-linux, unmodified) over the 16 TiB guest (boot-16t: 16,384 blocks of 1 GiB) served by FUSE as memhp sandbox serves it; CPU is the server's plus lsmem's",
            needsBytes: 2 << 30
        ) {
            try LsmemOverFUSE.run(MachineConfig(memBytes: 16 << 40, maxmemBytes: 17 << 40, slots: 4), arguments: [])
        },
        BenchCase(
            "lsmem-summary-16t", "lsmem --summary over the same 16 TiB guest (the same files read, less output)",
            needsBytes: 2 << 30
        ) {
            try LsmemOverFUSE.run(
                MachineConfig(memBytes: 16 << 40, maxmemBytes: 17 << 40, slots: 4), arguments: ["--summary"])
        },
        BenchCase(
            "lsmem-16t-2g",
            "lsmem over a 16 TiB guest with the issue's 2 GiB blocks (--mem 16385G --maxmem 17T: RAM ends at 16 TiB + 2 GiB, 8,192 blocks; the pc machine's --mem 16T ends at 16 TiB + 1 GiB: 1 GiB blocks, as lsmem-16t)",
            needsBytes: 2 << 30
        ) {
            try LsmemOverFUSE.run(MachineConfig(memBytes: 16385 << 30, maxmemBytes: 17 << 40, slots: 4), arguments: [])
        },
        BenchCase(
            "hotadd-1t",
            "ACPI hot-add of a 1 TiB DIMM to a 64 GiB guest (16 GiB of memmap from the kernel zones), left offline",
            needsBytes: 4 << 30
        ) {
            let m = try Machine.boot(MachineConfig(memBytes: 64 << 30, maxmemBytes: (1 << 40) + (72 << 30), slots: 4))
            return try BenchTimer.measure(figures: ["blocks": Double((1 << 40) / (m.blockPages << Geometry.pageShift))])
            {
                _ = try m.hotAddDIMM(id: "bench", sizeBytes: 1 << 40)
            }
        },
        BenchCase("hotadd-64g", "ACPI hot-add of a 64 GiB DIMM (memmap from the kernel zones), left offline") {
            let m = try Machine.boot(MachineConfig(memBytes: 4 << 30, maxmemBytes: 132 << 30, slots: 4))
            return try BenchTimer.measure { _ = try m.hotAddDIMM(id: "bench", sizeBytes: 64 << 30) }
        },
        BenchCase(
            "offline-2g-block", "offline of a 2 GiB movable block (-m 65G: 2 GiB blocks) full of anonymous memory",
            needsBytes: 2 << 30
        ) {
            try offline2GiBDIMMBlock(MachineConfig(memBytes: 65 << 30, maxmemBytes: 69 << 30, slots: 4))
        },
        BenchCase(
            "offline-2g-block-16t",
            "the same 2 GiB block offline on a 16 TiB guest (--mem 16385G: max_pfn 16 TiB + 2 GiB, so 6.1's probe_memory_block_size picks 2 GiB blocks; --mem 16T ends at 16 TiB + 1 GiB: 1 GiB blocks)",
            needsBytes: 4 << 30
        ) {
            try offline2GiBDIMMBlock(MachineConfig(memBytes: 16385 << 30, maxmemBytes: 17 << 40, slots: 4))
        },
        BenchCase(
            "offline-anon-128m",
            "offline of a 128 MiB movable block full of anonymous memory (migrated to the kernel zones)"
        ) {
            let m = try Machine.boot(
                MachineConfig(
                    memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                    dimms: [DIMMConfig(id: "d1", sizeBytes: 512 << 20)]))
            let ids = Array(32...35)
            for b in ids { try m.storeState(block: b, .onlineMovable) }
            return try offlineFullest(m, ids, figures: [:])
        },
        BenchCase("offline-free-128m", "offline of a free 128 MiB movable block") {
            let (m, id) = try machineWithMovableBlock()
            return try BenchTimer.measure { try m.storeState(block: id, .offline) }
        },
        BenchCase("online-128m", "online of one offline 128 MiB block") {
            let m = try Machine.boot(MachineConfig(memBytes: 2 << 30, maxmemBytes: 16 << 30, slots: 4))
            let ids = try m.hotAddDIMM(id: "bench", sizeBytes: 128 << 20)
            return try BenchTimer.measure { try m.storeState(block: ids[0], .online) }
        },
        BenchCase(
            "state-save-400k", "save a --state file of 400,000 journaled writes (encode, write, rename)"
        ) {
            try StateFileBench.save(writes: 400_000)
        },
        BenchCase(
            "state-load-400k", "load a --state file of 400,000 journaled writes (read, parse, boot, replay)"
        ) {
            try StateFileBench.load(writes: 400_000)
        },
        BenchCase("alloc-free-pairs", "20 M order-0 allocate+free pairs (4 GiB guest)") {
            let m = try Machine.boot(MachineConfig(memBytes: 4 << 30, maxmemBytes: 4 << 30, slots: 0))
            let pairs = 20_000_000
            var sink = 0
            let s = BenchTimer.measure {
                for _ in 0..<pairs {
                    let pfn = m.allocPages(order: 0, gfp: .kernel, node: 0, kind: .kernel)!
                    sink &+= pfn
                    m.freePages(pfn, order: 0)
                }
            }
            return withFigures(
                s, ["pairs": Double(pairs), "mops_per_cpu_s": Double(pairs) / s.cpu / 1e6, "sink": Double(sink & 1)])
        },
        BenchCase("churn", "2 M mixed-order operations (orders 0-10, up to 2048 blocks held)") {
            let m = try Machine.boot(MachineConfig(memBytes: 4 << 30, maxmemBytes: 4 << 30, slots: 0))
            let ops = 2_000_000
            var held: [(PFN, Int)] = []
            held.reserveCapacity(4096)
            var rng = SplitMix64(seed: 1)
            let s = BenchTimer.measure {
                for _ in 0..<ops {
                    if held.count < 2048 && (held.isEmpty || rng.next() % 2 == 0) {
                        let order = Int(rng.next() % 11) > 7 ? Int(rng.next() % 11) : Int(rng.next() % 4)
                        let gfp: GFP = rng.next() % 2 == 0 ? .kernel : .highuserMovable
                        if let pfn = m.allocPages(order: order, gfp: [gfp, .nowarn], node: 0, kind: .kernel) {
                            held.append((pfn, order))
                        }
                    } else {
                        let i = Int(rng.next() % UInt64(held.count))
                        held.swapAt(i, held.count - 1)
                        let (pfn, order) = held.removeLast()
                        m.freePages(pfn, order: order)
                    }
                }
            }
            return withFigures(s, ["ops": Double(ops), "mops_per_cpu_s": Double(ops) / s.cpu / 1e6])
        }
    ]

    public static func named(_ name: String) -> BenchCase? { cases.first { $0.name == name } }

    // MARK: Setups

    static func withFigures(_ s: BenchSample, _ f: [String: Double]) -> BenchSample {
        var s = s
        s.figures.merge(f) { $1 }
        return s
    }

    /// The machine of `memhp demo`: -m 1G,slots=4,maxmem=4G, a 512 MiB DIMM onlined movable,
    /// 128 huge pages.
    static func demoMachine(hvo: Bool) throws -> KernelFS {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [DIMMConfig(id: "dimm0", sizeBytes: 512 << 20)]))
        let fs = KernelFS(machine: m)
        for b in 32...35 { _ = try fs.write("/sys/devices/system/memory/memory\(b)/state", "online_movable\n") }
        _ = try fs.write("/proc/sys/vm/hugetlb_optimize_vmemmap", hvo ? "1\n" : "0\n")
        _ = try fs.write("/proc/sys/vm/nr_hugepages", "128\n")
        return fs
    }

    /// A 2 GiB guest with a 128 MiB DIMM onlined Movable at 4 GiB.
    static func machineWithMovableBlock() throws -> (Machine, Int) {
        let m = try Machine.boot(MachineConfig(memBytes: 2 << 30, maxmemBytes: 16 << 30, slots: 4))
        let ids = try m.hotAddDIMM(id: "bench", sizeBytes: 128 << 20)
        try m.storeState(block: ids[0], .onlineMovable)
        return (m, ids[0])
    }

    /// Boot `config`, hot-add a 2 GiB DIMM onlined movable and time the offline of its fullest
    /// block (the two 2 GiB-block cases differ only in the machine).
    static func offline2GiBDIMMBlock(_ config: MachineConfig) throws -> BenchSample {
        let m = try Machine.boot(config)
        let blockBytes = m.blockPages << Geometry.pageShift
        let ids = try m.hotAddDIMM(id: "bench", sizeBytes: 2 << 30)
        for id in ids { try m.storeState(block: id, .onlineMovable) }
        return try offlineFullest(m, ids, figures: ["block_mib": Double(blockBytes >> 20)])
    }

    /// Fill the movable blocks `ids` with anonymous memory (as far as the watermarks let a
    /// process), then time the offline of the fullest; figures: pages migrated.
    static func offlineFullest(_ m: Machine, _ ids: [Int], figures: [String: Double]) throws -> BenchSample {
        let anon = try m.createOwner(name: "bench:anon", kind: .anon)
        let pages = ids.reduce(0) { $0 + m.blocks[$1]!.pages }
        m.allocate(owner: anon, blocks: pages)
        func anonPages(_ b: Int) -> Int {
            let r = m.blocks[b]!.range; return (r.start..<r.end).filter { m.memmap.kind($0) == .anon }.count
        }
        let full = ids.max { anonPages($0) < anonPages($1) }!
        let held = anonPages(full)
        let before = m.vmstat.pgmigrateSuccess
        var s = try BenchTimer.measure { try m.storeState(block: full, .offline) }
        s.figures = figures.merging([
            "anon_pages": Double(held), "block_pages": Double(m.blocks[full]!.pages),
            "migrated": Double(m.vmstat.pgmigrateSuccess - before)
        ]) { $1 }
        return s
    }

    /// Grow the default pool to `pages` x 2 MiB and shrink it to 0 on a machine just large
    /// enough, after one untimed cycle (the first touch of the model's arrays costs host page
    /// faults the kernel's populated memmap does not).
    static func poolResize(pages: Int, hvo: Bool) throws -> BenchSample {
        let need = pages * (2 << 20)
        let mem = roundUp(need + need / 8 + (1 << 30), 1 << 30)
        var cfg = MachineConfig(memBytes: mem, maxmemBytes: 0, slots: 0)
        cfg.cmdline = hvo ? "hugetlb_free_vmemmap=on" : ""
        let m = try Machine.boot(cfg)
        m.hugetlbInit()
        let hi = m.hugetlb.defaultIndex
        m.setMaxHugePages(hstate: hi, count: UInt64(pages))
        m.setMaxHugePages(hstate: hi, count: 0)
        let t = BenchTimer()
        m.setMaxHugePages(hstate: hi, count: UInt64(pages))
        let grow = t.sample()
        let grown = m.hugetlb.hstates[hi].nrHugePages
        let t2 = BenchTimer()
        m.setMaxHugePages(hstate: hi, count: 0)
        let shrink = t2.sample()
        return BenchSample(
            cpu: grow.cpu + shrink.cpu, wall: grow.wall + shrink.wall,
            figures: [
                "grown": Double(grown), "grow_cpu_ms": grow.cpu * 1000, "shrink_cpu_ms": shrink.cpu * 1000,
                "grow_wall_ms": grow.wall * 1000, "shrink_wall_ms": shrink.wall * 1000
            ])
    }

    /// Boot a machine; figures: page frames, memory block size.
    static func boot(_ cfg: MachineConfig) throws -> BenchSample {
        var m: Machine?
        let s = try BenchTimer.measure { m = try Machine.boot(cfg) }
        return withFigures(
            s,
            [
                "page_frames": Double(m!.memmap.pfnCount),
                "block_mib": Double((m!.blockPages << Geometry.pageShift) >> 20)
            ])
    }
}
