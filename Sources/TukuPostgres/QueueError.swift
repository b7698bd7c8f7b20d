import Logging
import PostgresNIO

/// The error type of the Postgres target: a code plus safe context.
///
/// `description` is safe to show anyone (no passwords, no payloads); the underlying error goes to
/// `debugDescription` only.
public struct QueueError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidDatabaseURL = "invalid_database_url"
            case migrationFailed = "migration_failed"
            case unknownMigration = "unknown_migration"
            case queryFailed = "query_failed"
            case timedOut = "database_timeout"
        }
        private let base: Base

        /// `TUKU_DATABASE_URL` / `--database-url` is not a usable `postgres://` URL.
        public static let invalidDatabaseURL = Code(base: .invalidDatabaseURL)
        /// A migration file failed to apply or revert; nothing of it was kept.
        public static let migrationFailed = Code(base: .migrationFailed)
        /// The database records a migration this binary does not have.
        public static let unknownMigration = Code(base: .unknownMigration)
        /// A queue statement failed.
        public static let queryFailed = Code(base: .queryFailed)
        /// A database call did not finish before its deadline (see ``DatabaseDeadline``); whether the statement
        /// took effect is unknown.
        public static let timedOut = Code(base: .timedOut)

        public var description: String { self.base.rawValue }
    }

    public var code: Code
    /// A sentence for the operator, never containing credentials or payloads.
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let server = self.underlying.flatMap(Self.serverMessage) {
            return "\(self.code): \(self.message): \(server)"
        }
        return "\(self.code): \(self.message)"
    }

    /// The description and the underlying error's type. A `PSQLError` appears as ``serverMessage(_:)`` only:
    /// `String(reflecting:)` of one prints its `DETAIL`, which can hold key values (a tenant, an idempotency key,
    /// a failing row with its payload).
    public var debugDescription: String {
        guard let underlying = self.underlying else { return "\(self.description) (underlying: none)" }
        if underlying is PSQLError { return "\(self.description) (underlying: PSQLError)" }
        return "\(self.description) (underlying: \(String(reflecting: underlying)))"
    }

    /// What is safe to log of a `PostgreSQL` error: its message, SQLSTATE and constraint name, never its `DETAIL`
    /// (which can hold key values: `Key (tenant, idempotency_key)=(acme, payroll-7) already exists`, or a failing
    /// row with its payload), its context or its hint; `nil` for errors that are not a `PSQLError`.
    public static func serverMessage(_ error: any Error) -> String? {
        guard let psql = error as? PSQLError else { return nil }
        guard let info = psql.serverInfo, let message = info[.message] else {
            return "\(psql.code)"
        }
        var facts: [String] = []
        if let state = info[.sqlState] { facts.append("SQLSTATE \(state)") }
        if let constraint = info[.constraintName] { facts.append("constraint \(constraint)") }
        return facts.isEmpty ? message : "\(message) (\(facts.joined(separator: ", ")))"
    }
}

extension QueueError {
    /// A safe one-line description of any error met while talking to PostgreSQL.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? QueueError { return error.description }
        if let server = QueueError.serverMessage(error) { return server }
        return String(describing: error)
    }
}

extension PostgresClient {
    /// Runs a statement to its end, discarding any rows, so that errors raised while it runs are thrown here.
    public func execute(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}

extension PostgresConnection {
    /// Runs a statement to its end, discarding any rows, so that errors raised while it runs are thrown here.
    public func execute(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}
