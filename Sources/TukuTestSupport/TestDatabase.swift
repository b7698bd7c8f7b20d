import Foundation
import Logging
import PostgresNIO
import TukuPostgres

/// A throwaway database for one test: created from the server in `TUKU_DATABASE_URL`, migrated, and
/// dropped afterwards.
///
/// `scripts/test` starts a local PostgreSQL and sets the variable; without it the tests fail with a clear
/// message rather than skip, so that CI can never pass without having run them.
public struct TestDatabase: Sendable {
    /// The `postgres://` URL of this test's own database.
    public let url: String
    public let configuration: PostgresClient.Configuration

    /// The server's URL from the environment.
    public static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TUKU_DATABASE_URL"], !url.isEmpty else {
            throw TestSupportError(
                "TUKU_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL")
        }
        return url
    }

    /// Creates a fresh, migrated database, runs `body` with a running client on it, then drops it.
    public static func withFresh<Result: Sendable>(
        migrate: Bool = true,
        _ body: @Sendable (PostgresClient, TestDatabase) async throws -> Result
    ) async throws -> Result {
        let serverURL = try Self.serverURL()
        let logger = Logger.test()
        let name = "tuku_test_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try PostgresClient.Configuration(url: serverURL)
        do {
            try await Self.withClient(admin) { client in
                try await client.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            }
        } catch {
            throw TestSupportError("creating test database \(name): \(QueueError.describe(error))")
        }
        var components = URLComponents(string: serverURL)!
        components.path = "/\(name)"
        let database = TestDatabase(url: components.string!, configuration: try PostgresClient.Configuration(url: components.string!))
        do {
            let result = try await Self.withClient(database.configuration) { client in
                if migrate {
                    do {
                        try await Migrator(client: client, logger: logger).migrate()
                    } catch {
                        throw TestSupportError("migrating test database \(name): \(QueueError.describe(error))")
                    }
                }
                return try await body(client, database)
            }
            try await Self.drop(name, admin: admin, logger: logger)
            return result
        } catch {
            try? await Self.drop(name, admin: admin, logger: logger)
            throw error
        }
    }

    /// Runs `body` with a client whose `run()` is running.
    public static func withClient<Result: Sendable>(
        _ configuration: PostgresClient.Configuration,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var configuration = configuration
        configuration.options.maximumConnections = 40
        return try await PostgresClient.withRunning(
            configuration: configuration, backgroundLogger: Logger(label: "tuku.test.postgres", factory: { _ in SwiftLogNoOpLogHandler() }),
            body)
    }

    private static func drop(_ name: String, admin: PostgresClient.Configuration, logger: Logger) async throws {
        do {
            try await Self.withClient(admin) { client in
                try await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            }
        } catch {
            throw TestSupportError("dropping test database \(name): \(QueueError.describe(error))")
        }
    }
}

/// A failure in test setup, with a message that says what to do.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
