import Foundation
import XCTest

/// Runs the `memhp` executable SwiftPM built next to the tests (`swift build --build-tests`
/// builds it): the one way every CLI test (MemhpTests, ScenarioTests' CLITests, SnapshotTests'
/// CLI tests) runs the binary. A missing binary fails the test: nothing here passes without
/// running the real thing.
public enum MemhpBinary {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func path() throws -> URL {
        var candidates: [URL] = []
        // The test bundle sits in the products directory, next to the executable.
        for b in Bundle.allBundles where b.bundleURL.pathExtension == "xctest" {
            candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("memhp"))
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/memhp"))
        guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            XCTFail("no memhp executable in \(candidates.map(\.path)); swift build first")
            throw CocoaError(.fileNoSuchFile)
        }
        return bin
    }

    public struct Result: Sendable {
        public var status: Int32
        public var out: String
        public var err: String
        public var outBytes: Data
        /// The process died of a signal (a trap, an abort): `status` is the signal's number.
        public var signaled = false
    }

    /// Runs memhp with `args` in `directory` (default: the package root).
    public static func run(_ args: [String], in directory: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = try path()
        p.arguments = args
        p.currentDirectoryURL = directory ?? packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes at once: a full stderr pipe must not block the child.
        nonisolated(unsafe) var errData = Data()
        let done = DispatchSemaphore(value: 0)
        let errThread = Thread {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        errThread.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        done.wait()
        return Result(
            status: p.terminationStatus, out: String(decoding: o, as: UTF8.self),
            err: String(decoding: errData, as: UTF8.self), outBytes: o,
            signaled: p.terminationReason == .uncaughtSignal)
    }

    public static func temporaryDirectory(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "memhp-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
