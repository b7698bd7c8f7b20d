import Foundation
import Logging
import PostgresNIO

/// Applies and reverts the numbered migrations in `sql/migrations/`.
///
/// Each migration runs in its own transaction and is recorded in `tuku.schema_migrations`. A session-level
/// advisory lock serialises migrators, so two started at once do not clash: the second waits, then finds
/// nothing left to do.
public struct Migrator: Sendable {
    /// The advisory lock key (`hashtext('tuku.migrate')` fixed as a constant).
    static let lockKey: Int64 = 0x7475_6B75_6D69_6772  // "tukumigr"

    /// A migration and, if it has been applied, when.
    public struct Status: Sendable, Hashable {
        public var migration: Migration
        public var appliedAt: Date?
    }

    private let client: PostgresClient
    private let migrations: [Migration]
    private let logger: Logger

    public init(client: PostgresClient, migrations: [Migration] = Migration.bundled, logger: Logger) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    /// Applies every pending migration up to `target` (all when `nil`). Returns those it applied.
    @discardableResult
    public func migrate(to target: Int? = nil) async throws -> [Migration] {
        try await self.withLock { connection in
            let applied = Set(try await self.appliedVersions(connection).keys)
            try self.checkKnown(applied)
            var done: [Migration] = []
            for migration in self.migrations where !applied.contains(migration.version) {
                if let target, migration.version > target { break }
                try await self.run(migration, sql: migration.up, on: connection) { connection in
                    try await connection.execute(
                        "INSERT INTO tuku.schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: self.logger
                    )
                }
                self.logger.info(
                    "Applied migration", metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
                done.append(migration)
            }
            return done
        }
    }

    /// Reverts applied migrations newer than `target`, newest first (`0` reverts all). Returns those it reverted.
    @discardableResult
    public func rollback(to target: Int) async throws -> [Migration] {
        try await self.withLock { connection in
            let applied = Set(try await self.appliedVersions(connection).keys)
            try self.checkKnown(applied)
            var done: [Migration] = []
            for migration in self.migrations.reversed() where applied.contains(migration.version) && migration.version > target {
                try await self.run(migration, sql: migration.down, on: connection) { connection in
                    try await connection.execute(
                        "DELETE FROM tuku.schema_migrations WHERE version = \(migration.version)", logger: self.logger)
                }
                self.logger.info(
                    "Reverted migration", metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
                done.append(migration)
            }
            return done
        }
    }

    /// Every bundled migration with the time it was applied, if it was.
    public func status() async throws -> [Status] {
        try await DatabaseDeadline.run("migration status") { try await self.unboundedStatus() }
    }

    private func unboundedStatus() async throws -> [Status] {
        try await self.withLock { connection in
            let applied = try await self.appliedVersions(connection)
            try self.checkKnown(Set(applied.keys))
            return self.migrations.map { Status(migration: $0, appliedAt: applied[$0.version]) }
        }
    }

    private func checkKnown(_ applied: Set<Int>) throws {
        let known = Set(self.migrations.map(\.version))
        if let stranger = applied.subtracting(known).min() {
            throw QueueError(
                .unknownMigration, "the database has migration \(stranger), which this tuku does not know: is it older than the database?")
        }
    }

    private func appliedVersions(_ connection: PostgresConnection) async throws -> [Int: Date] {
        var result: [Int: Date] = [:]
        let rows = try await connection.query("SELECT version, applied_at FROM tuku.schema_migrations", logger: self.logger)
        for try await (version, appliedAt) in rows.decode((Int, Date).self) {
            result[version] = appliedAt
        }
        return result
    }

    private func run(
        _ migration: Migration, sql: String, on connection: PostgresConnection,
        record: (PostgresConnection) async throws -> Void
    ) async throws {
        // The extended protocol takes one statement; a DO block runs the whole file with EXECUTE instead,
        // still inside this migration's transaction.
        var tag = "tuku_migration"
        while sql.contains("$\(tag)$") { tag += "_" }
        let body = "DO $do_\(tag)$ BEGIN EXECUTE $\(tag)$\(sql)$\(tag)$; END $do_\(tag)$"
        do {
            try await connection.withTransaction(logger: self.logger) { connection in
                try await connection.execute(PostgresQuery(unsafeSQL: body), logger: self.logger)
                try await record(connection)
            }
        } catch {
            throw QueueError(
                .migrationFailed, "migration \(migration.version)_\(migration.name) failed and was rolled back", underlying: error)
        }
    }

    private func withLock<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await self.client.withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))", logger: self.logger)
            do {
                try await connection.execute(
                    """
                    CREATE SCHEMA IF NOT EXISTS tuku;
                    """, logger: self.logger)
                try await connection.execute(
                    """
                    CREATE TABLE IF NOT EXISTS tuku.schema_migrations (
                        version    integer     PRIMARY KEY,
                        name       text        NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, logger: self.logger)
                let result = try await body(connection)
                try await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: self.logger)
                return result
            } catch {
                try? await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: self.logger)
                throw error
            }
        }
    }
}
