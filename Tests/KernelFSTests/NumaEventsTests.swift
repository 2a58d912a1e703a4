import MemoryModel
import XCTest

@testable import KernelFS

/// NUMA events (`zone_statistics`) and the anon LRU split, in the files that print them,
/// against 6.1.0-57 runs: pool-grow-until-fail-1g.kernel.txt (1 GiB, one node) and the boot
/// probes in BootProfile.numaBoot*.
final class NumaEventsTests: XCTestCase {
    /// `name value` pairs of one zone's block in /proc/zoneinfo ("Node 0, zone    DMA32").
    func zoneinfoValues(_ text: String, zone: String) -> [String: Int] {
        var out: [String: Int] = [:]
        var inZone = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Node ") { inZone = line.hasSuffix(" " + zone); continue }
            guard inZone else { continue }
            let t = line.split(separator: " ")
            if t.count == 2, let v = Int(t[1]) { out[String(t[0])] = v }
        }
        return out
    }

    func numastat(_ text: String) -> [String: Int] {
        Dictionary(
            uniqueKeysWithValues: text.split(separator: "\n").map {
                let t = $0.split(separator: " ")
                return (String(t[0]), Int(t[1])!)
            })
    }

    /// After boot each zone reads the boot's calls (the kernel: DMA 1/1 for its atomic pool,
    /// DMA32 5999/632 on 1 GiB); every pool page is then one more call in the zone it came
    /// from, and /proc/vmstat, node0/numastat and zoneinfo agree.
    func testEveryAllocationCallCountsOnceWhereItLanded() throws {
        let m = try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4))
        let p = BootProfile.debian12QEMU
        // Before any file is opened (a first-time path lookup allocates dentry/inode slab).
        let dma = m.numaEvents(zone: m.zoneIndex(node: 0, type: .dma))
        let dma32 = m.numaEvents(zone: m.zoneIndex(node: 0, type: .dma32))
        XCTAssertEqual(dma.hit, 1)
        XCTAssertEqual(dma.interleaveHit, 1)
        XCTAssertEqual(dma32.hit + 1, p.numaBootAllocationCalls)
        XCTAssertEqual(dma32.interleaveHit + 1, p.numaBootInterleaveHits)
        XCTAssertEqual(dma32.local, dma32.hit)
        XCTAssertEqual(dma32.miss, 0)
        XCTAssertEqual(dma32.other, 0)

        let fs = KernelFS(machine: m)
        // Every path looked up once, so the counts below move only with the pool.
        for path in ["/proc/sys/vm/nr_hugepages", "/sys/devices/system/node/node0/numastat", "/proc/vmstat"] {
            _ = try fs.read(path)
        }
        let boot = zoneinfoValues(try fs.read("/proc/zoneinfo"), zone: "DMA32")
        XCTAssertEqual(try fs.write("/proc/sys/vm/nr_hugepages", "100\n"), 4)
        let after = zoneinfoValues(try fs.read("/proc/zoneinfo"), zone: "DMA32")
        XCTAssertEqual(try fs.read("/proc/sys/vm/nr_hugepages"), "100\n")
        // 100 order-9 calls, none interleaved (numa_default_policy ran at the end of boot).
        XCTAssertEqual((after["numa_hit"] ?? 0) - (boot["numa_hit"] ?? 0), 100)
        XCTAssertEqual(after["numa_interleave"], boot["numa_interleave"])

        let node0 = numastat(try fs.read("/sys/devices/system/node/node0/numastat"))
        XCTAssertEqual(node0["numa_hit"], (after["numa_hit"] ?? 0) + 1)
        XCTAssertEqual(node0["interleave_hit"], p.numaBootInterleaveHits)
        let vmstat = numastat(try fs.read("/proc/vmstat"))
        XCTAssertEqual(vmstat["numa_hit"], node0["numa_hit"])
        XCTAssertEqual(vmstat["numa_local"], node0["local_node"])
    }

    /// A pool page bound to node 1, allocated on CPU 0 (node 0): a hit for node 1 (its own
    /// preferred zone), counted as numa_other there, as node1/numastat shows on two nodes.
    func testAnotherNodesAllocationIsOtherNotLocal() throws {
        let fs = KernelFS(
            machine: try Machine.boot(
                MachineConfig(
                    memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                    nodes: [NodeConfig(id: 0, memBytes: 512 << 20), NodeConfig(id: 1, memBytes: 512 << 20)])))
        let path = "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
        let before = numastat(try fs.read("/sys/devices/system/node/node1/numastat"))
        XCTAssertEqual(try fs.write(path, "10\n"), 3)
        let after = numastat(try fs.read("/sys/devices/system/node/node1/numastat"))
        XCTAssertEqual(after["numa_hit"]! - before["numa_hit"]!, 10)
        XCTAssertEqual(after["other_node"]! - before["other_node"]!, 10)
        XCTAssertEqual(after["local_node"], before["local_node"])
        XCTAssertEqual(after["numa_miss"], 0)
    }

    /// The guest's anon LRU: pool-grow-until-fail-1g's kernel runs read nr_active_anon 455 and
    /// nr_inactive_anon 303/288 with nr_shmem 712 and nr_anon_pages 46/45: the initramfs pages
    /// in use are active, the rest of shmem and all anon pages inactive; nr_mapped 572.
    func testAnonLRUSplitAndMapped() throws {
        let fs = KernelFS(machine: try Machine.boot(MachineConfig(memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4)))
        let zi = try fs.read("/proc/zoneinfo")
        let node = zoneinfoValues(zi, zone: "DMA")  // the per-node block is printed under the first zone
        let p = BootProfile.debian12QEMU
        XCTAssertEqual(node["nr_active_anon"], p.activeShmemPages)
        XCTAssertEqual(
            node["nr_inactive_anon"], (node["nr_anon_pages"] ?? 0) + (node["nr_shmem"] ?? 0) - p.activeShmemPages)
        XCTAssertEqual(node["nr_mapped"], 572)
        XCTAssertEqual(node["nr_anon_pages"], p.anonPages)
        // Within the conformance tolerance (16 pages) of the kernel's first read.
        for (key, kernel) in [("nr_inactive_anon", 303), ("nr_active_anon", 455), ("nr_anon_pages", 46)] {
            XCTAssertLessThanOrEqual(abs((node[key] ?? 0) - kernel), 16, key)
        }
    }
}
