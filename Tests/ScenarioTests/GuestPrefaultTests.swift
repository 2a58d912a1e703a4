import XCTest

@testable import Scenario

/// Which scenarios make the guest runner's buffers resident first, and how many pages that is.
final class GuestPrefaultTests: XCTestCase {
    func testOnlyPlacementDumpsPrefaultAndTheStepsSayWhich() throws {
        let plain = try Scenario.parse("---\nhold ramfs r 4M\ndump zones meminfo blocks\n", file: "a.scn")
        XCTAssertEqual(GuestProgram(plain).prefault, [])
        XCTAssertFalse(GuestProgram(plain).stepsFile().contains("PREFAULT"))
        XCTAssertEqual(GuestFootprint.pages([]), 0)

        let pf = try Scenario.parse("---\nfill-kernel 0 50\ndump pageflags:3\n", file: "b.scn")
        XCTAssertEqual(GuestProgram(pf).prefault, [.core, .hold])
        XCTAssertTrue(GuestProgram(pf).stepsFile().hasPrefix("PREFAULT core,hold\n"))

        let kpf = try Scenario.parse("---\ndump kpageflags\n", file: "c.scn")
        XCTAssertEqual(GuestProgram(kpf).prefault, [.core, .kpf])
    }

    /// The groups' page counts are memhp-guest.c's object sizes (nm on its build: core 0x149000,
    /// holdbufs 0x101000, kpfbufs 0x106000 bytes).
    func testGroupPagesAreTheRunnersObjectSizes() {
        XCTAssertEqual(GuestFootprint.Group.core.pages, 0x149000 / 4096)
        XCTAssertEqual(GuestFootprint.Group.hold.pages, 0x101000 / 4096)
        XCTAssertEqual(GuestFootprint.Group.kpf.pages, 0x106000 / 4096)
        // core + the file buffer (256) + stack (15) + heap (15).
        XCTAssertEqual(GuestFootprint.pages([.core]), 329 + 256 + 15 + 15)
    }
}
