import Foundation

@testable import Scenario

/// The committed scenarios and real-kernel fixtures (tests/conformance), found from this file.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let conformance = root.appendingPathComponent("tests/conformance")

    static func load(_ url: URL) throws -> Scenario {
        try Scenario.parse(
            try String(contentsOf: url, encoding: .utf8), file: "tests/conformance/" + url.lastPathComponent)
    }
}
