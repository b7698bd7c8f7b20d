import Foundation
import Logging
import PostgresNIO
import TukuPostgres

/// A login role made for one test and granted one of Tuku's group roles (`tuku_producer`, `tuku_worker`,
/// `tuku_operator`, `tuku_dashboard`), so that a test can prove what that role may and may not do.
///
/// Roles belong to the whole cluster, so each login gets a random name and is dropped after the test.
public struct TestLogin: Sendable {
    /// The role's name (also what `current_user` says in its sessions).
    public let name: String
    /// A `postgres://` URL of the test's database that logs in as this role, for worker processes.
    public let url: String
    /// The client configuration for this login.
    public let configuration: PostgresClient.Configuration

    /// Creates a login granted `role` on `database`, runs `body` with a running client logged in as it, then
    /// drops the login. `admin` is a client of the role that ran the migrations.
    public static func with<Result: Sendable>(
        _ role: String,
        on database: TestDatabase,
        admin: PostgresClient,
        _ body: @Sendable (PostgresClient, TestLogin) async throws -> Result
    ) async throws -> Result {
        let name = "tuku_test_login_\(UInt32.random(in: 0...UInt32.max))"
        let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        // `ROLE current_user` makes the admin a member, so that it may end the login's sessions: dropping the test
        // database (WITH (FORCE)) and the login both need that when a connection is still closing.
        try await admin.execute(
            PostgresQuery(unsafeSQL: "CREATE ROLE \(name) LOGIN PASSWORD '\(password)' IN ROLE \(role) ROLE current_user"))
        var components = URLComponents(string: database.url)!
        components.user = name
        components.password = password
        let login = TestLogin(
            name: name, url: components.string!, configuration: try PostgresClient.Configuration(url: components.string!))
        do {
            let result = try await TestDatabase.withClient(login.configuration) { client in try await body(client, login) }
            try await Self.drop(name, admin: admin)
            return result
        } catch {
            try? await Self.drop(name, admin: admin)
            throw error
        }
    }

    private static func drop(_ name: String, admin: PostgresClient) async throws {
        try await admin.execute(
            PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(name)'"))
        try await admin.execute(PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(name)"))
    }
}

extension PostgresClient {
    /// Runs `query` to its end and returns the SQLSTATE it failed with, or `nil` when it succeeded.
    public func sqlState(of query: PostgresQuery) async -> String? {
        do {
            for try await _ in try await self.query(query, logger: Logger.test()) {}
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "connection"
        } catch {
            return "unexpected"
        }
    }
}
