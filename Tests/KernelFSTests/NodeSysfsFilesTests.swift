import MemoryModel
import XCTest

@testable import KernelFS

/// `/sys/devices/system/node`: the node directory's files in drivers/base/node.c's formats,
/// against the real kernel's text (tests/conformance/two-nodes-1g.kernel.txt reads node1/meminfo).
final class NodeSysfsFilesTests: XCTestCase {
    func twoNodes() throws -> KernelFS {
        KernelFS(
            machine: try Machine.boot(
                MachineConfig(
                    memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                    nodes: [NodeConfig(id: 0, memBytes: 512 << 20), NodeConfig(id: 1, memBytes: 512 << 20)])))
    }

    /// The kernel's node1/meminfo from the fixture (the read's value, unescaped).
    func kernelNodeMeminfo() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(
            contentsOf: root.appendingPathComponent("tests/conformance/two-nodes-1g.kernel.txt"), encoding: .utf8)
        let line = try XCTUnwrap(
            text.split(separator: "\n").first {
                $0.hasPrefix("read path=/sys/devices/system/node/node1/meminfo value=\"")
            })
        let value = line.drop { $0 != "\"" }.dropFirst().dropLast()
        return value.replacingOccurrences(of: "\\n", with: "\n") + "\n"
    }

    func testNodeMeminfoHasTheKernelsLinesAndColumns() throws {
        let real = try kernelNodeMeminfo().split(separator: "\n")
        let ours = try twoNodes().read("/sys/devices/system/node/node1/meminfo").split(separator: "\n")
        XCTAssertEqual(real.count, 36)
        XCTAssertEqual(ours.count, real.count)
        for (a, b) in zip(ours, real) {
            // Same label, value right-aligned to the same column.
            XCTAssertEqual(String(a.split(separator: ":")[0]), String(b.split(separator: ":")[0]))
            XCTAssertEqual(a.count, b.count, "column of \(a) vs \(b)")
        }
        // Boot-time counters the model books like the kernel (node 1 of 1G = 512M + 512M).
        XCTAssertEqual(ours[18], real[18])  // KernelStack
        XCTAssertEqual(ours[33], "Node 1 HugePages_Total:     0")
    }

    func testNodeStateMasksAndPerNodeFiles() throws {
        let k = try twoNodes()
        XCTAssertEqual(try k.read("/sys/devices/system/node/has_cpu"), "0\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/has_generic_initiator"), "\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/online"), "0-1\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/node0/distance"), "10 20\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/node1/distance"), "20 10\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/node0/cpulist"), "0\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/node1/cpulist"), "\n")
        XCTAssertEqual(try k.read("/sys/devices/system/node/node1/cpumap"), "0\n")
        let numastat = try k.read("/sys/devices/system/node/node0/numastat")
        XCTAssertEqual(
            numastat.split(separator: "\n").map { String($0.split(separator: " ")[0]) },
            ["numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node"])
        // vmstat: zone items, NUMA events, node items; nr_free_pages is node 1's zones' free pages.
        let vmstat = try k.read("/sys/devices/system/node/node1/vmstat").split(separator: "\n")
        XCTAssertEqual(
            vmstat.first.map(String.init),
            "nr_free_pages \(k.machine.zones.filter { $0.node == 1 }.reduce(0) { $0 + $1.freePages })")
        XCTAssertTrue(vmstat.contains("numa_interleave 0"))
        XCTAssertTrue(vmstat.contains { $0.hasPrefix("nr_kernel_stack ") })
        XCTAssertEqual(try k.write("/sys/devices/system/node/node0/compact", "1\n"), 2)
        XCTAssertTrue(try k.list("/sys/devices/system/node/node1").contains("meminfo"))
    }

    /// Directories are listed only when read (`DirectoryEntries`), so looking one up costs
    /// nothing per block; what the listings and lookups say is unchanged: a node lists its own
    /// blocks' links (register_memory_block_under_node) and no other node's.
    func testNodeDirectoriesListAndResolveOnlyTheirOwnBlocks() throws {
        let k = try twoNodes()
        // 1 GiB in 128 MiB blocks: node 0 has memory0-3, node 1 memory4-7.
        XCTAssertEqual(
            try k.list("/sys/devices/system/node/node1"),
            [
                "compact", "cpulist", "cpumap", "distance", "hugepages", "meminfo", "memory4", "memory5", "memory6",
                "memory7", "numastat", "vmstat"
            ])
        guard case .symlink(let target) = try k.lookup("/sys/devices/system/node/node1/memory5") else {
            return XCTFail("node1/memory5 is no symlink")
        }
        XCTAssertEqual(target, "../../memory/memory5")
        XCTAssertThrowsError(try k.lookup("/sys/devices/system/node/node0/memory5")) {
            XCTAssertEqual(($0 as? KernelError)?.errno, .noSuchFileOrDirectory)
        }
        XCTAssertEqual(
            try k.list("/sys/devices/system/memory"),
            ["auto_online_blocks", "block_size_bytes"] + (0...7).map { "memory\($0)" } + ["uevent"])
        XCTAssertEqual(
            try k.list("/sys/devices/system/node/node0/memory2"), try k.list("/sys/devices/system/memory/memory2"))
        XCTAssertEqual(try k.list("/sys/devices/system"), ["memory", "node"])
        // A block's directory: its attributes and its node's link, each of which looks up.
        let block = "/sys/devices/system/memory/memory5"
        XCTAssertEqual(
            try k.list(block),
            [
                "node1", "online", "phys_device", "phys_index", "removable", "state", "subsystem", "uevent",
                "valid_zones"
            ])
        for name in try k.list(block) { XCTAssertNoThrow(try k.lookup("\(block)/\(name)"), name) }
        XCTAssertThrowsError(try k.lookup("\(block)/node0"))
        XCTAssertEqual(try k.read("\(block)/phys_index"), "00000005\n")
        XCTAssertEqual(KernelFS.components("//sys//devices/system/"), ["sys", "devices", "system"])
        XCTAssertEqual(KernelFS.components("/"), [])
        XCTAssertEqual(KernelFS.components("proc/meminfo"), ["proc", "meminfo"])
        XCTAssertEqual(KernelFS.components(""), [])
        // Split on the `/` byte: multi-byte names come out whole.
        XCTAssertEqual(KernelFS.components("/sys/é//日本/x\u{1F600}/"), ["sys", "é", "日本", "x\u{1F600}"])
        XCTAssertEqual(KernelFS.components(String("/a/b/c".dropFirst(2))), ["b", "c"])
    }
}
