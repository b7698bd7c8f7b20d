import Foundation
import Logging
import PostgresNIO
import Testing
import TukuPostgres
import TukuTestSupport

/// Migration 0015: history no one can erase or re-file, a payload size limit at the door, priority as an
/// operator's lever, and dashboard views that cannot be read around. Each test logs in as the role concerned.
@Suite("Hardening: retention minimums, final successes, payload limit, priority, view barriers")
struct HardeningTests {
    @Test("retention settings cannot go below their minimums, even for an operator, and the body sweep reads the checked setting")
    func retentionMinimums() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await TestLogin.with("tuku_operator", on: database, admin: admin) { op, _ in
                let violation = "23514"
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET value = '-36500' WHERE name = 'exchange_body_retention_days'") == violation)
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET value = '1' WHERE name = 'payload_retention_days'") == violation)
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET value = '1' WHERE name = 'finished_job_retention_days'") == violation)
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET value = 'forever' WHERE name = 'finished_job_retention_days'") == violation)
                // The minimum itself is not the operator's to change.
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET minimum = 0 WHERE name = 'finished_job_retention_days'") == "42501")
                #expect(await op.sqlState(of: "UPDATE tuku.settings SET value = '730' WHERE name = 'finished_job_retention_days'") == nil)
            }
            // A body from yesterday survives a sweep; one older than the minimum period goes.
            try await admin.execute("SELECT tuku.enqueue('noop', 'acme', '{}')")
            try await admin.execute(
                """
                INSERT INTO tuku.exchanges (job_id, attempt, purpose, endpoint, action, started_at, http_status, outcome, request_body)
                SELECT id, 1, 'submit', 'https://gw/', 'File', now() - interval '1 day', 200, 'succeeded', '<recent/>' FROM tuku.jobs
                UNION ALL
                SELECT id, 1, 'submit', 'https://gw/', 'File', now() - interval '200 days', 200, 'succeeded', '<old/>' FROM tuku.jobs
                """)
            try await admin.execute("SELECT tuku.sweep_retention()")
            #expect(try await admin.scalar("SELECT string_agg(coalesce(request_body, '-'), ',' ORDER BY id) FROM tuku.exchanges", as: String.self) == "<recent/>,-")
        }
    }

    @Test("a succeeded job cannot be moved to any other state, by a function or a direct UPDATE, even by the owner")
    func succeededIsFinal() async throws {
        try await TestDatabase.withFresh { admin, _ in
            let id = try await admin.scalar("SELECT tuku.enqueue('noop', 'acme', '{}')", as: Int64.self)
            try await admin.execute("UPDATE tuku.jobs SET state = 'succeeded', finished_at = now() WHERE id = \(id)")
            #expect(await admin.sqlState(of: "UPDATE tuku.jobs SET state = 'available', finished_at = NULL WHERE id = \(id)") == "55000")
            #expect(await admin.sqlState(of: "SELECT tuku.retry(\(id))") != nil)
            #expect(try await admin.scalar("SELECT state FROM tuku.jobs WHERE id = \(id)", as: String.self) == "succeeded")
            // Retention may still clear its payload.
            #expect(await admin.sqlState(of: "UPDATE tuku.jobs SET payload = '{}', payload_removed_at = now() WHERE id = \(id)") == nil)
        }
    }

    @Test("a payload over max_payload_bytes is refused at insert, through tuku.enqueue and a plain INSERT, with the limit named")
    func payloadLimit() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await TestLogin.with("tuku_producer", on: database, admin: admin) { producer, login in
                try await admin.execute("INSERT INTO tuku.producer_tenants (login, tenant) VALUES (\(login.name), 'acme')")
                let big = "{\"blob\": \"" + String(repeating: "x", count: 4_200_000) + "\"}"
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', \(big)::jsonb)") == "54000")
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant, payload) VALUES ('noop', 'acme', \(big)::jsonb)") == "54000")
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{\"small\": true}')") == nil)
                do {
                    _ = try await producer.query("SELECT tuku.enqueue('noop', 'acme', \(big)::jsonb)", logger: Logger.test()).collect()
                    Issue.record("a 4.2 MB payload was accepted")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.message]?.contains("over the limit of 4194304 bytes") == true)
                }
            }
            #expect(try await admin.scalar("SELECT count(*)::int8 FROM tuku.jobs", as: Int64.self) == 1)
        }
    }

    @Test("a producer cannot put its jobs ahead of the default priority unless an operator granted its tenant more")
    func producerPriority() async throws {
        try await TestDatabase.withFresh { admin, database in
            try await TestLogin.with("tuku_producer", on: database, admin: admin) { producer, login in
                try await admin.execute("INSERT INTO tuku.producer_tenants (login, tenant) VALUES (\(login.name), 'acme')")
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{}', priority => 0::smallint)") == "42501")
                #expect(await producer.sqlState(of: "INSERT INTO tuku.jobs (kind, tenant, payload, priority) VALUES ('noop', 'acme', '{}', 50)") == "42501")
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{}', priority => 200::smallint)") == nil)
                try await admin.execute("UPDATE tuku.producer_tenants SET highest_priority = 10 WHERE login = \(login.name)")
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{}', priority => 10::smallint)") == nil)
                #expect(await producer.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{}', priority => 9::smallint)") == "42501")
            }
            // The owner (and operators) still set any priority.
            #expect(await admin.sqlState(of: "SELECT tuku.enqueue('noop', 'acme', '{}', priority => 0::smallint)") == nil)
        }
    }

    @Test("a dashboard login's leaky function sees only the rows a view shows, and it may not create temporary objects")
    func viewBarriers() async throws {
        try await TestDatabase.withFresh { admin, database in
            // One job the view shows (rejected recently) and one it hides (succeeded).
            try await admin.execute("SELECT tuku.enqueue('noop', 'shown', '{}')")
            try await admin.execute("SELECT tuku.enqueue('noop', 'hidden', '{}')")
            try await admin.execute("UPDATE tuku.jobs SET state = 'rejected', finished_at = now() WHERE tenant = 'shown'")
            try await admin.execute("UPDATE tuku.jobs SET state = 'succeeded', finished_at = now() WHERE tenant = 'hidden'")
            // A cheap function that records every value it is shown (as an attacker's function would print it).
            try await admin.execute("CREATE TABLE public.leaked (value text)")
            try await admin.execute(
                """
                CREATE FUNCTION public.leak(text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 SECURITY DEFINER AS
                $$ BEGIN INSERT INTO public.leaked VALUES ($1); RETURN true; END $$
                """)
            try await admin.execute("GRANT USAGE ON SCHEMA public TO tuku_dashboard")
            try await admin.execute("GRANT EXECUTE ON FUNCTION public.leak(text) TO tuku_dashboard")
            try await TestLogin.with("tuku_dashboard", on: database, admin: admin) { dashboard, _ in
                let shown = try await dashboard.scalar(
                    "SELECT count(*)::int8 FROM tuku.jobs_needing_attention WHERE public.leak(tenant)", as: Int64.self)
                #expect(shown == 1)
                #expect(await dashboard.sqlState(of: "CREATE TEMP TABLE t (x int)") == "42501")
            }
            #expect(try await admin.scalar("SELECT string_agg(DISTINCT value, ',') FROM public.leaked", as: String.self) == "shown")
            #expect(
                try await admin.scalar(
                    "SELECT count(*)::int8 FROM pg_class WHERE relnamespace = 'tuku'::regnamespace AND relkind = 'v' AND NOT coalesce('security_barrier=true' = ANY(reloptions), false)",
                    as: Int64.self) == 0)
        }
    }
}
