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
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        // Signed xAPI statements carry their certificate (x5c); both already resolved through jwt-kit.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/JohnSundell/Plot.git", from: "0.14.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/pointfreeco/swift-snapshot-testing.git", from: "1.19.7"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The MCP server at /mcp: the official SDK's Server and its stateless Streamable HTTP transport.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
    ],
    targets: [
        // PostgreSQL's parser (libpg_query, Debian libpg-query-dev; no pkg-config file, so the module map links it).
        .systemLibrary(
            name: "CPgQuery",
            providers: [.apt(["libpg-query-dev"])]
        ),
        // zlib (Debian zlib1g-dev) for gzip-compressed exports, streamed as they are written.
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Parses SQL with PostgreSQL's own parser into its JSON parse tree (a pure function; no database).
        .target(
            name: "TenantScopeSQLParser",
            dependencies: ["CPgQuery", "TenantScopeCore"],
            swiftSettings: swiftSettings
        ),
        // Pure domain logic: no I/O, no database, no HTTP.
        .target(
            name: "TenantScopeCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA verification and certificate parsing for signed statements (StatementSignature).
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        // Everything that talks to PostgreSQL, including the embedded-cluster launcher.
        .target(
            name: "TenantScopePostgres",
            dependencies: [
                "TenantScopeCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // For its pool's error type, which PostgresClient throws as it is (DatabaseUnavailable.classify).
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Hummingbird 2 application.
        .target(
            name: "TenantScopeServer",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeSQLParser",
                "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Plot", package: "Plot"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // verify-isolation's client (IsolationHTTPClient) and the S3 export store's; already resolved through Hummingbird.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // The S3 export store streams files from disk off the event loops; already built for Hummingbird.
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            resources: [
                .copy("Resources/openapi.yaml"),
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
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TenantScopeCoreTests",
            dependencies: [
                "TenantScopeCore",
                // The SQL guard's tests check real PostgreSQL parse trees.
                "TenantScopeSQLParser",
                // Signing test statements and making their certificates (StatementSignatureTests).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [
                // Third-party test data (MIT): nst/JSONTestSuite's parsing corpus; see its README.md.
                .copy("Resources/JSONTestSuite"),
            ],
            swiftSettings: swiftSettings
        ),
        // Server-level logic that needs no database: token verification, CSV, page snapshots.
        .testTarget(
            name: "TenantScopeServerTests",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeServer",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SnapshotTesting", package: "swift-snapshot-testing"),
            ],
            exclude: ["__Snapshots__"],
            swiftSettings: swiftSettings
        ),
        // What the database and integration tests share: the test cluster and its trait, fixtures, tokens.
        .target(
            name: "TenantScopeTestSupport",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                // ServeClient's transport (FoundationNetworking's URLSession can crash on a timed-out request).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TenantScopeTestSupport",
            swiftSettings: swiftSettings
        ),
        // PostgreSQL-level tests: row-level security, reports, roll-ups, derivation, audit, schema.
        .testTarget(
            name: "TenantScopePostgresTests",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Tests through HTTP and the real binary: routes in-process against PostgreSQL, `serve`, the CLI.
        .testTarget(
            name: "TenantScopeIntegrationTests",
            dependencies: [
                "TenantScopeCore",
                "TenantScopePostgres",
                "TenantScopeServer",
                "TenantScopeTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // A plain client for the S3 export store's presigned URLs (S3ExportStoreTests).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
