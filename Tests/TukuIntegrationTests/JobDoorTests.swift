import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport

/// Rows that must not enter `tuku.jobs`, refused by the table itself whoever inserts them.
@Suite("Bad rows are stopped at the door")
struct JobDoorTests {
    static let checkViolation = "23514"

    @Test("a producer's kind with a line break, spaces, or a megabyte of text is refused by the table")
    func kindsAsProducer() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await TestLogin.with("tuku_producer", on: database, admin: admin) { producer, login in
                try await admin.execute("INSERT INTO tuku.producer_tenants (login, tenant) VALUES (\(login.name), 'acme')")
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant) VALUES ('noop', 'acme')") == nil)
                #expect(
                    await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant) VALUES (E'ird.ei.file\\nFAKE log line', 'acme')")
                        == Self.checkViolation)
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant) VALUES ('ird ei file', 'acme')") == Self.checkViolation)
                #expect(
                    await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant) VALUES (repeat('k', 1048576), 'acme')")
                        == Self.checkViolation)
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue(E'noop\\r', 'acme', '{}')") == Self.checkViolation)
                #expect(try await admin.scalar("SELECT count(*)::int8 FROM tuku.jobs", as: Int64.self) == 1)
            }
        }
    }

    @Test("an INSERT may not set the columns the queue owns: a lease, an attempt count, a cancel request, 'may have reached the gateway'")
    func queueOwnedColumns() async throws {
        try await TestDatabase.withFresh { admin, database in
            // The operator may insert every column (the producer's INSERT grant names only its own).
            try await TestLogin.with("tuku_operator", on: database, admin: admin) { (operatorClient: PostgresClient, _: TestLogin) async throws in
                let refused = [
                    "INSERT INTO tuku.jobs (kind, tenant, lease_owner) VALUES ('noop', 'acme', 1)",
                    "INSERT INTO tuku.jobs (kind, tenant, lease_token) VALUES ('noop', 'acme', 7)",
                    "INSERT INTO tuku.jobs (kind, tenant, lease_expires_at) VALUES ('noop', 'acme', now() + interval '1 hour')",
                    "INSERT INTO tuku.jobs (kind, tenant, attempt) VALUES ('noop', 'acme', 100)",
                    "INSERT INTO tuku.jobs (kind, tenant, cancel_requested_at) VALUES ('noop', 'acme', now())",
                    "INSERT INTO tuku.jobs (kind, tenant, unsettled_since) VALUES ('noop', 'acme', now())",
                    "INSERT INTO tuku.jobs (kind, tenant, started_at) VALUES ('noop', 'acme', now())",
                ]
                for statement in refused {
                    #expect(await operatorClient.sqlState(of: PostgresQuery(unsafeSQL: statement)) == Self.checkViolation, "\(statement)")
                }
                #expect(try await admin.scalar("SELECT count(*)::int8 FROM tuku.jobs", as: Int64.self) == 0)
            }
        }
    }

    @Test("the lease CHECK is exact: no lease field on a job that is not running, all three on one that is")
    func leaseCheck() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("INSERT INTO tuku.jobs (kind, tenant) VALUES ('noop', 'acme')")
            #expect(await client.sqlState(of: "UPDATE tuku.jobs SET lease_owner = 1") == Self.checkViolation)
            #expect(await client.sqlState(of: "UPDATE tuku.jobs SET lease_token = 1") == Self.checkViolation)
            #expect(await client.sqlState(of: "UPDATE tuku.jobs SET state = 'running', lease_owner = 1, lease_token = 1") == Self.checkViolation)
            #expect(
                await client.sqlState(
                    of: "UPDATE tuku.jobs SET state = 'running', lease_owner = 1, lease_token = 1, lease_expires_at = now()") == nil)
        }
    }
}
