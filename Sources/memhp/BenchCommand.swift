import ArgumentParser
import MemoryModel

/// `memhp bench`: the model's own speed on this machine. Figures, not pass/fail: tests
/// never time anything.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure the model's speed.")
    @Option(help: "Size of the large machine to boot.") var bootSize: String = "1T"
    @Option(help: "Order-0 allocate+free pairs to time.") var pairs: Int = 20_000_000
    @Option(help: "Mixed-order operations to time.") var churn: Int = 2_000_000

    func run() throws {
        let clock = ContinuousClock()
        let size = try parseSize(bootSize, option: "--boot-size")
        var big: Machine?
        let bootTime = try clock.measure {
            big = try Machine.boot(MachineConfig(memBytes: size, maxmemBytes: size, slots: 0))
        }
        let pages = big!.memmap.pfnCount
        let perPage = Double(MemMap.bytesPerPage) + 3.0 / Double(Geometry.pageblockPages)
        report("boot \(bootSize) (\(pages) page frames)", bootTime)
        print("model state per page: \(fmt(perPage)) bytes (memmap \(MemMap.bytesPerPage) + pageblock flags); the kernel spends 64")
        big = nil

        let m = try Machine.boot(MachineConfig(memBytes: 4 << 30, maxmemBytes: 4 << 30, slots: 0))
        let node = 0
        var sink = 0
        let t1 = clock.measure {
            for _ in 0..<pairs {
                let pfn = m.allocPages(order: 0, gfp: .kernel, node: node, kind: .kernel)!
                sink &+= pfn
                m.freePages(pfn, order: 0)
            }
        }
        report("order-0 allocate+free pairs: \(pairs)", t1, ops: pairs)

        var held: [(PFN, Int)] = []
        held.reserveCapacity(4096)
        var rng = SplitMix64(seed: 1)
        let t2 = clock.measure {
            for _ in 0..<churn {
                if held.count < 2048 && (held.isEmpty || rng.next() % 2 == 0) {
                    let order = Int(rng.next() % 11) > 7 ? Int(rng.next() % 11) : Int(rng.next() % 4)
                    let gfp: GFP = rng.next() % 2 == 0 ? .kernel : .highuserMovable
                    if let pfn = m.allocPages(order: order, gfp: [gfp, .nowarn], node: node, kind: .kernel) {
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
        report("mixed-order churn (orders 0-10, up to 2048 held): \(churn) ops", t2, ops: churn)

        // HugeTLB pool resizing (issue 4's figures: the kernel takes 12-106 ms to grow 2048 pages).
        for pages in [2048, 100_000] {
            for hvo in [false, true] { print(try Machine.hugetlbBench(pages: pages, hvo: hvo)) }   // it says "hugetlb bench: ..." itself
        }

        // Offline of a 128 MiB movable block full of anonymous memory: 32768 migrations.
        let h = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                                               dimms: [DIMMConfig(id: "d1", sizeBytes: 512 << 20)]))
        for b in 32...35 { try h.storeState(block: b, .onlineMovable) }
        let anon = try h.createOwner(name: "bench:anon", kind: .anon)
        h.allocate(owner: anon, blocks: 32768 * 3)
        func anonPages(_ b: Int) -> Int { (h.blocks[b]!.startPFN..<h.blocks[b]!.range.end).filter { h.memmap.kind($0) == .anon }.count }
        let full = (32...35).max { anonPages($0) < anonPages($1) }!
        print("memory\(full) holds \(anonPages(full)) anonymous pages")
        let t3 = try clock.measure { try h.storeState(block: full, .offline) }
        report("offline of memory\(full) (128 MiB movable, anonymous memory migrated)", t3)
        print("offline of a free 128 MiB movable block: \(fmt(try HotplugBench.offlineFreeBlock() * 1000)) ms")
        print("online of a 128 MiB block: \(fmt(try HotplugBench.onlineBlock() * 1000)) ms")
        print("ACPI hot-add of a 64 GiB DIMM (512 blocks, memmap from the kernel zones): \(fmt(try HotplugBench.hotAdd64G() * 1000)) ms")
        if sink == 42 { print("") }
    }

    func report(_ what: String, _ d: Duration, ops: Int? = nil) {
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        var line = "\(what): \(fmt(s * 1000)) ms"
        if let ops { line += ", \(fmt(Double(ops) / s / 1e6)) M/s" }
        print(line)
    }
}

func fmt(_ x: Double) -> String {
    let r = (x * 100).rounded() / 100
    return String(r)
}
