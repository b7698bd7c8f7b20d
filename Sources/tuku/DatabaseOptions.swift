import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import Synchronization
import TukuPostgres

/// Options every command that talks to PostgreSQL takes.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "postgres://user:password@host:port/database (default: $TUKU_DATABASE_URL).", valueName: "url"))
    var databaseURL: String?

    @Option(
        name: .customLong("database-url-file"),
        help: ArgumentHelp(
            "A file holding the URL, e.g. a mounted secret (default: $TUKU_DATABASE_URL_FILE).", valueName: "path"))
    var databaseURLFile: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// The database URL from the options or the environment.
    func url() throws -> String {
        try DatabaseURLSource.resolve(
            url: self.databaseURL, file: self.databaseURLFile, environment: ProcessInfo.processInfo.environment)
    }

    func clientConfiguration(maximumConnections: Int = 20) throws -> PostgresClient.Configuration {
        var configuration = try PostgresClient.Configuration(url: try self.url())
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 1
        return configuration
    }

    func makeLogger(_ label: String) -> Logger {
        LogSetup.bootstrap(level: self.logLevel)
        return Logger(label: label)
    }

    /// Runs `body` with a connected client, then shuts the client down.
    func withClient<Result: Sendable>(
        label: String, maximumConnections: Int = 20,
        _ body: @Sendable (PostgresClient, Logger) async throws -> Result
    ) async throws -> Result {
        let logger = self.makeLogger(label)
        return try await PostgresClient.withRunning(
            configuration: try self.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger
        ) { client in
            try await body(client, logger)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Logging goes to standard error, set up once per process.
enum LogSetup {
    private static let bootstrapped = Mutex(false)

    static func bootstrap(level: Logger.Level) {
        let first = Self.bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
