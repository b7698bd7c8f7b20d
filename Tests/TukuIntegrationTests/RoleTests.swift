import Foundation
import Logging
import PostgresNIO
import Testing
import TukuCore
import TukuPostgres
import TukuTestSupport
import TukuWorker

/// SQLSTATE 42501: permission denied, and "new row violates row-level security policy".
private let denied = "42501"

@Suite("Roles and row-level security")
struct RoleTests {
    /// Two tenants' jobs, one with an attempt and an exchange, as the owner inserts them.
    static func seed(_ client: PostgresClient) async throws {
        try await client.execute("SELECT tuku.enqueue('noop', 'acme', '{\"employee\": \"acme-1\"}')")
        try await client.execute("SELECT tuku.enqueue('noop', 'kiwi', '{\"employee\": \"kiwi-1\"}')")
        try await client.execute(
            """
            INSERT INTO tuku.exchanges (job_id, attempt, purpose, endpoint, action, started_at, http_status, outcome, request_body)
            SELECT id, 1, 'submit', 'https://gw/', 'File', now(), 200, 'succeeded', '<kiwi-personal/>'
            FROM tuku.jobs WHERE tenant = 'kiwi'
            """)
        try await client.execute(
            """
            INSERT INTO tuku.oauth_tokens (name, gateway, access_token, access_expires_at, refresh_token, key_id)
            VALUES ('payroll-admin', 'ird', '\\x0102'::bytea, now() + interval '1 hour', '\\x0304'::bytea, 'k1')
            """)
    }

    @Test("a producer enqueues for its own tenants, sees only their jobs, and can do nothing else")
    func producer() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await Self.seed(admin)
            try await TestLogin.with("tuku_producer", on: database, admin: admin) { producer, login in
                try await admin.execute("INSERT INTO tuku.producer_tenants (login, tenant) VALUES (\(login.name), 'acme')")

                // Enqueue three ways: the function, a plain INSERT, and the `tuku enqueue` path.
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{}', 'key-1')") == nil)
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant, payload) VALUES ('noop', 'acme', '{}')") == nil)
                let line = try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{},"idempotency_key":"key-2"}"#)
                let result = try await JobQueue(client: producer, logger: .test()).enqueue([line, line])
                #expect(result.inserted == 1)
                #expect(result.duplicates == 1)

                // Its own tenant only: another tenant's jobs, attempts and exchanges are invisible.
                #expect(try await producer.scalar("SELECT string_agg(DISTINCT tenant, ',') FROM tuku.jobs", as: String.self) == "acme")
                #expect(try await producer.scalar("SELECT count(*) FROM tuku.jobs", as: Int64.self) == 4)
                #expect(try await producer.scalar("SELECT count(*) FROM tuku.exchanges", as: Int64.self) == 0)
                #expect(try await producer.scalar("SELECT count(*) FROM tuku.jobs WHERE payload->>'employee' = 'kiwi-1'", as: Int64.self) == 0)
                #expect(try await producer.scalar("SELECT string_agg(tenant, ',') FROM tuku.producer_tenants", as: String.self) == "acme")

                // Enqueueing for another tenant is refused, however it is tried.
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'kiwi', '{}')") == denied)
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant, payload) VALUES ('noop', 'kiwi', '{}')") == denied)

                // The queue's own columns, other tables, views and operator functions are not a producer's.
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant, state) VALUES ('noop', 'acme', 'succeeded')") == denied)
                #expect(await producer.sqlState(of: "UPDATE tuku.jobs SET priority = 0") == denied)
                #expect(await producer.sqlState(of: "DELETE FROM tuku.jobs") == denied)
                #expect(await producer.sqlState(of: "INSERT INTO tuku.producer_tenants (login, tenant) VALUES (current_user, 'kiwi')") == denied)
                #expect(await producer.sqlState(of: "SELECT * FROM tuku.oauth_tokens") == denied)
                #expect(await producer.sqlState(of: "SELECT * FROM tuku.queue_depth") == denied)
                #expect(await producer.sqlState(of: "SELECT tuku.retry(1)") == denied)
                #expect(await producer.sqlState(of: "SELECT tuku.pause(tenant => 'kiwi')") == denied)
            }
            #expect(try await admin.scalar("SELECT count(*) FROM tuku.jobs WHERE tenant = 'kiwi'", as: Int64.self) == 1)
        }
    }

    @Test("the dashboard role reads every view, no table and no function beyond what the views call")
    func dashboard() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await Self.seed(admin)
            let relations = try await admin.query(
                """
                SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'tuku' AND c.relkind IN ('r', 'v') ORDER BY 1
                """, logger: .test())
            var views: [String] = [], tables: [String] = []
            for try await (name, kind) in relations.decode((String, String).self) {
                if kind == "v" { views.append(name) } else { tables.append(name) }
            }
            #expect(views.count >= 9)
            #expect(tables.contains("oauth_tokens") && tables.contains("jobs") && tables.contains("exchanges"))
            let (viewNames, tableNames) = (views, tables)

            try await TestLogin.with("tuku_dashboard", on: database, admin: admin) { dashboard, _ in
                for view in viewNames {
                    #expect(await dashboard.sqlState(of: PostgresQuery(unsafeSQL: "SELECT * FROM tuku.\(view)")) == nil, "view \(view)")
                }
                for table in tableNames {
                    #expect(
                        await dashboard.sqlState(of: PostgresQuery(unsafeSQL: "SELECT count(*) FROM tuku.\(table)")) == denied,
                        "table \(table)")
                }
                #expect(await dashboard.sqlState(of: "SELECT access_token, refresh_token FROM tuku.oauth_tokens") == denied)
                #expect(await dashboard.sqlState(of: "SELECT tuku.retry(1)") == denied)
                #expect(await dashboard.sqlState(of: "SELECT tuku.set_rate('ird.gateway', 100)") == denied)
                #expect(await dashboard.sqlState(of: "SELECT tuku.sweep_retention()") == denied)
                // What it does see of the tokens: their health.
                let health = try await dashboard.scalar("SELECT name || ':' || refreshable FROM tuku.oauth_token_status", as: String.self)
                #expect(health == "payroll-admin:true")
            }

            // No view shows payloads, bodies or tokens.
            let leaking = try await admin.scalar(
                """
                SELECT count(*) FROM information_schema.columns c
                JOIN information_schema.views v ON v.table_schema = c.table_schema AND v.table_name = c.table_name
                WHERE c.table_schema = 'tuku'
                  AND c.column_name IN ('payload', 'request_body', 'response_body', 'access_token', 'refresh_token')
                """, as: Int64.self)
            #expect(leaking == 0)
        }
    }

    @Test("an operator sees every tenant and runs the operator functions, but cannot read sealed tokens or change the schema")
    func operatorRole() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await Self.seed(admin)
            try await TestLogin.with("tuku_operator", on: database, admin: admin) { op, _ in
                #expect(try await op.scalar("SELECT count(DISTINCT tenant) FROM tuku.jobs", as: Int64.self) == 2)
                #expect(try await op.scalar("SELECT count(*) FROM tuku.exchanges", as: Int64.self) == 1)
                #expect(await op.sqlState(of: "SELECT tuku.cancel(1)") == nil)
                #expect(await op.sqlState(of: "SELECT tuku.retry(1)") == nil)
                #expect(await op.sqlState(of: "SELECT tuku.cancel_jobs(tenant => 'kiwi')") == nil)
                #expect(await op.sqlState(of: "SELECT tuku.retry_jobs('cancelled')") == nil)
                #expect(await op.sqlState(of: "SELECT tuku.pause(kind => 'noop', reason => 'IRD outage')") == nil)
                #expect(await op.sqlState(of: "SELECT tuku.resume(kind => 'noop')") == nil)
                #expect(await op.sqlState(of: "SELECT tuku.set_rate('ird.gateway', 3)") == nil)
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET value = '30' WHERE name = 'payload_retention_days'") == nil)
                #expect(await op.sqlState(of: "INSERT INTO tuku.producer_tenants (login, tenant) VALUES ('payroll_system', 'acme')") == nil)
                #expect(await op.sqlState(of: "SELECT * FROM tuku.sweep_retention()") == nil)
                #expect(await op.sqlState(of: "SELECT * FROM tuku.jobs_needing_attention") == nil)
                #expect(try await op.scalar("SELECT needs_authorisation_since IS NULL FROM tuku.oauth_token_status", as: Bool.self))

                // Loading a token set (`tuku tokens load`) works; reading the sealed tokens does not.
                let store = TokenStore(client: op, cipher: try TokenCipher(base64: TokenCipher.generateKey()), logger: .test())
                try await store.store(
                    name: "payroll-admin", gateway: .ird,
                    tokens: TokenSet(accessToken: Secret("a"), expiresAt: Date().addingTimeInterval(3600), refreshToken: nil),
                    tenants: ["acme"])
                #expect(await op.sqlState(of: "SELECT access_token FROM tuku.oauth_tokens") == denied)
                #expect(await op.sqlState(of: "SELECT refresh_token FROM tuku.oauth_tokens") == denied)
                #expect(await op.sqlState(of: "SELECT * FROM tuku.oauth_tokens") == denied)

                #expect(await op.sqlState(of: "DELETE FROM tuku.jobs") == denied)
                #expect(await op.sqlState(of: "DELETE FROM tuku.attempts") == denied)
                #expect(await op.sqlState(of: "UPDATE tuku.exchanges SET response_body = NULL") == denied)
                #expect(await op.sqlState(of: "DROP TABLE tuku.jobs") == denied)
                #expect(await op.sqlState(of: "CREATE TABLE tuku.mine (id int)") == denied)
            }
            #expect(try await admin.scalar("SELECT generation FROM tuku.oauth_tokens", as: Int64.self) == 2)
        }
    }

    @Test("a worker login claims, heartbeats, acknowledges, paces, reads tokens and sweeps, and does nothing an operator does")
    func worker() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await Self.seed(admin)
            try await admin.execute("SELECT tuku.set_rate('gw', 1000)")
            try await TestLogin.with("tuku_worker", on: database, admin: admin) { workerClient, _ in
                var handlers = HandlerRegistry()
                handlers.register(NoopHandler())
                try await WorkerHarness.withWorker(client: workerClient, handlers: handlers) { _ in
                    try await admin.waitUntil("SELECT count(*) = 2 FROM tuku.jobs WHERE state = 'succeeded'")
                }
                #expect(try await admin.scalar("SELECT count(*) FROM tuku.attempts WHERE outcome = 'succeeded'", as: Int64.self) == 2)
                #expect(try await admin.scalar("SELECT state FROM tuku.workers", as: String.self) == "stopped")

                // The rescuer: a job whose lease expired goes back to the queue.
                try await admin.execute("SELECT tuku.enqueue('noop', 'acme', '{}', 'rescued')")
                let queue = JobQueue(client: workerClient, logger: .test())
                let workerID = try await queue.registerWorker(host: "test", pid: 1, version: "test", concurrency: 1)
                let claimed = try await queue.claim(workerID: workerID, limit: 1, lease: .milliseconds(1))
                #expect(claimed.count == 1)
                try await Task.sleep(for: .milliseconds(20))
                #expect(try await queue.rescueExpiredLeases(workerLostAfter: .seconds(60)).count == 1)

                // Pacing and the retention sweep.
                let limiter = RateLimiter(client: workerClient, logger: .test())
                let grant = try await limiter.acquire(key: "gw", jobID: claimed[0].id, workerID: workerID)
                #expect(grant.slot > Date.distantPast)
                try await limiter.release(key: "gw", jobID: claimed[0].id, httpStatus: 200, retryAfter: nil)
                _ = try await queue.sweepRetention()

                // Tokens: workers read and refresh the sealed sets.
                #expect(await workerClient.sqlState(of: "SELECT access_token, refresh_token FROM tuku.oauth_tokens") == nil)
                #expect(await workerClient.sqlState(of: "UPDATE tuku.oauth_tokens SET refreshed_at = now()") == nil)

                // Not a worker's business.
                #expect(await workerClient.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant) VALUES ('noop', 'acme')") == denied)
                #expect(await workerClient.sqlState(of: "DELETE FROM tuku.jobs") == denied)
                #expect(await workerClient.sqlState(of: "SELECT tuku.retry(1)") == denied)
                #expect(await workerClient.sqlState(of: "SELECT tuku.set_rate('gw', 1)") == denied)
                #expect(await workerClient.sqlState(of: "SELECT tuku.pause(kind => 'noop')") == denied)
                #expect(await workerClient.sqlState(of: "UPDATE tuku.settings SET value = '1'") == denied)
                #expect(await workerClient.sqlState(of: "UPDATE tuku.exchanges SET request_body = NULL") == denied)
            }
        }
    }

    @Test("nothing in schema tuku is open to every role: no table, view, sequence or function grants PUBLIC anything")
    func nothingPublic() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let open = try await admin.scalar(
                """
                SELECT coalesce(string_agg(what, ', '), '') FROM (
                    SELECT p.proname AS what FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'tuku' AND p.prokind = 'f' AND has_function_privilege('public', p.oid, 'EXECUTE')
                    UNION ALL
                    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'tuku' AND c.relkind IN ('r', 'v', 'S')
                      AND (has_table_privilege('public', c.oid, 'SELECT,INSERT,UPDATE,DELETE')
                           OR (c.relkind = 'S' AND has_sequence_privilege('public', c.oid, 'USAGE')))
                ) o
                """, as: String.self)
            #expect(open == "")
            #expect(try await admin.scalar("SELECT has_schema_privilege('public', 'tuku', 'USAGE')", as: Bool.self) == false)
        }
    }

    @Test("`tuku status` runs on a dashboard login and shows pauses; `tuku tokens list` runs on an operator login read from a URL file")
    func commandsUnderRoles() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await Self.seed(admin)
            try await admin.execute("SELECT tuku.pause(tenant => 'kiwi', reason => 'held by the employer')")
            try await TestLogin.with("tuku_dashboard", on: database, admin: admin) { _, login in
                let status = try TukuProcess(["status", "--log-level", "warning"], databaseURL: login.url)
                #expect(try await status.waitForExit() == 0, "\(status.log)")
                #expect(status.log.contains("Paused"))
                #expect(status.log.contains("held by the employer"))
            }
            try await TestLogin.with("tuku_operator", on: database, admin: admin) { _, login in
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-url-\(UUID().uuidString)")
                try (login.url + "\n").write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                let tokens = try TukuProcess(
                    ["tokens", "list", "--log-level", "warning"], databaseURL: "",
                    environment: ["TUKU_DATABASE_URL_FILE": file.path])
                #expect(try await tokens.waitForExit() == 0, "\(tokens.log)")
                #expect(tokens.log.contains("payroll-admin"))
            }
        }
    }
}
