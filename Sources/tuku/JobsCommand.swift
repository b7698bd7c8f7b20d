import ArgumentParser
import Foundation
import PostgresNIO
import TukuPostgres

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect, retry and cancel jobs (the same SQL functions operators call from psql).",
        subcommands: [List.self, Show.self, Retry.self, Cancel.self]
    )

    /// Filters shared by list and the bulk forms of retry and cancel.
    struct Filters: ParsableArguments {
        @Option(help: "Only jobs in this state.")
        var state: String?
        @Option(help: "Only jobs of this kind.")
        var kind: String?
        @Option(help: "Only jobs of this tenant.")
        var tenant: String?
        @Option(help: "Only jobs whose last error code matches this LIKE pattern (e.g. gateway_rejected, 'auth_%').")
        var errorCode: String?

        var isEmpty: Bool { self.state == nil && self.kind == nil && self.tenant == nil && self.errorCode == nil }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var filters: Filters
        @Option(help: "Most rows shown.") var limit: Int = 20

        func run() async throws {
            try await self.database.withClient(label: "tuku.jobs", maximumConnections: 1) { client, logger in
                let rows = try await client.query(
                    """
                    SELECT id, kind, tenant, state, attempt, max_attempts, to_char(run_at, 'YYYY-MM-DD HH24:MI:SS'),
                           coalesce(last_error->>'code', ''), coalesce(last_error->>'message', '')
                    FROM tuku.jobs
                    WHERE (\(self.filters.state)::text IS NULL OR state = \(self.filters.state))
                      AND (\(self.filters.kind)::text IS NULL OR kind = \(self.filters.kind))
                      AND (\(self.filters.tenant)::text IS NULL OR tenant = \(self.filters.tenant))
                      AND (\(self.filters.errorCode)::text IS NULL OR last_error->>'code' LIKE \(self.filters.errorCode))
                    ORDER BY id DESC
                    LIMIT \(Int64(self.limit))
                    """, logger: logger)
                var table = TextTable("id", "kind", "tenant", "state", "attempt", "run_at", "last error")
                for try await (id, kind, tenant, state, attempt, maxAttempts, runAt, code, message) in rows.decode(
                    (Int64, String, String, String, Int32, Int32, String, String, String).self
                ) {
                    let error = code.isEmpty ? "" : "\(code): \(message)"
                    table.append(["\(id)", kind, tenant, state, "\(attempt)/\(maxAttempts)", runAt, String(error.prefix(80))])
                }
                print(table.render())
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job and every attempt.")

        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The job id.") var id: Int64

        func run() async throws {
            try await self.database.withClient(label: "tuku.jobs", maximumConnections: 1) { client, logger in
                let jobs = try await client.query(
                    """
                    SELECT kind, tenant, state, attempt, max_attempts, coalesce(idempotency_key, ''), priority::int4,
                           to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.MS'), to_char(run_at, 'YYYY-MM-DD HH24:MI:SS.MS'),
                           coalesce(to_char(finished_at, 'YYYY-MM-DD HH24:MI:SS.MS'), ''),
                           coalesce(lease_owner::text, ''), coalesce(last_error::text, '')
                    FROM tuku.jobs WHERE id = \(self.id)
                    """, logger: logger)
                var found = false
                for try await (kind, tenant, state, attempt, maxAttempts, key, priority, created, runAt, finished, owner, error)
                    in jobs.decode(
                        (String, String, String, Int32, Int32, String, Int32, String, String, String, String, String).self
                    )
                {
                    found = true
                    print(
                        """
                        job \(self.id)
                          kind             \(kind)
                          tenant           \(tenant)
                          state            \(state)
                          attempt          \(attempt) of \(maxAttempts)
                          priority         \(priority)
                          idempotency key  \(key)
                          created          \(created)
                          run at           \(runAt)
                          finished         \(finished)
                          lease owner      \(owner)
                          last error       \(error)
                        """)
                }
                guard found else { throw ValidationError("job \(self.id) does not exist") }
                let attempts = try await client.query(
                    """
                    SELECT attempt, coalesce(worker_id::text, ''), to_char(started_at, 'HH24:MI:SS.MS'),
                           round(extract(epoch FROM finished_at - started_at) * 1000)::int8, outcome, resulting_state,
                           coalesce(error->>'code', '') || coalesce(': ' || (error->>'message'), '')
                    FROM tuku.attempts WHERE job_id = \(self.id) ORDER BY id
                    """, logger: logger)
                var table = TextTable("attempt", "worker", "started", "ms", "outcome", "then", "error")
                for try await (attempt, worker, started, milliseconds, outcome, resulting, error) in attempts.decode(
                    (Int32, String, String, Int64, String, String, String).self
                ) {
                    table.append(["\(attempt)", worker, started, "\(milliseconds)", outcome, resulting, error])
                }
                print("\nattempts\n" + table.render())
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make jobs claimable now: by id (tuku.retry) or by filter (tuku.retry_jobs; --state defaults to dead).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var filters: Filters
        @Argument(help: "Job ids.") var ids: [Int64] = []

        func validate() throws {
            guard self.ids.isEmpty != self.filters.isEmpty || (self.ids.isEmpty && self.filters.isEmpty) else {
                throw ValidationError("give job ids or filters, not both")
            }
        }

        func run() async throws {
            try await self.database.withClient(label: "tuku.jobs", maximumConnections: 1) { client, logger in
                if self.ids.isEmpty {
                    let rows = try await client.query(
                        "SELECT tuku.retry_jobs(coalesce(\(self.filters.state), 'dead'), \(self.filters.kind), \(self.filters.tenant), \(self.filters.errorCode))",
                        logger: logger)
                    for try await count in rows.decode(Int32.self) { print("Retrying \(count) jobs.") }
                } else {
                    for id in self.ids {
                        print("job \(id): \(try await Self.call(client, "SELECT tuku.retry(\(id))", logger: logger))")
                    }
                }
            }
        }

        static func call(_ client: PostgresClient, _ query: PostgresQuery, logger: Logger) async throws -> String {
            do {
                for try await state in try await client.query(query, logger: logger).decode(String.self) { return state }
                return ""
            } catch {
                return "refused: \(QueueError.serverMessage(error) ?? "\(error)")"
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Cancel jobs: by id (tuku.cancel) or by filter (tuku.cancel_jobs). Running jobs end cancelled when their worker reports.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var filters: Filters
        @Argument(help: "Job ids.") var ids: [Int64] = []

        func validate() throws {
            guard self.ids.isEmpty != self.filters.isEmpty else { throw ValidationError("give job ids or at least one filter, not both") }
        }

        func run() async throws {
            try await self.database.withClient(label: "tuku.jobs", maximumConnections: 1) { client, logger in
                if self.ids.isEmpty {
                    let rows = try await client.query(
                        "SELECT tuku.cancel_jobs(\(self.filters.state), \(self.filters.kind), \(self.filters.tenant), \(self.filters.errorCode))",
                        logger: logger)
                    for try await count in rows.decode(Int32.self) { print("Cancelled or marked \(count) jobs.") }
                } else {
                    for id in self.ids {
                        print("job \(id): \(try await Retry.call(client, "SELECT tuku.cancel(\(id))", logger: logger))")
                    }
                }
            }
        }
    }
}
