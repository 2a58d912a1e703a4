import MemoryModel

/// One run of the sweep: a point, its repetition and the seed of its randomized workload.
public struct RunSpec: Sendable, Hashable {
    /// Position in the grid's run order (point-major, repetition-minor).
    public var index: Int
    public var point: StudyPoint
    public var rep: Int
    public var seed: UInt64
}

/// Turns a run into a scenario file, the one input both the model runner and `memhp
/// kernel-run` (Linux 6.1 under QEMU) execute, so every study point can be checked on the
/// real kernel as it is. Every random choice comes from the run's seed.
public enum StudyScenario {
    /// The seed of one run: a function of the grid seed, the point without its HVO setting (so
    /// HVO off and on see the same workload: a paired comparison) and the repetition — not of
    /// the run's position, so shards and reordered grids draw the same workloads.
    public static func runSeed(gridSeed: UInt64, point: StudyPoint, rep: Int) -> UInt64 {
        var p = point
        p.hvo = false
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the point's name
        for b in p.id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var rng = SplitMix64(seed: gridSeed ^ h ^ (UInt64(rep) &* 0x9E37_79B9_7F4A_7C15))
        return rng.next()
    }

    /// A hold of `bytes` varies by +-25% in whole MiB: from `lo` to `lo + span` MiB.
    public static func holdJitterMiB(_ bytes: Int) -> (lo: Int, span: Int) {
        let mib = max(1, bytes >> 20)
        return (mib * 3 / 4, mib / 2)
    }

    /// The workload drawn for one run.
    public struct Workload: Sendable, Equatable {
        /// Anonymous memory held during the offline attempts (migratable).
        public var anonBytes: Int
        /// The pressure's size after jitter (held bytes, or fill margin in pages).
        public var pressureBytes: Int
        /// The order in which the hot-pluggable blocks are offlined.
        public var offlineOrder: [Int]
    }

    public static func workload(_ spec: RunSpec, machine: StudyMachine, dimmBlocks: [Int]) -> Workload {
        var rng = SplitMix64(seed: spec.seed)
        // Up to a fifth of RAM of anonymous memory, in 2 MiB steps.
        let anonUnits = machine.ramBytes / 5 / (2 << 20)
        let anon = Int(rng.next() % UInt64(anonUnits + 1)) * (2 << 20)
        // The pressure varies by +-25% (holds, in MiB) or +-50% (fill margins) around its level.
        let p = spec.point.pressure
        var pBytes = p.bytes
        switch p.kind {
        case .none: pBytes = 0
        case .slab, .pagetable, .ramfs, .pinned:
            let (lo, span) = holdJitterMiB(p.bytes)
            pBytes = (lo + Int(rng.next() % UInt64(span + 1))) << 20
        case .fill:
            let pages = p.bytes >> 12
            pBytes = (pages / 2 + Int(rng.next() % UInt64(pages + 1))) << 12
        }
        var order = dimmBlocks
        order.shuffle(using: &rng)
        return Workload(anonBytes: anon, pressureBytes: pBytes, offlineOrder: order)
    }

    /// The scenario text of one run. `dimmBlocks` are the DIMM's memory blocks (offline after boot).
    public static func text(_ spec: RunSpec, machine: StudyMachine, dimmBlocks: [Int], offlineTimeout: Int) -> String {
        let pt = spec.point
        let w = workload(spec, machine: machine, dimmBlocks: dimmBlocks)
        var h: [String] = [
            "# memhp study hvo: point \(pt.id), repetition \(spec.rep + 1)",
            "description: study \(pt.id) rep \(spec.rep + 1) seed \(spec.seed)",
            "mem: \(StudySize.format(machine.memBytes))",
            "maxmem: \(StudySize.format(machine.maxmemBytes))",
            "slots: \(machine.slots)"
        ]
        if pt.nodes == 2 {
            let half = machine.memBytes / 2 / (2 << 20) * (2 << 20)
            h.append("node: 0 \(StudySize.format(half))")
            h.append("node: 1 \(StudySize.format(machine.memBytes - half))")
        }
        h.append("dimm: dimm1 \(StudySize.format(machine.dimmBytes)) node=0")
        if !machine.cmdline.isEmpty { h.append("append: \(machine.cmdline)") }
        if pt.pageSize == .g1 { h.append("cpu: gbpages") }
        h.append("timeout: \(1200 + 2 * offlineTimeout * dimmBlocks.count)")
        h.append("seed: \(spec.seed)")
        h.append("---")
        var s: [String] = ["step online"]
        switch pt.online {
        case .autoMovable:
            s.append("write $MHP/online_policy auto-movable")
            for b in dimmBlocks { s.append("online \(b) online") }
        case .movableShare(let pct):
            let movable = (dimmBlocks.count * pct + 50) / 100
            let kernel = dimmBlocks.count - movable
            for (i, b) in dimmBlocks.enumerated() {
                s.append("online \(b) \(i < kernel ? "online_kernel" : "online_movable")")
            }
        }
        s.append("write $VM/hugetlb_optimize_vmemmap \(pt.hvo ? 1 : 0)")
        // The saving is measured between the two zone dumps around the pool's write. The
        // write's first lookup of the pool file would allocate its dentry and inode (and now
        // and then a slab page) in between, on the kernel as in the model: look it up first.
        s.append("read $HUGE/\(pt.pageSize.sysfsName)/nr_hugepages")
        s.append("dump zones")
        s.append("write $HUGE/\(pt.pageSize.sysfsName)/nr_hugepages \(pt.poolPages(machine))")
        s.append("step pool")
        s.append("dump zones hugepages")
        if w.anonBytes > 0 { s.append("hold anon a1 \(StudySize.format(w.anonBytes))") }
        switch pt.pressure.kind {
        case .none: break
        case .slab: s.append("hold slab s1 \(StudySize.format(w.pressureBytes)) node=0")
        case .pagetable: s.append("hold pagetable t1 \(StudySize.format(w.pressureBytes)) node=0")
        case .ramfs: s.append("hold ramfs r1 \(StudySize.format(w.pressureBytes)) node=0")
        case .pinned: s.append("hold pinned p1 \(StudySize.format(w.pressureBytes)) node=0")
        case .fill: s.append("fill-kernel 0 \(w.pressureBytes >> 12)")
        }
        s.append("step offline")
        s.append("dump vmstat")
        for b in w.offlineOrder { s.append("offline \(b) \(offlineTimeout)") }
        s.append("step after")
        let sel = dimmBlocks.isEmpty ? "" : ":\(dimmBlocks.first!)-\(dimmBlocks.last!)"
        s.append("dump hugepages vmstat blocks\(sel)")
        return (h + s).joined(separator: "\n") + "\n"
    }
}
