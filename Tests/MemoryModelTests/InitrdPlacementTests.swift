import XCTest

@testable import MemoryModel

/// QEMU 7.2's x86_load_linux puts the initrd at the top of RAM below 4 GiB (the kernel sets
/// XLF_CAN_BE_LOADED_ABOVE_4G), under SeaBIOS's 128 KiB: the captures' 1 GiB guests show
/// `RAMDISK: [mem 0x3fed2000-0x3ffdffff]` (1080K initrd), and on 3 GiB a boot-time 1 GiB page
/// finds the free gigabyte at 0x40000000 (issue 15 item 5).
final class InitrdPlacementTests: XCTestCase {
    func ramdiskLine(_ m: Machine) -> String? { m.kmsg.first { $0.hasPrefix("RAMDISK:") } }

    func testTopOfLowRAMOn1GAnd3G() throws {
        let one = try Machine.boot(MachineConfig(memBytes: 1 << 30))
        XCTAssertEqual(ramdiskLine(one), "RAMDISK: [mem 0x3fe6b000-0x3ffdffff]")  // 1492K initrd
        let three = try Machine.boot(MachineConfig(memBytes: 3 << 30, maxmemBytes: 6 << 30, slots: 2, gbpages: true))
        XCTAssertEqual(ramdiskLine(three), "RAMDISK: [mem 0xbfe6b000-0xbffdffff]")
    }

    func testBootGigantic1GPageIsAllocatedOn3G() throws {
        let m = try Machine.boot(
            MachineConfig(
                memBytes: 3 << 30, maxmemBytes: 6 << 30, slots: 2,
                cmdline: "hugepagesz=1G hugepages=1", gbpages: true))
        XCTAssertTrue(
            m.kmsg.contains("HugeTLB: registered 1.00 GiB page size, pre-allocated 1 pages"),
            "\(m.kmsg.filter { $0.hasPrefix("HugeTLB") })")
    }
}
