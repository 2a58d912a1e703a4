import Foundation
import XCTest

@testable import KernelFS
@testable import MemoryModel

/// `KernelFS.export`: the tree as a plain directory, read back by util-linux's lsmem with
/// `--sysroot`, as util-linux's own tests read tarred /sys dumps. The expected lsmem output is
/// worked out by hand from the b-hotadd-dimms capture (Linux 6.1.192): after onlining
/// memory32 movable, memory33 kernel and memory34 with the default zone, blocks 0 (None),
/// 1-7 (DMA32) and 32 (Movable), 33-34 (Normal) are online; 35-39 are offline with
/// valid_zones "Normal Movable". lsmem merges adjacent blocks whose shown columns agree.
final class ExportTests: XCTestCase {
    static let mem = "/sys/devices/system/memory"

    func capturedB() throws -> KernelFS {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 1 << 30, maxmemBytes: 4 << 30, slots: 4,
                dimms: [
                    DIMMConfig(id: "dimm1", sizeBytes: 512 << 20),
                    DIMMConfig(id: "dimm2", sizeBytes: 512 << 20)
                ]))
        if let d = m.layout?.dimms.first, m.blocks[d.start / (m.blockPages << 12)] == nil { try m.acpiColdPlugDIMMs() }
        let fs = KernelFS(machine: m)
        try fs.write("\(Self.mem)/memory32/state", "online_movable\n")
        try fs.write("\(Self.mem)/memory33/state", "online_kernel\n")
        try fs.write("\(Self.mem)/memory34/state", "online\n")
        return fs
    }

    func exportDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "memhp-export-\(getpid())-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try capturedB().export(to: dir)
        return dir
    }

    func testTreeShape() throws {
        let dir = try exportDirectory()
        let fm = FileManager.default
        func mode(_ p: String) throws -> Int {
            (try fm.attributesOfItem(atPath: dir + p)[.posixPermissions] as! NSNumber).intValue
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "\(Self.mem)/block_size_bytes", encoding: .utf8), "8000000\n")
        XCTAssertEqual(
            try String(contentsOfFile: dir + "\(Self.mem)/memory32/valid_zones", encoding: .utf8), "Movable\n")
        XCTAssertEqual(
            try String(contentsOfFile: dir + "\(Self.mem)/memory35/valid_zones", encoding: .utf8), "Normal Movable\n")
        XCTAssertEqual(
            try String(contentsOfFile: dir + "/sys/module/memory_hotplug/parameters/memmap_on_memory", encoding: .utf8),
            "N\n")
        XCTAssertEqual(try mode("\(Self.mem)/memory32/state"), 0o644)
        XCTAssertEqual(try mode("\(Self.mem)/memory32/valid_zones"), 0o444)
        XCTAssertEqual(try mode("/proc/pagetypeinfo"), 0o400)
        XCTAssertEqual(try mode("/proc/sys/vm"), 0o555)
        XCTAssertEqual(try mode(Self.mem), 0o755)
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: dir + "\(Self.mem)/memory32/node0"), "../../node/node0")
        XCTAssertTrue(fm.fileExists(atPath: dir + "/sys/devices/system/node/node0"))
        XCTAssertTrue(fm.fileExists(atPath: dir + "/proc/meminfo"))
        // Exporting again over the same directory replaces everything (read-only entries included).
        try capturedB().export(to: dir)
    }

    /// lsmem from util-linux (2.38 on Debian 12). Skipped when absent, unless the test script
    /// installed it and set MEMHP_REQUIRE_TOOLS=1.
    func lsmem(_ args: [String]) throws -> String {
        guard
            let tool = ["/usr/bin/lsmem", "/bin/lsmem"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            if ProcessInfo.processInfo.environment["MEMHP_REQUIRE_TOOLS"] == "1" { XCTFail("lsmem is not installed") }
            throw XCTSkip("lsmem (util-linux) is not installed")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.environment = ["LC_ALL": "C", "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "lsmem \(args)")
        return String(decoding: data, as: UTF8.self)
    }

    func testLsmemDefault() throws {
        let dir = try exportDirectory()
        XCTAssertEqual(
            try lsmem(["--sysroot", dir]),
            """
            RANGE                                  SIZE   STATE REMOVABLE BLOCK
            0x0000000000000000-0x000000003fffffff    1G  online       yes   0-7
            0x0000000100000000-0x0000000117ffffff  384M  online       yes 32-34
            0x0000000118000000-0x000000013fffffff  640M offline           35-39

            Memory block size:       128M
            Total online memory:     1.4G
            Total offline memory:    640M

            """)
    }

    func testLsmemAllWithZonesAndNode() throws {
        let dir = try exportDirectory()
        // memory0 spans DMA and DMA32: valid_zones "none", which lsmem shows as None.
        XCTAssertEqual(
            try lsmem(["--sysroot", dir, "-a", "-o", "+ZONES,NODE"]),
            """
            RANGE                                  SIZE   STATE REMOVABLE BLOCK          ZONES NODE
            0x0000000000000000-0x0000000007ffffff  128M  online       yes     0           None    0
            0x0000000008000000-0x000000000fffffff  128M  online       yes     1          DMA32    0
            0x0000000010000000-0x0000000017ffffff  128M  online       yes     2          DMA32    0
            0x0000000018000000-0x000000001fffffff  128M  online       yes     3          DMA32    0
            0x0000000020000000-0x0000000027ffffff  128M  online       yes     4          DMA32    0
            0x0000000028000000-0x000000002fffffff  128M  online       yes     5          DMA32    0
            0x0000000030000000-0x0000000037ffffff  128M  online       yes     6          DMA32    0
            0x0000000038000000-0x000000003fffffff  128M  online       yes     7          DMA32    0
            0x0000000100000000-0x0000000107ffffff  128M  online       yes    32        Movable    0
            0x0000000108000000-0x000000010fffffff  128M  online       yes    33         Normal    0
            0x0000000110000000-0x0000000117ffffff  128M  online       yes    34         Normal    0
            0x0000000118000000-0x000000011fffffff  128M offline              35 Normal/Movable    0
            0x0000000120000000-0x0000000127ffffff  128M offline              36 Normal/Movable    0
            0x0000000128000000-0x000000012fffffff  128M offline              37 Normal/Movable    0
            0x0000000130000000-0x0000000137ffffff  128M offline              38 Normal/Movable    0
            0x0000000138000000-0x000000013fffffff  128M offline              39 Normal/Movable    0

            Memory block size:       128M
            Total online memory:     1.4G
            Total offline memory:    640M

            """)
        // Without -a, ZONES splits the ranges: 0 | 1-7 | 32 | 33-34 | 35-39.
        XCTAssertEqual(
            try lsmem(["--sysroot", dir, "-o", "RANGE,BLOCK,STATE,ZONES,NODE", "--summary=never"]),
            """
            RANGE                                 BLOCK   STATE          ZONES NODE
            0x0000000000000000-0x0000000007ffffff     0  online           None    0
            0x0000000008000000-0x000000003fffffff   1-7  online          DMA32    0
            0x0000000100000000-0x0000000107ffffff    32  online        Movable    0
            0x0000000108000000-0x0000000117ffffff 33-34  online         Normal    0
            0x0000000118000000-0x000000013fffffff 35-39 offline Normal/Movable    0

            """)
    }

    func testLsmemJSON() throws {
        let dir = try exportDirectory()
        // REMOVABLE is only filled in for online blocks, so JSON says false for offline ones.
        XCTAssertEqual(
            try lsmem(["--sysroot", dir, "--json"]),
            """
            {
               "memory": [
                  {
                     "range": "0x0000000000000000-0x000000003fffffff",
                     "size": "1G",
                     "state": "online",
                     "removable": true,
                     "block": "0-7"
                  },{
                     "range": "0x0000000100000000-0x0000000117ffffff",
                     "size": "384M",
                     "state": "online",
                     "removable": true,
                     "block": "32-34"
                  },{
                     "range": "0x0000000118000000-0x000000013fffffff",
                     "size": "640M",
                     "state": "offline",
                     "removable": false,
                     "block": "35-39"
                  }
               ]
            }

            """)
    }
}
