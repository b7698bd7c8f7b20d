import Foundation
import Logging
import PostgresNIO
import TukuCore

/// The queue driver: every statement the workers and the enqueue command run against `tuku.jobs`.
///
/// Each method is one round trip with bound parameters. Acks are fenced by the lease token handed out at
/// claim time, so a worker whose lease was taken over can no longer finish or fail the job.
public struct JobQueue: Sendable {
    /// The channel `tuku.jobs` inserts notify.
    public static let notificationChannel = "tuku_jobs"

    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Workers

    /// Records a starting worker process and returns its id, the owner recorded on its leases.
    public func registerWorker(host: String, pid: Int, version: String, concurrency: Int) async throws -> Int64 {
        let rows = try await self.client.query(
            """
            INSERT INTO tuku.workers (host, pid, version, concurrency)
            VALUES (\(host), \(Int32(clamping: pid)), \(version), \(Int32(clamping: concurrency)))
            RETURNING id
            """, logger: self.logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw QueueError(.queryFailed, "registering the worker returned no id")
    }

    /// Marks a worker `stopping` (no longer claiming) or `stopped` (gone, leases released).
    public func setWorkerState(_ workerID: Int64, stopped: Bool) async throws {
        if stopped {
            try await self.client.execute(
                "UPDATE tuku.workers SET state = 'stopped', stopped_at = now(), heartbeat_at = now() WHERE id = \(workerID)",
                logger: self.logger)
        } else {
            try await self.client.execute(
                "UPDATE tuku.workers SET state = 'stopping', heartbeat_at = now() WHERE id = \(workerID) AND state = 'running'",
                logger: self.logger)
        }
    }

    /// Records the worker's heartbeat and extends the lease of every job it holds. Returns how many leases
    /// were extended.
    @discardableResult
    public func heartbeat(workerID: Int64, lease: Duration) async throws -> Int {
        let rows = try await self.client.query(
            """
            WITH beat AS (
                UPDATE tuku.workers SET heartbeat_at = now() WHERE id = \(workerID)
            ), extended AS (
                UPDATE tuku.jobs j SET lease_expires_at = now() + make_interval(secs => \(lease.inSeconds))
                FROM (
                    -- Skips rows an ack holds locked instead of waiting (see the other heartbeat).
                    SELECT id FROM tuku.jobs WHERE lease_owner = \(workerID) AND state = 'running'
                    ORDER BY id FOR NO KEY UPDATE SKIP LOCKED
                ) held
                WHERE j.id = held.id
                RETURNING 1
            )
            SELECT count(*)::int8 FROM extended
            """, logger: self.logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    // MARK: Claim and ack

    /// The byte budget a claim uses unless told otherwise: 16 MiB of payload (four payloads at the 4 MiB
    /// `max_payload_bytes` default).
    public static let defaultClaimByteBudget = 16 << 20

    /// Claims up to `limit` ready jobs for `workerID` in one statement, in priority, run_at, id order,
    /// skipping rows other workers hold locked. Each claimed job gets a fresh lease token.
    ///
    /// The claim stops adding jobs once their payloads (`octet_length(payload::text)`, kept in
    /// `tuku.jobs.payload_bytes`) would pass `byteBudget`; it always takes the first ready job, whatever its size,
    /// so a job larger than the budget still runs. Candidates the budget leaves behind are locked only for the
    /// statement and stay ready for the next claim.
    public func claim(
        workerID: Int64, limit: Int, lease: Duration, kinds: KindFilter = .all, byteBudget: Int = JobQueue.defaultClaimByteBudget
    ) async throws -> [ClaimedJob] {
        try await self.claimBatch(workerID: workerID, limit: limit, lease: lease, kinds: kinds, byteBudget: byteBudget).jobs
    }

    /// ``claim(workerID:limit:lease:kinds:byteBudget:)``, also saying whether the byte budget left ready jobs
    /// behind: a worker then claims again at once, as after a full batch.
    public func claimBatch(
        workerID: Int64, limit: Int, lease: Duration, kinds: KindFilter = .all, byteBudget: Int = JobQueue.defaultClaimByteBudget
    ) async throws -> (jobs: [ClaimedJob], budgetReached: Bool) {
        let rows = try await self.client.query(
            """
            WITH ready AS MATERIALIZED (
                SELECT id, priority, run_at, coalesce(payload_bytes, octet_length(payload::text)) AS bytes FROM tuku.jobs r
                WHERE state IN ('available', 'scheduled', 'retryable') AND run_at <= now()
                  AND (\(kinds.isAll) OR kind = ANY(\(kinds.handled)::text[]) OR NOT kind = ANY(\(kinds.known)::text[]))
                  -- Paused kinds and tenants wait. The first test runs once per statement, so without pauses the
                  -- claim pays nothing per row.
                  AND (NOT (SELECT EXISTS (SELECT FROM tuku.pauses)) OR NOT EXISTS (
                      SELECT FROM tuku.pauses p
                      WHERE (p.kind IS NULL OR p.kind = r.kind) AND (p.tenant IS NULL OR p.tenant = r.tenant)))
                ORDER BY priority, run_at, id
                LIMIT \(Int64(limit))
                FOR UPDATE SKIP LOCKED
            ),
            -- The byte budget: a running sum in claim order over the locked candidates (FOR UPDATE cannot sit
            -- with a window function, hence a second step). The first job always goes; after it, jobs go while
            -- the sum stays within the budget, and the first that would pass it ends the claim.
            budgeted AS (
                SELECT id FROM (
                    SELECT id, row_number() OVER w AS n, sum(bytes) OVER w AS total
                    FROM ready
                    WINDOW w AS (ORDER BY priority, run_at, id ROWS UNBOUNDED PRECEDING)
                ) sized
                WHERE n = 1 OR total <= \(Int64(byteBudget))
            )
            UPDATE tuku.jobs j
            SET state = 'running',
                attempt = j.attempt + 1,
                lease_owner = \(workerID),
                lease_expires_at = now() + make_interval(secs => \(lease.inSeconds)),
                lease_token = nextval('tuku.lease_token_seq'),
                started_at = now()
            FROM budgeted
            WHERE j.id = budgeted.id
            RETURNING j.id, j.kind, j.tenant, j.payload::text, j.attempt, j.max_attempts, j.lease_token, j.last_error->>'code',
                      j.unsettled_since IS NOT NULL, (SELECT count(*) FROM ready) > (SELECT count(*) FROM budgeted)
            """, logger: self.logger)
        var jobs: [ClaimedJob] = []
        var budgetReached = false
        jobs.reserveCapacity(limit)
        for try await (id, kind, tenant, payload, attempt, maxAttempts, token, lastErrorCode, unsettled, leftBehind) in rows.decode(
            (Int64, String, String, String, Int32, Int32, Int64, String?, Bool, Bool).self
        ) {
            budgetReached = leftBehind
            jobs.append(
                ClaimedJob(
                    id: id, kind: kind, tenant: tenant, payload: payload,
                    attempt: Int(attempt), maxAttempts: Int(maxAttempts), leaseToken: token,
                    lastErrorCode: lastErrorCode, mayHaveReachedGateway: unsettled))
        }
        return (jobs, budgetReached)
    }

    /// Which kinds a worker claims.
    public struct KindFilter: Sendable, Hashable {
        var isAll: Bool
        var handled: [String]
        var known: [String]

        /// Every job.
        public static let all = KindFilter(isAll: true, handled: [], known: [])

        /// Jobs of the kinds this worker handles, and jobs of kinds nobody defined (so that they end `rejected`
        /// with a clear error); jobs of defined kinds this worker is not configured for wait for one that is.
        public static func handling(_ handled: [String], known: [String]) -> KindFilter {
            KindFilter(isAll: false, handled: handled, known: known)
        }
    }

    /// Applies a batch of acks in one statement and appends one `tuku.attempts` row for each accepted ack.
    ///
    /// The job's next state, whether the run counted an attempt, and what becomes of `unsettled_since` come from
    /// `tuku.job_transitions` (docs/job-states.md), matched on the outcome, a cancel request, whether this was
    /// the last attempt, and whether the next run is due now.
    ///
    /// An ack is accepted only while the job is still `running` under the same lease token. Returns the ids
    /// of the jobs whose ack was accepted; the others had been taken over (for example, rescued after the
    /// lease expired) and are left as they are.
    @discardableResult
    public func acknowledge(_ acks: [JobAck], workerID: Int64) async throws -> Set<Int64> {
        guard !acks.isEmpty else { return [] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var ids: [Int64] = [], tokens: [Int64] = [], outcomes: [String] = [], errors: [String] = []
        var delays: [Double] = [], startedAt: [Date] = [], settlements: [String] = [], results: [String] = []
        var exchanges = ExchangeColumns()
        for ack in acks {
            ids.append(ack.jobID)
            tokens.append(ack.leaseToken)
            outcomes.append(ack.outcome.name)
            errors.append(try ack.outcome.error.map { String(decoding: try encoder.encode($0), as: UTF8.self) } ?? "")
            delays.append(ack.outcome.delay.map(\.inSeconds) ?? -1)
            startedAt.append(ack.startedAt)
            settlements.append(ack.settlement.rawValue)
            results.append(ack.result ?? "")
            for exchange in ack.exchanges {
                try exchanges.append(exchange, jobID: ack.jobID, encoder: encoder)
            }
        }
        let rows = try await self.client.query(
            """
            WITH input AS (
                SELECT * FROM unnest(
                    \(ids)::int8[], \(tokens)::int8[], \(outcomes)::text[], \(errors)::text[],
                    \(delays)::float8[], \(startedAt)::timestamptz[], \(settlements)::text[], \(results)::text[]
                ) AS i(id, lease_token, outcome, error, delay, started_at, settlement, result)
            ), resolved AS (
                SELECT i.id, i.lease_token, i.outcome, i.started_at, i.settlement,
                       NULLIF(i.error, '')::jsonb AS error, NULLIF(i.result, '')::jsonb AS result,
                       CASE WHEN i.delay >= 0 THEN now() + make_interval(secs => i.delay) END AS retry_at
                FROM input i
            ), acked AS (
                UPDATE tuku.jobs j
                SET state = t.to_state,
                    -- Throttled runs and released leases give their attempt back.
                    attempt = j.attempt + t.attempt_change,
                    run_at = coalesce(r.retry_at, CASE WHEN r.outcome = 'released' THEN now() ELSE j.run_at END),
                    last_error = coalesce(r.error, j.last_error),
                    unsettled_since = CASE
                        WHEN t.gateway = 'set' OR (t.gateway = 'reported' AND r.settlement = 'unsettled')
                            THEN coalesce(j.unsettled_since, j.started_at, now())
                        WHEN t.gateway = 'reported' AND r.settlement = 'settled' THEN NULL
                        ELSE j.unsettled_since
                    END,
                    -- What the job produced for upstream, kept only when it succeeded (tuku.jobs.result).
                    result = CASE WHEN t.to_state = 'succeeded' THEN r.result ELSE j.result END,
                    finished_at = CASE WHEN t.to_state IN ('succeeded', 'rejected', 'dead', 'cancelled') THEN now() END,
                    lease_owner = NULL,
                    lease_expires_at = NULL,
                    lease_token = NULL
                FROM resolved r JOIN tuku.job_transitions t ON t.event = r.outcome
                WHERE j.id = r.id AND j.lease_token = r.lease_token AND j.state = 'running'
                  AND t.from_state = j.state
                  AND (t.cancel_requested IS NULL OR t.cancel_requested = (j.cancel_requested_at IS NOT NULL))
                  AND (t.last_attempt IS NULL OR t.last_attempt = (j.attempt >= j.max_attempts))
                  AND (t.due IS NULL OR t.due = (coalesce(r.retry_at, now()) <= now()))
                RETURNING j.id, j.state, j.attempt - t.attempt_change AS ran_as
            ), recorded AS (
                INSERT INTO tuku.attempts (job_id, attempt, worker_id, started_at, outcome, resulting_state, error, retry_at)
                SELECT a.id, a.ran_as, \(workerID), r.started_at, r.outcome, a.state, r.error,
                       CASE WHEN a.state IN ('retryable', 'scheduled', 'available') THEN r.retry_at END
                FROM acked a JOIN resolved r ON r.id = a.id
                RETURNING id, job_id, attempt
            ), exchanged AS (
                INSERT INTO tuku.exchanges (
                    job_id, attempt_id, attempt, purpose, endpoint, action, started_at, latency_ms, http_status,
                    transport_error, gateway_status, fault, gateway_id, submission_key, outcome, request_body, response_body,
                    response_body_bytes, receipt)
                SELECT e.job_id, rec.id, rec.attempt, e.purpose, e.endpoint, e.action, e.started_at,
                       NULLIF(e.latency_ms, -1), NULLIF(e.http_status, -1), NULLIF(e.transport_error, ''),
                       e.gateway_status::jsonb, NULLIF(e.fault, '')::jsonb, NULLIF(e.gateway_id, ''),
                       NULLIF(e.submission_key, -1), e.outcome,
                       CASE WHEN e.has_request THEN e.request_body END, CASE WHEN e.has_response THEN e.response_body END,
                       -- The exact reply, hex-encoded here, when it is not valid UTF-8 ('' otherwise).
                       CASE WHEN e.response_hex <> '' THEN decode(e.response_hex, 'hex') END,
                       NULLIF(e.receipt, '')::jsonb
                FROM unnest(
                    \(exchanges.jobIDs)::int8[], \(exchanges.purposes)::text[], \(exchanges.endpoints)::text[],
                    \(exchanges.actions)::text[], \(exchanges.startedAt)::timestamptz[], \(exchanges.latencies)::float8[],
                    \(exchanges.httpStatuses)::int4[], \(exchanges.transportErrors)::text[], \(exchanges.statuses)::text[],
                    \(exchanges.faults)::text[], \(exchanges.gatewayIDs)::text[], \(exchanges.submissionKeys)::int8[],
                    \(exchanges.outcomes)::text[], \(exchanges.hasRequest)::bool[], \(exchanges.requestBodies)::text[],
                    \(exchanges.hasResponse)::bool[], \(exchanges.responseBodies)::text[], \(exchanges.responseHex)::text[],
                    \(exchanges.receipts)::text[]
                ) WITH ORDINALITY AS e(job_id, purpose, endpoint, action, started_at, latency_ms, http_status, transport_error,
                                       gateway_status, fault, gateway_id, submission_key, outcome, has_request, request_body,
                                       has_response, response_body, response_hex, receipt, ordinal)
                JOIN recorded rec ON rec.job_id = e.job_id
                ORDER BY e.ordinal
            )
            SELECT id FROM acked
            """,
            logger: self.logger
        )
        var accepted = Set<Int64>()
        for try await id in rows.decode(Int64.self) { accepted.insert(id) }
        if accepted.count < acks.count {
            self.logger.warning(
                "Acks refused: leases were taken over",
                metadata: [
                    "worker.id": "\(workerID)", "acks.refused": "\(acks.count - accepted.count)",
                ])
        }
        return accepted
    }

    /// Returns jobs whose lease expired (their worker died or stalled) to the queue as `tuku.job_transitions`
    /// says for `lease_expired` (retryable, dead on the last attempt, cancelled when a cancel was requested;
    /// `unsettled_since` set, since the worker may have died mid-call), recording why, and
    /// marks workers that stopped heartbeating as `lost`. Only one rescuer runs at a time across the fleet
    /// (a transaction-scoped advisory lock); the others skip. Returns the ids of the jobs rescued.
    public func rescueExpiredLeases(workerLostAfter: Duration) async throws -> [Int64] {
        let rows = try await self.client.query(
            """
            WITH lock AS MATERIALIZED (
                SELECT pg_try_advisory_xact_lock(\(Self.rescuerLockKey)) AS held
            ), lost_workers AS (
                UPDATE tuku.workers SET state = 'lost', stopped_at = now()
                WHERE (SELECT held FROM lock) AND state IN ('running', 'stopping')
                  AND heartbeat_at < now() - make_interval(secs => \(workerLostAfter.inSeconds))
            ), expired AS (
                SELECT id, lease_owner, lease_expires_at, started_at FROM tuku.jobs
                WHERE (SELECT held FROM lock) AND state = 'running' AND lease_expires_at < now()
                FOR UPDATE SKIP LOCKED
            ), rescued AS (
                UPDATE tuku.jobs j
                SET state = t.to_state,
                    attempt = j.attempt + t.attempt_change,
                    finished_at = CASE WHEN t.to_state IN ('succeeded', 'rejected', 'dead', 'cancelled') THEN now() END,
                    run_at = now(),
                    unsettled_since = CASE
                        WHEN t.gateway = 'set' THEN coalesce(j.unsettled_since, j.started_at, now()) ELSE j.unsettled_since
                    END,
                    last_error = jsonb_build_object(
                        'code', 'lease_expired',
                        'message', format('worker %s stopped renewing its lease, which expired at %s; the job was put back',
                                          e.lease_owner, e.lease_expires_at)),
                    lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL
                FROM expired e, tuku.job_transitions t
                WHERE j.id = e.id AND t.event = 'lease_expired' AND t.from_state = j.state
                  AND (t.cancel_requested IS NULL OR t.cancel_requested = (j.cancel_requested_at IS NOT NULL))
                  AND (t.last_attempt IS NULL OR t.last_attempt = (j.attempt >= j.max_attempts))
                  AND (t.due IS NULL OR t.due)
                RETURNING j.id, j.attempt - t.attempt_change AS attempt, j.state, j.last_error
            ), recorded AS (
                INSERT INTO tuku.attempts (job_id, attempt, worker_id, started_at, outcome, resulting_state, error, retry_at)
                SELECT r.id, r.attempt, e.lease_owner, coalesce(e.started_at, now()), 'lease_expired', r.state, r.last_error,
                       CASE WHEN r.state IN ('retryable', 'scheduled', 'available') THEN now() END
                FROM rescued r JOIN expired e ON e.id = r.id
            ), swept AS (
                -- Pacing reservations of calls whose job is no longer running (their worker died mid-call).
                DELETE FROM tuku.rate_limit_calls c
                WHERE (SELECT held FROM lock)
                  AND NOT EXISTS (SELECT 1 FROM tuku.jobs j WHERE j.id = c.job_id AND j.state = 'running')
            )
            SELECT id FROM rescued
            """, logger: self.logger)
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids
    }

    /// What one batch of the retention sweep removed.
    public struct RetentionSweep: Sendable, Hashable {
        /// Exchanges whose request and response bodies were removed.
        public var bodiesRemoved: Int
        /// Finished jobs whose payload was replaced by `{}`.
        public var payloadsRemoved: Int
        /// Finished jobs deleted with their attempts and exchanges.
        public var jobsPruned: Int

        /// A sweep's counts (all zero by default, as an accumulator starts).
        public init(bodiesRemoved: Int = 0, payloadsRemoved: Int = 0, jobsPruned: Int = 0) {
            self.bodiesRemoved = bodiesRemoved
            self.payloadsRemoved = payloadsRemoved
            self.jobsPruned = jobsPruned
        }

        /// Whether the batch found nothing to do (or another worker holds the sweep).
        public var isEmpty: Bool { self.bodiesRemoved == 0 && self.payloadsRemoved == 0 && self.jobsPruned == 0 }
    }

    /// Runs one batch of `tuku.sweep_retention()`: bodies and payloads past their retention are removed (the
    /// metadata kept), and finished jobs past theirs are deleted. Only one worker in the fleet sweeps at a
    /// time; for the others this returns an empty sweep.
    public func sweepRetention(batch: Int = 10_000) async throws -> RetentionSweep {
        let rows = try await self.client.query(
            "SELECT bodies_removed, payloads_removed, jobs_pruned FROM tuku.sweep_retention(\(Int32(clamping: batch)))",
            logger: self.logger)
        var sweep = RetentionSweep()
        for try await (bodies, payloads, jobs) in rows.decode((Int32?, Int32?, Int32?).self) {
            sweep = RetentionSweep(
                bodiesRemoved: Int(bodies ?? 0), payloadsRemoved: Int(payloads ?? 0), jobsPruned: Int(jobs ?? 0))
        }
        return sweep
    }

    /// `hashtext('tuku.rescuer')` fixed as a constant.
    static let rescuerLockKey: Int64 = 0x7475_6B75_7265_7363  // "tukuresc"

    /// When the earliest waiting job that is not paused becomes ready, if any is waiting.
    public func nextRunAt() async throws -> Date? {
        let rows = try await self.client.query(
            """
            SELECT min(run_at) FROM tuku.jobs r
            WHERE state IN ('available', 'scheduled', 'retryable')
              AND NOT EXISTS (
                  SELECT FROM tuku.pauses p
                  WHERE (p.kind IS NULL OR p.kind = r.kind) AND (p.tenant IS NULL OR p.tenant = r.tenant))
            """, logger: self.logger)
        for try await next in rows.decode(Date?.self) { return next }
        return nil
    }

    // MARK: Enqueue

    /// How a batch of enqueued lines fared.
    public struct EnqueueResult: Sendable, Hashable {
        /// Rows inserted.
        public var inserted: Int
        /// Lines skipped because the tenant already has a job with that idempotency key.
        public var duplicates: Int
    }

    /// The `payload` of each line as PostgreSQL will store it (`(line::jsonb)->'payload'` as text), in order: the
    /// very text a worker later decodes, so that a check made on it now agrees with the worker's.
    public func storedPayloads(of lines: [JobLine]) async throws -> [String] {
        guard !lines.isEmpty else { return [] }
        let rows = try await self.client.query(
            """
            SELECT (line::jsonb -> 'payload')::text FROM unnest(\(lines.map(\.json))::text[]) WITH ORDINALITY AS l(line, n)
            ORDER BY n
            """, logger: self.logger)
        var payloads: [String] = []
        payloads.reserveCapacity(lines.count)
        for try await payload in rows.decode(String.self) { payloads.append(payload) }
        return payloads
    }

    /// Inserts a batch of parsed lines in one multi-row `INSERT`. Fields a line leaves out take the table's
    /// defaults (`DEFAULT`), so defaults live in one place. Lines whose (tenant, idempotency key) already
    /// exists are skipped, not errors.
    public func enqueue(_ lines: [JobLine]) async throws -> EnqueueResult {
        guard !lines.isEmpty else { return EnqueueResult(inserted: 0, duplicates: 0) }
        var sql = "INSERT INTO tuku.jobs (kind, tenant, payload, idempotency_key, priority, run_at, max_attempts) VALUES "
        sql.reserveCapacity(lines.count * 96)
        var binds = PostgresBindings(capacity: lines.count * 5)
        var parameter = 0
        func next() -> String {
            parameter += 1
            return "$\(parameter)"
        }
        for (index, line) in lines.enumerated() {
            if index > 0 { sql += "," }
            binds.append(line.kind)
            binds.append(line.tenant)
            binds.append(line.json)
            binds.append(line.idempotencyKey)
            sql += "(\(next()),\(next()),(\(next())::jsonb)->'payload',\(next()),"
            if let priority = line.priority {
                binds.append(Int16(priority))
                sql += "\(next()),"
            } else {
                sql += "DEFAULT,"
            }
            if let runAt = line.runAt {
                binds.append(runAt)
                sql += "\(next()),"
            } else {
                sql += "DEFAULT,"
            }
            if let maxAttempts = line.maxAttempts {
                binds.append(Int32(maxAttempts))
                sql += "\(next()))"
            } else {
                sql += "DEFAULT)"
            }
        }
        sql += " ON CONFLICT DO NOTHING RETURNING id"
        let rows = try await self.client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: self.logger)
        var inserted = 0
        for try await _ in rows.decode(Int64.self) { inserted += 1 }
        return EnqueueResult(inserted: inserted, duplicates: lines.count - inserted)
    }
}

/// `tuku.exchanges` rows as parallel arrays for `unnest`, NULLs carried as sentinels (arrays of optionals do not
/// bind).
private struct ExchangeColumns {
    var jobIDs: [Int64] = [], purposes: [String] = [], endpoints: [String] = [], actions: [String] = []
    var startedAt: [Date] = [], latencies: [Double] = [], httpStatuses: [Int32] = [], transportErrors: [String] = []
    var statuses: [String] = [], faults: [String] = [], gatewayIDs: [String] = [], submissionKeys: [Int64] = []
    var outcomes: [String] = [], hasRequest: [Bool] = [], requestBodies: [String] = [], hasResponse: [Bool] = []
    var responseBodies: [String] = [], responseHex: [String] = [], receipts: [String] = []

    mutating func append(_ exchange: ExchangeRecord, jobID: Int64, encoder: JSONEncoder) throws {
        self.jobIDs.append(jobID)
        self.purposes.append(exchange.purpose.description)
        self.endpoints.append(exchange.endpoint)
        self.actions.append(exchange.action)
        self.startedAt.append(exchange.startedAt)
        self.latencies.append(exchange.latency.map { $0.inSeconds * 1000 } ?? -1)
        self.httpStatuses.append(exchange.httpStatus.map { Int32(clamping: $0) } ?? -1)
        self.transportErrors.append(exchange.transportError ?? "")
        self.statuses.append(String(decoding: try encoder.encode(exchange.statuses), as: UTF8.self))
        self.faults.append(try exchange.fault.map { String(decoding: try encoder.encode($0), as: UTF8.self) } ?? "")
        self.gatewayIDs.append(exchange.gatewayID ?? "")
        self.submissionKeys.append(exchange.submissionKey ?? -1)
        self.outcomes.append(exchange.outcome)
        self.hasRequest.append(exchange.requestBody != nil)
        self.requestBodies.append(exchange.requestBody ?? "")
        self.hasResponse.append(exchange.responseBody != nil)
        self.responseBodies.append(exchange.responseBody ?? "")
        self.responseHex.append(exchange.responseBodyBytes.map(Self.hex) ?? "")
        self.receipts.append(exchange.receipt ?? "")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            digits.append(Self.hexDigits[Int(byte >> 4)])
            digits.append(Self.hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
