// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Snapdex",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "snapdex", targets: ["snapdex"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CLZMA", path: "Sources/CLZMA", pkgConfig: "liblzma",
                       providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .target(name: "CSystemShims", path: "Sources/CSystemShims"),
        .target(
            name: "SnapdexCore",
            dependencies: [
                "CLZMA",
                "CSystemShims",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "SnapdexCLI",
            dependencies: [
                "SnapdexCore",
                "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "snapdex", dependencies: ["SnapdexCLI"]),
        .testTarget(name: "SnapdexCoreTests", dependencies: ["SnapdexCore", "CSystemShims"], exclude: ["Golden"]),
        .testTarget(name: "SnapdexCLITests", dependencies: ["SnapdexCLI", "SnapdexCore"], exclude: ["Transcripts"]),
    ]
)
