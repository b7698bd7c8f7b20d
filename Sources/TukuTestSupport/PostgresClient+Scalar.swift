import Logging
import PostgresNIO
import TukuPostgres

extension PostgresClient {
    /// Runs a statement to the end (so that errors raised while it runs are thrown), discarding rows.
    public func execute(_ query: PostgresQuery) async throws {
        do {
            for try await _ in try await self.query(query, logger: Logger.test()) {}
        } catch {
            throw TestSupportError("\(query.sql): \(QueueError.describe(error))")
        }
    }

    /// Runs a query returning one row of one column and decodes it.
    public func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type = Value.self) async throws -> Value
    {
        do {
            let rows = try await self.query(query, logger: Logger.test())
            for try await value in rows.decode(Value.self) { return value }
        } catch {
            throw TestSupportError("\(query.sql): \(QueueError.describe(error))")
        }
        throw TestSupportError("the query returned no rows: \(query.sql)")
    }

    /// Polls `query` (one boolean) until it is true, or fails after `timeout`.
    public func waitUntil(
        _ query: PostgresQuery, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(50)
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await self.scalar(query, as: Bool.self) { return }
            try await Task.sleep(for: interval)
        }
        throw TestSupportError("timed out after \(timeout) waiting for: \(query.sql)")
    }
}
