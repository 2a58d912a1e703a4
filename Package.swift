// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "memhp",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "memhp", targets: ["memhp"]),
        .library(name: "MemoryModel", targets: ["MemoryModel"]),
        .library(name: "KernelFS", targets: ["KernelFS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The machine: pure, deterministic, no I/O.
        .target(
            name: "MemoryModel",
            dependencies: [
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            // The allocator's hot paths touch the Machine's arrays many times per page; dynamic
            // exclusivity checks on them cost more than the work itself. Debug builds (tests)
            // keep the checks.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // The kernel's files over a Machine: paths, text formats, parsers, errno.
        .target(name: "KernelFS", dependencies: ["MemoryModel"]),
        // `memhp mount`/`sandbox`: the tree served over the kernel's FUSE protocol on /dev/fuse
        // directly (no libfuse, so a fresh machine builds it).
        .target(name: "FUSEServer", dependencies: ["KernelFS", "MemoryModel"]),
        // Scenario files, the model runner and the observation log.
        .target(name: "Scenario", dependencies: ["MemoryModel", "KernelFS"]),
        // `memhp bench`: the benchmark suite (timing, child processes, the host kernel side by
        // side). The model itself never reads a clock.
        .target(name: "Benchmarks", dependencies: ["MemoryModel", "KernelFS", "Scenario"]),
        // `memhp kernel-run`: the same scenarios on the real kernel under QEMU (Foundation, processes,
        // sockets). Guest/memhp-guest.c is compiled for the guest at run time, not by SwiftPM.
        .target(name: "Conformance", dependencies: ["Scenario", "MemoryModel"], resources: [.copy("Guest")]),
        .executableTarget(
            name: "memhp",
            dependencies: [
                "MemoryModel", "KernelFS", "Scenario", "Conformance", "FUSEServer", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MemoryModelTests", dependencies: ["MemoryModel"]),
        .testTarget(name: "KernelFSTests", dependencies: ["KernelFS", "MemoryModel"]),
        .testTarget(name: "ScenarioTests", dependencies: ["Scenario", "KernelFS", "MemoryModel"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "Scenario"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks"]),
    ],
    swiftLanguageModes: [.v5]
)
