// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "TenantScope",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tenantscope", targets: ["tenantscope"]),
        .library(name: "TenantScopeCore", targets: ["TenantScopeCore"]),
        .library(name: "TenantScopePostgres", targets: ["TenantScopePostgres"]),
        .library(name: "TenantScopeServer", targets: ["TenantScopeServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
    ],
    targets: [
        // Pure domain logic: no I/O, no database, no HTTP.
        .target(
            name: "TenantScopeCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Everything that talks to PostgreSQL, including the embedded-cluster launcher.
        .target(
            name: "TenantScopePostgres",
            dependencies: [
                "TenantScopeCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Hummingbird 2 application.
        .target(
            name: "TenantScopeServer",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Thin command-line entry point.
        .executableTarget(
            name: "tenantscope",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TenantScopeCoreTests",
            dependencies: ["TenantScopeCore"],
            swiftSettings: swiftSettings
        ),
        // Server-level logic that needs no database (token verification, CSV).
        .testTarget(
            name: "TenantScopeServerTests",
            dependencies: [
                "TenantScopeCore",
                "TenantScopeServer",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TenantScopePostgresTests",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
