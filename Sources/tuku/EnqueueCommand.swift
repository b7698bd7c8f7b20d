import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TukuCore
import TukuIRD
import TukuPostgres

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Load jobs from a JSON Lines file, one job per line.",
        discussion: """
            Each line: {"kind": "...", "tenant": "...", "payload": {...}} with optional "idempotency_key", \
            "priority", "run_at" and "max_attempts". Valid lines are inserted in batches; each invalid line is \
            reported with its number and reason and skipped. Exits 2 when any line was rejected.

            With --validate, the payload of every ird.* line is also checked as a worker would check it (IRD \
            numbers, amounts, dates, codes, unknown keys; an unknown ird.* kind), and a line with problems is \
            reported with every problem and not inserted. --dry-run checks the same and inserts nothing.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The JSON Lines file, or - for standard input.")
    var file: String

    @Option(name: .customLong("batch-size"), help: "Rows per INSERT statement.")
    var batchSize: Int = 1000

    @Flag(name: .customLong("no-progress"), help: "Never draw the progress bar.")
    var noProgress = false

    @Flag(
        name: .customLong("validate"),
        help: "Check the payload of every ird.* line as a worker would, and insert only those without problems.")
    var validatesPayloads = false

    @Flag(name: .customLong("dry-run"), help: "Check every line as --validate does, and insert nothing.")
    var dryRun = false

    func validate() throws {
        guard (1...10_000).contains(self.batchSize) else { throw ValidationError("--batch-size must be from 1 to 10000") }
    }

    func run() async throws {
        let data: Data
        do {
            data = self.file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: self.file))
        } catch {
            throw ValidationError("cannot read \(self.file): \(error.localizedDescription)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let progress = Progress(total: lines.count, enabled: !self.noProgress && isatty(STDERR_FILENO) == 1)
        let batchSize = self.batchSize
        let started = ContinuousClock.now
        let summary = try await self.database.withClient(label: "tuku.enqueue", maximumConnections: 4) { client, logger in
            let loader = Loader(
                queue: JobQueue(client: client, logger: logger), progress: progress, validatesPayloads: self.validatesPayloads || self.dryRun,
                inserts: !self.dryRun)
            return try await loader.load(lines: lines, batchSize: batchSize)
        }
        progress.finish()
        let elapsed = ContinuousClock.now - started
        for failure in summary.failures.sorted(by: { $0.line < $1.line }) {
            FileHandle.standardError.write(Data("line \(failure.line): \(failure.error)\n".utf8))
        }
        let seconds = max(elapsed.inSeconds, 1e-9)
        if self.dryRun {
            print("Checked \(summary.checked) jobs: \(summary.failures.count) lines with problems; nothing was inserted (--dry-run).")
            if !summary.failures.isEmpty { throw ExitCode(2) }
            return
        }
        print(
            "Enqueued \(summary.inserted) jobs (\(summary.duplicates) duplicates skipped, \(summary.failures.count) lines rejected) "
                + "in \(String(format: "%.2f", seconds)) s, \(Int(Double(summary.inserted + summary.duplicates) / seconds)) rows/s.")
        if !summary.failures.isEmpty { throw ExitCode(2) }
    }
}

/// Parses lines and inserts them in batches, a few batches in flight at once.
struct Loader: Sendable {
    struct Failure: Sendable {
        var line: Int
        var error: String
    }

    struct Summary: Sendable {
        var inserted = 0
        var duplicates = 0
        /// Lines whose payload passed the check (with `validatesPayloads`).
        var checked = 0
        var failures: [Failure] = []
    }

    let queue: JobQueue
    let progress: Progress
    /// Check each `ird.*` payload as a worker would before inserting it.
    var validatesPayloads = false
    /// Insert the lines (false for a dry run).
    var inserts = true
    var inFlight = 3

    func load(lines: [Substring], batchSize: Int) async throws -> Summary {
        var summary = Summary()
        try await withThrowingTaskGroup(of: Summary.self) { group in
            var running = 0
            var batch: [(number: Int, job: JobLine)] = []
            func flush() async throws {
                let current = batch
                batch.removeAll(keepingCapacity: true)
                if running == self.inFlight, let done = try await group.next() {
                    summary.merge(done)
                    running -= 1
                }
                group.addTask { try await self.insert(current) }
                running += 1
            }
            for (index, raw) in lines.enumerated() {
                let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
                if line.allSatisfy(\.isWhitespace) {
                    self.progress.advance(by: 1)
                    continue
                }
                do throws(JobError) {
                    batch.append((index + 1, try JobLine.parse(line)))
                } catch {
                    summary.failures.append(Failure(line: index + 1, error: error.description))
                    self.progress.advance(by: 1)
                }
                if batch.count == batchSize { try await flush() }
            }
            if !batch.isEmpty { try await flush() }
            for try await done in group { summary.merge(done) }
        }
        return summary
    }

    /// Inserts one batch; if the server refuses it, inserts its lines one at a time so that only the bad
    /// lines are reported and every good line still lands.
    private func insert(_ batch: [(number: Int, job: JobLine)]) async throws -> Summary {
        var summary = Summary()
        var batch = batch
        if self.validatesPayloads {
            let rejected = try await self.payloadProblems(batch)
            summary.failures = rejected
            let refused = Set(rejected.map(\.line))
            batch.removeAll { refused.contains($0.number) }
            summary.checked = batch.count
            self.progress.advance(by: refused.count)
        }
        guard self.inserts, !batch.isEmpty else {
            self.progress.advance(by: batch.count)
            return summary
        }
        do {
            let result = try await self.queue.enqueue(batch.map(\.job))
            summary.inserted = result.inserted
            summary.duplicates = result.duplicates
        } catch let error where QueueError.serverMessage(error) != nil {
            for (number, job) in batch {
                do {
                    let result = try await self.queue.enqueue([job])
                    summary.inserted += result.inserted
                    summary.duplicates += result.duplicates
                } catch let lineError where QueueError.serverMessage(lineError) != nil {
                    summary.failures.append(Failure(line: number, error: QueueError.serverMessage(lineError)!))
                }
            }
        }
        self.progress.advance(by: batch.count)
        return summary
    }
}

extension Loader {
    /// The `ird.*` lines whose payloads a worker would reject, with every problem. Payloads are read back
    /// through PostgreSQL's `jsonb`, so the check sees exactly the text a worker will decode.
    func payloadProblems(_ batch: [(number: Int, job: JobLine)]) async throws -> [Failure] {
        let gatewayLines = batch.filter { $0.job.kind.hasPrefix("ird.") }
        let payloads = try await self.queue.storedPayloads(of: gatewayLines.map(\.job))
        var failures: [Failure] = []
        for ((number, job), payload) in zip(gatewayLines, payloads) {
            do {
                _ = try IRDJobPayload.decodeValidated(kind: job.kind, from: Data(payload.utf8))
            } catch {
                let problems = error.problems.map(\.description)
                let detail = problems.isEmpty ? "" : ": " + problems.joined(separator: "; ")
                failures.append(Failure(line: number, error: "payload refused (\(error.reason))\(detail)"))
            }
        }
        return failures
    }
}

extension Loader.Summary {
    mutating func merge(_ other: Loader.Summary) {
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.checked += other.checked
        self.failures += other.failures
    }
}
