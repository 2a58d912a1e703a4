import XCTest

@testable import MemoryModel

/// Release-mode tests: the long hotplug soak and the hotplug benchmark. In a debug build they
/// take a minute and measure nothing useful, so they skip there; `scripts/test` runs them with
/// `swift test -c release --filter SoakTests`.
final class HotplugSoakTests: XCTestCase {
    /// 1 GiB boot memory, room for 3 GiB of DIMMs above 4 GiB, as the captures' QEMU.
    func machine(nodes: [NodeConfig] = [], mem: Int = 1 << 30) throws -> Machine {
        let m = try Machine.boot(MachineConfig(memBytes: mem, maxmemBytes: mem + (3 << 30), slots: 4, nodes: nodes))
        if let d = m.layout?.dimms.first, m.blocks[d.start / (m.blockPages << 12)] == nil { try m.acpiColdPlugDIMMs() }
        return m
    }

    func testRandomHotplugSequenceKeepsInvariants() throws {
        try requireRelease()
        let m = try machine(nodes: [NodeConfig(id: 0, memBytes: 768 << 20), NodeConfig(id: 1, memBytes: 256 << 20)])
        var rng = SplitMix64(seed: 99)
        let kinds: [PageKind] = [
            .anon, .pageCache, .shmem, .slabUnreclaimable, .slabReclaimable, .pageTable, .pinned, .ramfs
        ]
        var owners: [Int] = []
        for (i, k) in kinds.enumerated() {
            for node in 0..<2 {
                owners.append(
                    try m.createOwner(
                        name: "r\(i)-\(node)", kind: k, node: node, order: k == .anon ? rng.below(2) * 9 : 0))
            }
        }
        var dimms: [String] = []
        var n = 0
        for step in 0..<100 {
            let action = rng.next() % 10
            let deadline = m.clock + 1_000_000_000
            switch action {
            case 0 where dimms.count < 4:
                n += 1
                let size = [128, 256, 512][rng.below(3)] << 20
                if (try? m.hotAddDIMM(id: "r\(n)", sizeBytes: size, node: rng.below(2))) != nil {
                    dimms.append("r\(n)")
                }
            case 1 where !dimms.isEmpty:
                let i = rng.below(dimms.count)
                if (try? m.acpiEjectDIMM(id: dimms[i], deadline: deadline)) != nil { dimms.remove(at: i) }
            case 2, 3:
                let ids = m.blocks.keys.sorted()
                let id = ids[rng.below(ids.count)]
                let t = [OnlineType.online, .onlineKernel, .onlineMovable][rng.below(3)]
                _ = try? m.storeState(block: id, t)
            case 4, 5:
                let ids = m.blocks.keys.sorted()
                let id = ids[rng.below(ids.count)]
                _ = try? m.storeState(block: id, .offline, deadline: deadline)
            case 6, 7:
                let o = owners[rng.below(owners.count)]
                m.allocate(owner: o, blocks: rng.below(400))
            default:
                let o = owners[rng.below(owners.count)]
                if m.owners[o] != nil { m.release(owner: o, blocks: rng.below(300)) }
            }
            do { try m.verify() } catch { XCTFail("step \(step) action \(action): \(error)"); return }
            // A pending eject's worker spins in offline_pages() on its block (a kernel thread gets
            // no signal): that block alone stays going-offline until the page it waits for goes.
            let spinning = m.drivers.pendingEject?.spinning
            for b in m.blocks.values {
                if b.id == spinning {
                    XCTAssertEqual(b.state, .goingOffline, "block \(b.id)")
                    continue
                }
                XCTAssertTrue(b.state == .online || b.state == .offline, "block \(b.id) left \(b.state.name)")
                if b.state == .offline { XCTAssertNil(b.zone, "block \(b.id)") }
                if b.state == .online && !b.isBoot { XCTAssertNotNil(b.zone, "block \(b.id)") }
            }
        }
        XCTAssertGreaterThan(m.vmstat.pgmigrateSuccess, 0)
    }
}
