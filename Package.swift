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
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Already a dependency of async-http-client; named so that the S3 client may use its types.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
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
                // SQLite's C API, for the few queries that read 10,000 rows (`points`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
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
        // What both test targets share: the built snapdex run as a process.
        .target(name: "SnapdexTestSupport", path: "Tests/SnapdexTestSupport"),
        .testTarget(name: "SnapdexCoreTests", dependencies: ["SnapdexCore", "CSystemShims", "SnapdexTestSupport"], exclude: ["Golden"]),
        .testTarget(name: "SnapdexCLITests", dependencies: ["SnapdexCLI", "SnapdexCore", "SnapdexTestSupport"], exclude: ["Transcripts"]),
    ]
)
