import XCTest

/// Skips a test in a debug build: soaks and timings belong to the release-mode step of
/// `scripts/test` (`swift test -c release --filter SoakTests`), not to the debug unit suite.
func requireRelease() throws {
    #if DEBUG
    throw XCTSkip("release-mode test: run with `swift test -c release --filter SoakTests`")
    #endif
}
