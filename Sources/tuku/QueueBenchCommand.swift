import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TukuCore
import TukuPostgres

/// `tuku bench queue`: the queue's own speed on this machine, printed as figures (no pass/fail).
struct QueueBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Measure drain rate, bulk enqueue, insert-to-claim latency and worker memory; then again with finished history.",
        discussion: """
            Creates a scratch database on the server named by --database-url / TUKU_DATABASE_URL (the role needs \
            CREATEDB), runs real `tuku worker` processes against it, and drops it at the end. Use a release build \
            for representative figures (scripts/bench does).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "No-op jobs drained per run.")
    var jobs: Int = 100_000

    @Option(name: .customLong("enqueue-rows"), help: "Rows loaded through the enqueue path per run.")
    var enqueueRows: Int = 200_000

    @Option(name: .customLong("latency-samples"), help: "Single inserts timed to their claim on an idle queue.")
    var latencySamples: Int = 400

    @Option(
        help: ArgumentHelp(
            "Finished jobs (with one attempt row each) in the table for each round after the first; repeat for more rounds (cumulative totals, e.g. --history 10000 --history 10000000); 0 skips it."))
    var history: [Int] = [1_000_000]

    @Option(help: "Worker process counts to drain with.")
    var processes: [Int] = [1, 2]

    @Option(help: "--concurrency given to each worker in the tuned drains.")
    var concurrency: Int = 2000

    @Option(name: .customLong("claim-batch"), help: "--claim-batch given to each worker in the tuned drains.")
    var claimBatch: Int = 500

    @Option(
        name: .customLong("worker-settings"),
        help: "Which worker flags to drain with: default (`tuku worker` as it comes), tuned (--concurrency/--claim-batch above), or both.")
    var workerSettings: WorkerSettingsChoice = .both

    enum WorkerSettingsChoice: String, ExpressibleByArgument, Sendable {
        case `default`, tuned, both
    }

    /// The worker flag sets to drain with, in order.
    var drainSettings: [QueueBench.WorkerSettings] {
        switch self.workerSettings {
        case .default: [.default]
        case .tuned: [.tuned(concurrency: self.concurrency, claimBatch: self.claimBatch)]
        case .both: [.default, .tuned(concurrency: self.concurrency, claimBatch: self.claimBatch)]
        }
    }

    func run() async throws {
        let serverURL = try self.serverURL()
        let logger = self.database.makeLogger("tuku.bench")
        let name = "tuku_bench_\(getpid())"
        let admin = try PostgresClient.Configuration(url: serverURL)
        try await Self.withClient(admin, logger: logger) { client in
            try await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name)"), logger: logger)
            try await client.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var components = URLComponents(string: serverURL)!
        components.path = "/\(name)"
        let benchURL = components.string!
        defer {
            // Best effort: the scratch database goes even when a phase failed.
            let semaphore = DispatchSemaphore(value: 0)
            Task {
                try? await Self.withClient(admin, logger: logger) { client in
                    try await client.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
                }
                semaphore.signal()
            }
            semaphore.wait()
        }
        var configuration = try PostgresClient.Configuration(url: benchURL)
        configuration.options.maximumConnections = 8
        try await Self.withClient(configuration, logger: logger) { client in
            try await Migrator(client: client, logger: logger).migrate()
            let bench = QueueBench(client: client, url: benchURL, logger: logger, command: self)
            print(Self.machine())
            let settings = try await DatabaseSettings.read(from: client, logger: logger)
            print(
                "database: \(settings) (\(settings.isDurable ? "durable: commits survive a crash" : "NOT durable: a crash may lose commits"))")
            for worker in self.drainSettings { print("workers, \(worker.label): tuku worker \(worker.arguments.joined(separator: " "))") }
            print("")
            var rounds: [(label: String, figures: QueueBench.Figures)] = []
            rounds.append(("empty history", try await bench.round()))
            var present = 0
            for total in self.history where total > present {
                print("... adding \(total - present) finished jobs with attempt rows (\(total) in all)")
                try await bench.addHistory(from: present + 1, through: total)
                present = total
                rounds.append(("\(total) finished jobs", try await bench.round()))
            }
            print("")
            print(QueueBench.report(rounds, jobs: self.jobs, enqueueRows: self.enqueueRows, samples: self.latencySamples))
        }
    }

    private func serverURL() throws -> String {
        try self.database.url()
    }

    static func withClient<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        try await PostgresClient.withRunning(configuration: configuration, backgroundLogger: logger, body)
    }

    static func machine() -> String {
        let cpu =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let load =
            (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        #if DEBUG
        let build = "debug build (figures are pessimistic: use a release build)"
        #else
        let build = "release build"
        #endif
        return
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, \(cpu); load \(load); \(build); PostgreSQL on the same machine"
    }
}

/// The measurements behind `tuku bench queue`.
struct QueueBench: Sendable {
    /// The flags the drain's workers run with.
    struct WorkerSettings: Sendable {
        var label: String
        var arguments: [String]

        /// `tuku worker` with its defaults (only quieter logs).
        static let `default` = WorkerSettings(label: "default flags", arguments: ["--log-level", "warning"])

        /// Larger claims and more jobs in hand, fewer connections.
        static func tuned(concurrency: Int, claimBatch: Int) -> WorkerSettings {
            WorkerSettings(
                label: "tuned flags",
                arguments: [
                    "--concurrency", "\(concurrency)", "--claim-batch", "\(claimBatch)", "--max-connections", "8", "--log-level", "warning",
                ])
        }
    }

    struct Figures: Sendable {
        var drain: [(settings: String, processes: Int, jobsPerSecond: Double, peakRSSMegabytes: Double, heapPages: Int64)] = []
        var enqueueRowsPerSecond: Double = 0
        var latencyP50Milliseconds: Double = 0
        var latencyP99Milliseconds: Double = 0
        var claimP50Milliseconds: Double = 0
        var claimP99Milliseconds: Double = 0
        var jobsTableMegabytes: Double = 0
    }

    let client: PostgresClient
    let url: String
    let logger: Logger
    let command: QueueBenchCommand

    func round() async throws -> Figures {
        var figures = Figures()
        figures.enqueueRowsPerSecond = try await self.enqueue()
        for settings in self.command.drainSettings {
            for processes in self.command.processes {
                let (rate, rss, pages) = try await self.drain(processes: processes, settings: settings)
                figures.drain.append((settings.label, processes, rate, rss, pages))
            }
        }
        (figures.latencyP50Milliseconds, figures.latencyP99Milliseconds) = try await self.latency()
        (figures.claimP50Milliseconds, figures.claimP99Milliseconds) = try await self.claimLatency()
        figures.jobsTableMegabytes = try await self.scalar(
            "SELECT pg_total_relation_size('tuku.jobs')::float8 / 1048576", as: Double.self)
        return figures
    }

    /// The claim statement alone, as a worker sends it: single-job claims from 2,000 ready jobs, each timed
    /// in this process (so a loopback round trip is included).
    private func claimLatency() async throws -> (Double, Double) {
        let samples = 1_000
        try await self.client.execute(
            "INSERT INTO tuku.jobs (kind, tenant, payload) SELECT 'noop', 'bench', '{}' FROM generate_series(1, \(2 * samples))",
            logger: self.logger)
        try await self.client.execute("ANALYZE tuku.jobs", logger: self.logger)
        let queue = JobQueue(client: self.client, logger: self.logger)
        let workerID = try await queue.registerWorker(host: "bench", pid: Int(getpid()), version: "bench", concurrency: 1)
        var milliseconds: [Double] = []
        milliseconds.reserveCapacity(samples)
        for _ in 0..<samples {
            let started = ContinuousClock.now
            let claimed = try await queue.claim(workerID: workerID, limit: 1, lease: .seconds(300))
            milliseconds.append((ContinuousClock.now - started).inSeconds * 1000)
            guard claimed.count == 1 else { throw ValidationError("a claim found no ready job") }
        }
        try await self.clearQueue()
        milliseconds.sort()
        return (milliseconds[samples / 2], milliseconds[samples * 99 / 100])
    }

    /// Loads rows through the same parse-and-insert path as `tuku enqueue`.
    private func enqueue() async throws -> Double {
        let lines: [Substring] = (0..<self.command.enqueueRows).map { index in
            Substring(
                #"{"kind":"noop","tenant":"tenant-\#(index % 50)","payload":{"employee":\#(index),"gross":"1234.50"},"idempotency_key":"bench-\#(index)"}"#
            )
        }
        let loader = Loader(
            queue: JobQueue(client: self.client, logger: self.logger), progress: Progress(total: lines.count, enabled: false))
        let started = ContinuousClock.now
        let summary = try await loader.load(lines: lines, batchSize: 1000)
        let seconds = (ContinuousClock.now - started).inSeconds
        guard summary.inserted == lines.count else {
            throw ValidationError("enqueue benchmark inserted \(summary.inserted) of \(lines.count) rows")
        }
        try await self.clearQueue()
        return Double(lines.count) / seconds
    }

    /// Starts worker processes on an empty queue, inserts `jobs` no-op jobs in one statement and measures,
    /// from the database's own timestamps, how fast they are claimed, run and acknowledged.
    private func drain(processes: Int, settings: WorkerSettings) async throws -> (Double, Double, Int64) {
        let workers = try (0..<processes).map { _ in try self.startWorker(settings) }
        defer { self.stop(workers) }
        try await self.waitFor("SELECT count(*) = \(processes) FROM tuku.workers WHERE state = 'running'")
        try await Task.sleep(for: .milliseconds(500))
        try await self.client.execute(
            "INSERT INTO tuku.jobs (kind, tenant, payload) SELECT 'noop', 'bench', '{}' FROM generate_series(1, \(self.command.jobs))",
            logger: self.logger)
        try await self.waitFor(Self.queueIsIdle, timeout: .seconds(600))
        let seconds = try await self.scalar(
            "SELECT extract(epoch FROM max(finished_at) - min(created_at))::float8 FROM tuku.jobs WHERE tenant = 'bench'", as: Double.self)
        // How many table pages the drained jobs ended up on: new jobs go wherever the free space map finds room,
        // and with history that may be one job per old page, each of which the claim and the ack must then read
        // and dirty (see docs/operations.md, Retention).
        let pages = try await self.scalar(
            "SELECT count(DISTINCT (ctid::text::point)[0])::int8 FROM tuku.jobs WHERE tenant = 'bench'", as: Int64.self)
        let attempts = try await self.scalar(
            "SELECT count(*)::int8 FROM tuku.attempts a JOIN tuku.jobs j ON j.id = a.job_id WHERE j.tenant = 'bench'", as: Int64.self)
        guard attempts == Int64(self.command.jobs) else {
            throw ValidationError("drain wrote \(attempts) attempt rows for \(self.command.jobs) jobs")
        }
        let rss = workers.map(\.peakResidentMegabytes).max() ?? 0
        self.stop(workers)
        try await self.waitFor("SELECT count(*) = 0 FROM tuku.workers WHERE state <> 'stopped'")
        try await self.clearQueue()
        return (Double(self.command.jobs) / seconds, rss, pages)
    }

    /// True once no job waits or runs. Polled every 20 ms while workers drain, so it reads only the two small
    /// partial indexes (`jobs_ready_idx`, `jobs_running_idx`): one `state IN (…)` test covering all four states
    /// matches neither index's predicate, and with finished history it became a parallel scan of the whole
    /// table (with JIT) every poll, taking the cores the drain was being measured on.
    static let queueIsIdle: PostgresQuery = """
        SELECT NOT EXISTS (SELECT 1 FROM tuku.jobs WHERE state IN ('available', 'scheduled', 'retryable'))
           AND NOT EXISTS (SELECT 1 FROM tuku.jobs WHERE state = 'running')
        """

    /// Single inserts into an idle queue, each timed from its insert to its claim by the database clock.
    private func latency() async throws -> (Double, Double) {
        let worker = try self.startWorker(self.command.drainSettings.last ?? .default)
        defer { self.stop([worker]) }
        try await self.waitFor("SELECT count(*) = 1 FROM tuku.workers WHERE state = 'running'")
        try await Task.sleep(for: .milliseconds(500))
        for _ in 0..<self.command.latencySamples {
            try await self.client.execute("SELECT tuku.enqueue('noop', 'bench', '{}')", logger: self.logger)
            try await Task.sleep(for: .milliseconds(15))
        }
        try await self.waitFor(Self.queueIsIdle)
        let succeeded = try await self.scalar(
            "SELECT count(*)::int8 FROM tuku.jobs WHERE tenant = 'bench' AND state = 'succeeded'", as: Int64.self)
        guard succeeded == Int64(self.command.latencySamples) else {
            throw ValidationError("latency run finished \(succeeded) of \(self.command.latencySamples) jobs")
        }
        let p50 = try await self.scalar(
            "SELECT (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000)::float8 FROM tuku.jobs WHERE tenant = 'bench'",
            as: Double.self)
        let p99 = try await self.scalar(
            "SELECT (percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000)::float8 FROM tuku.jobs WHERE tenant = 'bench'",
            as: Double.self)
        self.stop([worker])
        try await self.waitFor("SELECT count(*) = 0 FROM tuku.workers WHERE state <> 'stopped'")
        try await self.clearQueue()
        return (p50, p99)
    }

    /// Adds finished jobs and their attempt rows, as months of history would leave them.
    func addHistory(from first: Int, through last: Int) async throws {
        try await self.client.withTransaction(logger: self.logger) { connection in
            // The insert trigger admits only waiting jobs; history is written as it would have ended.
            try await connection.execute("ALTER TABLE tuku.jobs DISABLE TRIGGER jobs_before_insert", logger: self.logger)
            try await connection.execute(
                """
                INSERT INTO tuku.jobs (kind, tenant, payload, idempotency_key, state, attempt, created_at, run_at, started_at, finished_at)
                SELECT 'noop', 'tenant-' || (i % 50), jsonb_build_object('employee', i), 'history-' || i,
                       CASE WHEN i % 100 = 0 THEN 'rejected' ELSE 'succeeded' END, 1,
                       now() - interval '30 days' + i * interval '1 ms', now() - interval '30 days' + i * interval '1 ms',
                       now() - interval '30 days' + i * interval '1 ms', now() - interval '30 days' + i * interval '1 ms' + interval '40 ms'
                FROM generate_series(\(first), \(last)) i
                """, logger: self.logger)
            try await connection.execute("ALTER TABLE tuku.jobs ENABLE TRIGGER jobs_before_insert", logger: self.logger)
            try await connection.execute(
                """
                INSERT INTO tuku.attempts (job_id, attempt, started_at, finished_at, outcome, resulting_state)
                SELECT id, 1, started_at, finished_at, CASE state WHEN 'succeeded' THEN 'succeeded' ELSE 'rejected' END, state
                FROM tuku.jobs WHERE idempotency_key LIKE 'history-%' AND id > (SELECT coalesce(max(job_id), 0) FROM tuku.attempts)
                """, logger: self.logger)
        }
        try await self.client.execute("VACUUM ANALYZE tuku.jobs", logger: self.logger)
        try await self.client.execute("VACUUM ANALYZE tuku.attempts", logger: self.logger)
        // Millions of freshly written rows leave gigabytes to write back: let that finish before measuring, or the
        // round measures the disk. CHECKPOINT needs pg_checkpoint (scripts/lib/postgres.sh grants it); without it
        // the flush is left to the kernel.
        do {
            try await self.client.execute("CHECKPOINT", logger: self.logger)
        } catch {
            print("... CHECKPOINT not permitted (grant pg_checkpoint); the next round may include write-back")
        }
        sync()
        try await Task.sleep(for: .seconds(5))
    }

    /// Removes the waiting and just-finished benchmark jobs, keeping the added history.
    private func clearQueue() async throws {
        try await self.client.execute(
            "DELETE FROM tuku.jobs WHERE idempotency_key IS NULL OR idempotency_key NOT LIKE 'history-%'", logger: self.logger)
        try await self.client.execute("DELETE FROM tuku.workers", logger: self.logger)
        try await self.client.execute("VACUUM ANALYZE tuku.jobs", logger: self.logger)
        try await self.client.execute("VACUUM ANALYZE tuku.attempts", logger: self.logger)
    }

    private func startWorker(_ settings: WorkerSettings) throws -> BenchWorker {
        try BenchWorker(url: self.url, arguments: settings.arguments)
    }

    private func stop(_ workers: [BenchWorker]) {
        for worker in workers { worker.stop() }
    }

    private func waitFor(_ query: PostgresQuery, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !self.scalar(query, as: Bool.self) {
            guard ContinuousClock.now < deadline else { throw ValidationError("timed out waiting for: \(query.sql)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as: Value.Type) async throws -> Value {
        for try await value in try await self.client.query(query, logger: self.logger).decode(Value.self) { return value }
        throw ValidationError("no row from: \(query.sql)")
    }

    static func report(_ rounds: [(label: String, figures: Figures)], jobs: Int, enqueueRows: Int, samples: Int) -> String {
        var table = TextTable("figure", "target")
        table.header += rounds.map(\.label)
        func row(_ name: String, _ target: String, _ value: (Figures) -> String) {
            table.append([name, target] + rounds.map { value($0.figures) })
        }
        let drains = rounds.first?.figures.drain.map { ($0.settings, $0.processes) } ?? []
        for (index, (settings, processes)) in drains.enumerated() {
            row(
                "drain, \(processes) worker process\(processes == 1 ? "" : "es"), \(settings) (no-op jobs/s)",
                processes == 2 && settings.hasPrefix("tuned") ? ">= 20,000" : "",
                { String(format: "%.0f", $0.drain[index].jobsPerSecond) })
        }
        row("table pages holding the drained jobs (last run)", "", { "\($0.drain.last?.heapPages ?? 0)" })
        row("bulk enqueue via tuku enqueue path (rows/s)", ">= 60,000", { String(format: "%.0f", $0.enqueueRowsPerSecond) })
        row("insert-to-claim p50, idle queue (ms)", "<= 3", { String(format: "%.2f", $0.latencyP50Milliseconds) })
        row("insert-to-claim p99, idle queue (ms)", "<= 20", { String(format: "%.2f", $0.latencyP99Milliseconds) })
        row("claim statement p50, 1 job of 2,000 ready (ms)", "", { String(format: "%.2f", $0.claimP50Milliseconds) })
        row("claim statement p99 (ms)", "", { String(format: "%.2f", $0.claimP99Milliseconds) })
        row("tuku.jobs with indexes (MB)", "", { String(format: "%.0f", $0.jobsTableMegabytes) })
        row("worker peak resident memory (MB)", "<= 100", { String(format: "%.0f", $0.drain.map(\.peakRSSMegabytes).max() ?? 0) })
        return table.render() + "\n(\(jobs) jobs per drain run, \(enqueueRows) rows per enqueue run, \(samples) latency samples)"
    }
}

/// A `tuku worker` child process started by the benchmark.
final class BenchWorker: @unchecked Sendable {  // Process is not Sendable; each instance is driven by one task.
    private let process = Process()

    init(url: String, arguments: [String], command: String = "worker", environment extra: [String: String] = [:], output: FileHandle? = nil) throws {
        self.process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        self.process.arguments = [command] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TUKU_DATABASE_URL"] = url
        environment.merge(extra) { _, new in new }
        self.process.environment = environment
        self.process.standardOutput = output ?? FileHandle.nullDevice
        try self.process.run()
    }

    /// The process's peak resident set size (VmHWM), in MB.
    var peakResidentMegabytes: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(self.process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    func stop() {
        guard self.process.isRunning else { return }
        self.process.terminate()  // SIGTERM: graceful shutdown
        self.process.waitUntilExit()
    }
}
