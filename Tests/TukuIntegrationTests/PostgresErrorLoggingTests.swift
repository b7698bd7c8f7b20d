import Foundation
import Logging
import PostgresNIO
import Testing
import TukuPostgres
import TukuTestSupport

/// Issue #11, defect 9: PostgreSQL's `DETAIL` can hold key values (a tenant and idempotency key, a failing row
/// with its payload) and must not reach logs. What Tuku logs of a database error is ``QueueError/describe(_:)``,
/// a `QueueError`'s description, or its debug description.
@Suite("PostgreSQL errors in logs: no DETAIL")
struct PostgresErrorLoggingTests {
    @Test("a unique violation is described by message, SQLSTATE and constraint, never the key values in its DETAIL")
    func uniqueViolation() async throws {
        // As the owner: PostgreSQL leaves key values out of DETAIL for a login under row-level security (a
        // producer), so the owner's session (and a worker's) is where they appear.
        try await TestDatabase.withFresh { admin, _ in
            // A login listed twice for a tenant: the key (login, tenant) goes into DETAIL.
            let insert: PostgresQuery =
                "INSERT INTO tuku.producer_tenants (login, tenant) VALUES ('payrun-secret-4412', 'tenant-kapiti-7731')"
            try await admin.execute(insert, logger: Logger.test())
            do {
                try await admin.execute(insert, logger: Logger.test())
                Issue.record("the duplicate was accepted")
            } catch let error as PSQLError {
                // The server did put the key values in DETAIL: this is what must not get out.
                let detail = try #require(error.serverInfo?[.detail])
                #expect(detail.contains("payrun-secret-4412"))
                let wrapped = QueueError(.queryFailed, "enqueue failed", underlying: error)
                for text in [QueueError.describe(error), wrapped.description, wrapped.debugDescription, QueueError.describe(wrapped)] {
                    #expect(!text.contains("payrun-secret-4412"), "\(text)")
                    #expect(!text.contains("tenant-kapiti-7731"), "\(text)")
                }
                #expect(QueueError.describe(error).contains("SQLSTATE 23505"))
                #expect(QueueError.describe(error).contains("constraint producer_tenants_pkey"))
                #expect(wrapped.description.contains("duplicate key value violates unique constraint"))
            }
        }
    }

    @Test("a check violation's failing row (with the payload) stays out of what is logged")
    func failingRow() async throws {
        try await TestDatabase.withFresh { admin, _ in
            do {
                try await admin.execute(
                    """
                    INSERT INTO tuku.jobs (kind, tenant, payload, max_attempts)
                    VALUES ('noop', 'tenant-kapiti-7731', '{"employee": "Aroha Te Whiu"}', -1)
                    """, logger: Logger.test())
                Issue.record("max_attempts -1 was accepted")
            } catch let error as PSQLError {
                let state = try #require(error.serverInfo?[.sqlState])
                #expect(state == "23514")
                let text = QueueError.describe(error)
                #expect(!text.contains("Aroha"), "\(text)")
                #expect(!text.contains("tenant-kapiti-7731"), "\(text)")
                #expect(text.contains("SQLSTATE 23514"))
            }
        }
    }
}
