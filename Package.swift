// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "memhp",
    // Linux is the platform built and tested. On macOS (13 or later) the targets compile against Darwin:
    // every Linux-only call (FUSE over /dev/fuse, mount namespaces, umount2) is behind `#if os(Linux)`
    // and says so at run time.
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
        // The machine: pure, deterministic, no I/O. The allocator's hot stored properties are
        // `@exclusivity(unchecked)` (Machine.swift) instead of an unsafe compiler flag, so the package
        // can be used as a versioned dependency.
        .target(
            name: "MemoryModel",
            dependencies: [
                .product(name: "SystemPackage", package: "swift-system")
            ]
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
        .target(name: "Scenario", dependencies: ["MemoryModel", "KernelFS"]),
        // `memhp bench`: the benchmark suite (timing, child processes, the host kernel side by
        // side). The model itself never reads a clock.
        .target(name: "Benchmarks", dependencies: ["MemoryModel", "KernelFS", "FUSEServer", "Scenario", "Study"]),
        // The conformance rules: how a model log is diffed against a kernel log (classification,
        // tolerances, ranges), expected failures, the verdict and the table.
        .target(name: "Conformance", dependencies: ["Scenario"]),
        // `memhp kernel-run`: the same scenarios on the real kernel under QEMU (Foundation, processes,
        // sockets). Guest/memhp-guest.c is compiled for the guest at run time, not by SwiftPM.
        .target(
            name: "KernelRunner", dependencies: ["Scenario", "Conformance", "MemoryModel", "CTiedSpawn"],
            resources: [.copy("Guest")]),
        // fork + PR_SET_PDEATHSIG + exec, which posix_spawn cannot: QEMU dies with memhp, even by SIGKILL.
        .target(name: "CTiedSpawn"),
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
            ]
        ),
        .testTarget(name: "MemoryModelTests", dependencies: ["MemoryModel"]),
        .testTarget(name: "KernelFSTests", dependencies: ["KernelFS", "MemoryModel"]),
        .testTarget(name: "ScenarioTests", dependencies: ["Scenario", "KernelFS", "MemoryModel", "MemhpTestSupport"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "Scenario"]),
        .testTarget(name: "KernelRunnerTests", dependencies: ["KernelRunner", "Scenario"]),
        // Soaks and timings: skipped in debug builds, run by scripts/test with `swift test -c release --filter SoakTests`.
        .testTarget(name: "SoakTests", dependencies: ["MemoryModel", "KernelFS"]),
        // The CLI as a user meets it: its commands parsed in process, and the built binary run.
        .testTarget(
            name: "MemhpTests",
            dependencies: [
                "memhp", "MemoryModel", "KernelFS", "Scenario", "Snapshot", "Benchmarks", "MemhpTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        // Test support: running the built memhp binary, shared by every CLI test.
        .target(name: "MemhpTestSupport", dependencies: ["MemoryModel"], path: "Tests/MemhpTestSupport"),
        .testTarget(name: "FUSEServerTests", dependencies: ["FUSEServer", "KernelFS", "MemoryModel"]),
        .testTarget(
            name: "SnapshotTests", dependencies: ["Snapshot", "Scenario", "KernelFS", "MemoryModel", "MemhpTestSupport"]
        ),
        .testTarget(name: "StudyTests", dependencies: ["Study", "Scenario"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"])
    ],
    // Every target builds in the Swift 6 language mode (strict concurrency checking).
    swiftLanguageModes: [.v6]
)
