// swift-tools-version:6.0
import PackageDescription

/// Targets already in the Swift 6 language mode (the package default is still 5 while the rest moves).
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "memhp",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "memhp", targets: ["memhp"]),
        .library(name: "MemoryModel", targets: ["MemoryModel"]),
        .library(name: "KernelFS", targets: ["KernelFS"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0")
    ],
    targets: [
        // The machine: pure, deterministic, no I/O.
        .target(
            name: "MemoryModel",
            dependencies: [
                .product(name: "SystemPackage", package: "swift-system")
            ],
            // Swift 6 language mode (strict concurrency). The allocator's hot stored properties
            // are `@exclusivity(unchecked)` (Machine.swift) instead of an unsafe compiler flag,
            // so the package can be used as a versioned dependency.
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The kernel's files over a Machine: paths, text formats, parsers, errno.
        .target(name: "KernelFS", dependencies: ["MemoryModel"]),
        // `memhp mount`/`sandbox`: the tree served over the kernel's FUSE protocol on /dev/fuse
        // directly (no libfuse, so a fresh machine builds it).
        .target(name: "FUSEServer", dependencies: ["KernelFS", "MemoryModel"]),
        // The fuzz-and-soak harness (`memhp fuzz`): random operations on a live model with
        // verify() and exact save/reload checks.
        .target(name: "Soak", dependencies: ["KernelFS", "MemoryModel"]),
        // Scenario files, the guest program, the observation schema and log, the model runner.
        .target(name: "Scenario", dependencies: ["MemoryModel", "KernelFS"], swiftSettings: swift6),
        // `memhp bench`: the benchmark suite (timing, child processes, the host kernel side by
        // side). The model itself never reads a clock.
        .target(name: "Benchmarks", dependencies: ["MemoryModel", "KernelFS", "Scenario", "Study"]),
        // The conformance rules: how a model log is diffed against a kernel log (classification,
        // tolerances, ranges), expected failures, the verdict and the table.
        .target(name: "Conformance", dependencies: ["Scenario"], swiftSettings: swift6),
        // `memhp kernel-run`: the same scenarios on the real kernel under QEMU (Foundation, processes,
        // sockets). Guest/memhp-guest.c is compiled for the guest at run time, not by SwiftPM.
        .target(
            name: "KernelRunner", dependencies: ["Scenario", "Conformance", "MemoryModel"], resources: [.copy("Guest")],
            swiftSettings: swift6),
        // `memhp snapshot`/`predict`/`host metrics`: a live host's memory state read through its
        // kernel files (read-only), the per-block offline prediction, Prometheus exposition.
        .target(name: "Snapshot", dependencies: ["Scenario"]),
        // `memhp study`: sweeps over scenario runs, their aggregates and the HTML report.
        .target(name: "Study", dependencies: ["Scenario", "KernelFS", "MemoryModel"]),
        .executableTarget(
            name: "memhp",
            dependencies: [
                "MemoryModel", "KernelFS", "Scenario", "Conformance", "KernelRunner", "FUSEServer", "Soak", "Snapshot",
                "Study", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(name: "MemoryModelTests", dependencies: ["MemoryModel"]),
        .testTarget(name: "KernelFSTests", dependencies: ["KernelFS", "MemoryModel"]),
        .testTarget(
            name: "ScenarioTests", dependencies: ["Scenario", "KernelFS", "MemoryModel"], swiftSettings: swift6),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "Scenario"], swiftSettings: swift6),
        .testTarget(name: "KernelRunnerTests", dependencies: ["KernelRunner", "Scenario"], swiftSettings: swift6),
        // Soaks and timings: skipped in debug builds, run by scripts/test with `swift test -c release --filter SoakTests`.
        .testTarget(name: "SoakTests", dependencies: ["MemoryModel", "KernelFS"], swiftSettings: swift6),
        // The CLI as a user meets it: its commands parsed in process, and the built binary run.
        .testTarget(name: "MemhpTests", dependencies: ["memhp", "MemoryModel", "Scenario"], swiftSettings: swift6),
        .testTarget(name: "FUSEServerTests", dependencies: ["FUSEServer"]),
        .testTarget(name: "SnapshotTests", dependencies: ["Snapshot", "Scenario", "KernelFS", "MemoryModel"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "Scenario"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"])
    ],
    swiftLanguageModes: [.v5]
)
