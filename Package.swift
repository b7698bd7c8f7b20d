// swift-tools-version:6.2
import PackageDescription

let strictSwift6: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "tuku",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tuku", targets: ["tuku"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Job model, state machine, outcomes, retry arithmetic. No I/O.
        .target(
            name: "TukuCore",
            swiftSettings: strictSwift6
        ),
        // The queue driver on PostgreSQL: migrator, claim, heartbeat, complete, rescue, enqueue, token store.
        .target(
            name: "TukuPostgres",
            dependencies: [
                "TukuCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift6,
            plugins: ["TukuEmbedPlugin"]
        ),
        // The worker process: claim loop, handlers by kind, leases, rescuer, graceful shutdown.
        .target(
            name: "TukuWorker",
            dependencies: [
                "TukuCore",
                "TukuPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift6
        ),
        // `tuku worker --metrics-port`: a small HTTP/1.1 server for a Prometheus registry's exposition at /metrics.
        // Only this target and the executable use Prometheus types; library code records through swift-metrics.
        .target(
            name: "TukuMetrics",
            dependencies: [
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift6
        ),
        // IRD payday-filing payload models and validation: IRD numbers, money, dates, the five job kinds. No I/O.
        .target(
            name: "TukuIRD",
            dependencies: ["TukuCore"],
            swiftSettings: strictSwift6
        ),
        // The tax gateway client: SOAP 1.2 envelopes, response parsing, outcome classification, TLS transport
        // (mutual TLS), auth (client-signed M2M JWT, OAuth bearer).
        .target(
            name: "TukuGateway",
            dependencies: [
                "TukuCore",
                "TukuIRD",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        // HMRC's VAT (MTD) API client pieces: payloads and HMRC's checks, fraud prevention headers, requests, outcome
        // classification, redirects. Plain values, no I/O.
        .target(
            name: "TukuHMRC",
            dependencies: [
                "TukuCore",
                "TukuGateway",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        // The job kinds of jobs/ (embedded at build time) and their handlers: IRD filings and HMRC VAT returns through
        // the paced gateway call.
        .target(
            name: "TukuFiling",
            dependencies: [
                "TukuCore",
                "TukuIRD",
                "TukuHMRC",
                "TukuGateway",
                "TukuPostgres",
                "TukuWorker",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6,
            plugins: ["TukuEmbedPlugin"]
        ),
        // libxml2 (system library), for validating SOAP request bodies against IRD's XSDs in `tuku sandbox`.
        .systemLibrary(
            name: "CLibXML2",
            path: "Sources/CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // `tuku sandbox`: our emulation of IRD's gateway (mutual and one-way TLS listeners, OAuth, SOAP filing
        // endpoints, rate and concurrency limits, fault injection, an arrivals log) for the demo, tests and benchmarks.
        .target(
            name: "TukuSandbox",
            dependencies: [
                "TukuCore",
                "TukuIRD",
                "TukuGateway",
                "CLibXML2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift6,
            plugins: ["TukuEmbedPlugin"]
        ),
        // The thin executable: argument parsing, configuration, the ServiceGroup.
        .executableTarget(
            name: "tuku",
            dependencies: [
                "TukuCore",
                "TukuPostgres",
                "TukuWorker",
                "TukuIRD",
                "TukuGateway",
                "TukuHMRC",
                "TukuFiling",
                "TukuSandbox",
                "TukuMetrics",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // `tuku tokens authorize` listens for IRD's redirect on a loopback port.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift6
        ),
        // Embeds sql/ and jobs/ into the binary at build time, so the binary applies the very files in the repo.
        .executableTarget(
            name: "tuku-embed",
            swiftSettings: strictSwift6
        ),
        .plugin(
            name: "TukuEmbedPlugin",
            capability: .buildTool(),
            dependencies: ["tuku-embed"],
            path: "Sources/TukuEmbedPlugin"
        ),
        .target(
            name: "TukuTestSupport",
            dependencies: [
                "TukuCore",
                "TukuPostgres",
                "TukuWorker",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuCoreTests",
            dependencies: [
                "TukuCore", "TukuPostgres", "TukuWorker",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuMetricsTests",
            dependencies: [
                "TukuMetrics",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuIRDTests",
            dependencies: ["TukuIRD", "TukuGateway"],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuHMRCTests",
            dependencies: [
                "TukuCore",
                "TukuGateway",
                "TukuHMRC",
                // The sandbox's fraud prevention check, which follows HMRC's Test Fraud Prevention Headers API.
                "TukuSandbox",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuTransportTests",
            dependencies: [
                "TukuGateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuFilingTests",
            dependencies: [
                "TukuCore",
                "TukuIRD",
                "TukuHMRC",
                "TukuSandbox",
                "TukuGateway",
                "TukuPostgres",
                "TukuWorker",
                "TukuFiling",
                "TukuTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuSandboxTests",
            dependencies: [
                "TukuCore",
                "TukuIRD",
                "TukuGateway",
                "TukuHMRC",
                "TukuFiling",
                "TukuPostgres",
                "TukuSandbox",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuFleetTests",
            dependencies: [
                "TukuCore",
                "TukuPostgres",
                "TukuTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift6
        ),
        .testTarget(
            name: "TukuIntegrationTests",
            dependencies: [
                "TukuCore",
                "TukuPostgres",
                "TukuWorker",
                "TukuTestSupport",
                "TukuGateway",
                "TukuFiling",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSwift6
        ),
    ]
)
