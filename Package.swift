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
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // The machine: pure, deterministic, no I/O.
        .target(
            name: "MemoryModel",
            dependencies: [
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The kernel's files over a Machine: paths, text formats, parsers, errno.
        .target(name: "KernelFS", dependencies: ["MemoryModel"]),

        .executableTarget(
            name: "memhp",
            dependencies: [
                "MemoryModel", "KernelFS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MemoryModelTests", dependencies: ["MemoryModel"]),
        .testTarget(name: "KernelFSTests", dependencies: ["KernelFS", "MemoryModel"]),
    ],
    swiftLanguageModes: [.v5]
)
