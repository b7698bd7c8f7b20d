import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TukuPostgres

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The dashboard views in the terminal: queue depth, pacing, workers, jobs needing attention.",
        discussion: "Reads tuku.queue_depth, tuku.rate_limit_status, tuku.worker_status and tuku.jobs_needing_attention."
    )

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Redraw every --interval seconds until interrupted.") var watch = false
    @Option(help: "Seconds between redraws with --watch.") var interval: Double = 2

    func run() async throws {
        let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        try await self.database.withClient(label: "tuku.status", maximumConnections: 1) { client, logger in
            repeat {
                let screen = try await Self.render(client: client, logger: logger, colour: colour)
                if self.watch && colour { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(screen)
                if self.watch { try await Task.sleep(for: .milliseconds(Int64(self.interval * 1000))) }
            } while self.watch
        }
    }

    static func render(client: PostgresClient, logger: Logger, colour: Bool) async throws -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func state(_ name: String) -> String {
            switch name {
            case "dead", "rejected": paint(name, "31")
            case "retryable", "scheduled": paint(name, "33")
            case "running": paint(name, "36")
            default: name
            }
        }
        var out = paint("tuku status", "1") + "  \(Date().formatted(.iso8601))\n\n"

        var depth = TextTable("state", "kind", "jobs", "oldest ready")
        for try await (name, kind, jobs, oldest) in try await client.query(
            """
            SELECT state, kind, sum(jobs)::int8, coalesce(to_char(max(oldest_ready_age), 'HH24:MI:SS'), '')
            FROM tuku.queue_depth GROUP BY state, kind ORDER BY state, kind
            """, logger: logger
        ).decode((String, String, Int64, String).self) {
            depth.append([state(name), kind, "\(jobs)", oldest])
        }
        out += paint("Queue", "1") + "\n" + (depth.rows.isEmpty ? "(empty)" : depth.render()) + "\n\n"

        var pauses = TextTable("kind", "tenant", "jobs held", "since", "by", "reason")
        for try await (kind, tenant, held, since, by, reason) in try await client.query(
            """
            SELECT coalesce(kind, '(every kind)'), coalesce(tenant, '(every tenant)'), jobs_held,
                   to_char(paused_at, 'YYYY-MM-DD HH24:MI'), paused_by::text, coalesce(reason, '')
            FROM tuku.pause_status ORDER BY paused_at
            """, logger: logger
        ).decode((String, String, Int64, String, String, String).self) {
            pauses.append([kind, tenant, paint("\(held)", "33"), since, by, reason])
        }
        if !pauses.rows.isEmpty {
            out += paint("Paused", "1") + " (tuku.resume)\n" + pauses.render() + "\n\n"
        }

        var pacing = TextTable("key", "limit/s", "effective/s", "in flight", "cool-down", "429s (1 h)")
        for try await (key, limit, effective, inFlight, cooldown, throttles) in try await client.query(
            """
            SELECT key, requests_per_second::text, effective_rate::text, in_flight,
                   CASE WHEN cooldown_remaining > interval '0' THEN round(extract(epoch FROM cooldown_remaining)::numeric, 1)::text ELSE '0' END,
                   throttles_last_hour
            FROM tuku.rate_limit_status ORDER BY key
            """, logger: logger
        ).decode((String, String, String, Int64, String, Int64).self) {
            let throttled = throttles > 0 ? paint("\(throttles)", "33") : "0"
            pacing.append([key, limit, effective, "\(inFlight)", cooldown == "0" ? "-" : paint(cooldown + " s", "33"), throttled])
        }
        out += paint("Pacing", "1") + "\n" + (pacing.rows.isEmpty ? "(no limits set: tuku.set_rate)" : pacing.render()) + "\n\n"

        var workers = TextTable("worker", "host", "pid", "state", "heartbeat", "jobs in hand")
        for try await (id, host, pid, name, age, inHand) in try await client.query(
            """
            SELECT id, host, pid, state, to_char(heartbeat_age, 'HH24:MI:SS'), jobs_in_hand
            FROM tuku.worker_status WHERE state IN ('running', 'stopping', 'lost') ORDER BY id
            """, logger: logger
        ).decode((Int64, String, Int32, String, String, Int64).self) {
            workers.append(["\(id)", host, "\(pid)", name == "lost" ? paint(name, "31") : name, age, "\(inHand)"])
        }
        out += paint("Workers", "1") + "\n" + (workers.rows.isEmpty ? "(none running)" : workers.render()) + "\n\n"

        var attention = TextTable("job", "kind", "tenant", "state", "why", "error")
        for try await (id, kind, tenant, name, reason, error) in try await client.query(
            """
            SELECT id, kind, tenant, state, reason, coalesce(error_code || ': ' || left(error_message, 60), '')
            FROM tuku.jobs_needing_attention ORDER BY since DESC NULLS LAST LIMIT 10
            """, logger: logger
        ).decode((Int64, String, String, String, String, String).self) {
            attention.append(["\(id)", kind, tenant, state(name), reason, error])
        }
        out += paint("Needs attention", "1") + "\n" + (attention.rows.isEmpty ? "(nothing)" : attention.render())
        return out
    }
}
