import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TukuCore
import TukuGateway
import TukuPostgres
import TukuWorker

/// One request a gateway handler wants made, without credentials: the paced call adds the bearer token.
public struct GatewayRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    /// Headers such as `Content-Type` and `Accept`; never `Authorization`, which the paced call sets.
    public var headers: HTTPHeaders
    /// The body bytes, in the content type the headers name; `nil` for none (`GET`).
    public var body: [UInt8]?
    /// What the exchange row calls this request (IRD's SOAP action; HMRC's method and path template).
    public var action: String

    public init(method: HTTPMethod, url: String, headers: HTTPHeaders, body: [UInt8]?, action: String) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.action = action
    }
}

/// What a gateway supplies to a paced call besides the request: how its answers are read, classified into a
/// ``GatewayOutcome`` and recorded. `Answer` is the gateway's parsed reply (IRD: a SOAP response or the reason it
/// could not be parsed; HMRC: its JSON).
public struct GatewayDialect<Answer: Sendable>: Sendable {
    /// Reads a reply of any HTTP status.
    public var parse: @Sendable (GatewayHTTPResponse) -> Answer
    /// Turns what came back (or the lack of it) into an outcome, by the gateway's outcome table.
    public var classify: @Sendable (PacedGatewayCall.Exchange<Answer>) -> GatewayOutcome
    /// Copies what the answer says (status codes, ids, receipts) onto the exchange row.
    public var fill: @Sendable (inout ExchangeRecord, Answer) -> Void

    public init(
        parse: @escaping @Sendable (GatewayHTTPResponse) -> Answer,
        classify: @escaping @Sendable (PacedGatewayCall.Exchange<Answer>) -> GatewayOutcome,
        fill: @escaping @Sendable (inout ExchangeRecord, Answer) -> Void
    ) {
        self.parse = parse
        self.classify = classify
        self.fill = fill
    }
}

/// One paced call to a tax gateway for a job, everything between "this request" and "this outcome":
///
/// 1. an access token for the job's tenant and this gateway from the ``TokenStore`` (refreshed first, once
///    fleet-wide, when it is about to expire);
/// 2. a send slot in the fleet-wide pace of the kind's rate-limit key (``RateLimiter/acquire(key:jobID:workerID:connecting:)``);
/// 3. the send, over the gateway's ``GatewayTransport`` with the kind's per-call timeout;
/// 4. the release of the slot with the HTTP status, `Retry-After` and when the request reached the gateway;
/// 5. the exchange row (``JobContext/record(_:)``);
/// 6. classification by the gateway's ``GatewayDialect``, and the settlement report for requests that change
///    something;
/// 7. when the gateway refused the token, one fleet-wide refresh and the call made once more.
///
/// A handler builds requests and interprets outcomes; it never touches tokens, pacing or the transport itself.
/// No database transaction is open across the network call: the token read, the slot and its release are each
/// their own short statement with a deadline.
public struct PacedGatewayCall: Sendable {
    /// What the paced call needs, one set per gateway.
    public struct Dependencies: Sendable {
        /// The gateway whose token sets are used.
        public var gateway: TaxGateway
        public var transport: GatewayTransport
        public var tokens: TokenStore
        /// The gateway's token endpoint.
        public var refresher: any TokenRefresher
        /// Fleet-wide pacing; `nil` sends unpaced.
        public var limiter: RateLimiter?

        public init(
            gateway: TaxGateway, transport: GatewayTransport, tokens: TokenStore, refresher: any TokenRefresher, limiter: RateLimiter?
        ) {
            self.gateway = gateway
            self.transport = transport
            self.tokens = tokens
            self.refresher = refresher
            self.limiter = limiter
        }
    }

    /// What came back from one send.
    public enum Exchange<Answer: Sendable>: Sendable {
        /// An HTTP response of any status, with its `Retry-After` delay and the gateway's parsed answer.
        case response(status: Int, retryAfter: Duration?, answer: Answer)
        /// No response; `requestSent` says whether the request may have reached the gateway.
        case noResponse(requestSent: Bool)

        /// The parsed answer, when a response came.
        public var answer: Answer? {
            if case .response(_, _, let answer) = self { answer } else { nil }
        }
    }

    /// How a call ended.
    public enum Completion<Answer: Sendable>: Sendable {
        /// The gateway was called (and called again after a refused token, if it was); its outcome, its parsed answer
        /// (when a response came) and the exchange row as recorded.
        case answered(GatewayOutcome, answer: Answer?, record: ExchangeRecord)
        /// The job's outcome without an answer to classify: no token, no slot, or no connection in time. Nothing
        /// reached the gateway, and every one of these but a missing token costs no attempt.
        case stopped(JobOutcome)
    }

    /// How long a job waits, without spending an attempt, when the token endpoint failed to refresh its set.
    public static let tokenEndpointWait: Duration = .seconds(15)

    public let dependencies: Dependencies
    /// The fleet-wide pacing key the calls count against; `nil` or empty sends unpaced.
    public let rateLimitKey: String?
    /// The per-call deadline.
    public let timeout: Duration

    public init(dependencies: Dependencies, rateLimitKey: String?, timeout: Duration) {
        self.dependencies = dependencies
        self.rateLimitKey = rateLimitKey
        self.timeout = timeout
    }

    /// Makes the call.
    ///
    /// - Parameters:
    ///   - request: What to send (without credentials).
    ///   - dialect: The gateway's reading, classification and recording of answers.
    ///   - purpose: Why the call is made, for the exchange row.
    ///   - reportsSettlement: Whether the request changes something at the gateway, so that its outcome says
    ///     whether the job's earlier requests may have reached it unanswered (``GatewaySettlement``). A query
    ///     passes `false`; what it learns is the handler's to report.
    ///   - review: The handler's last word on the classified outcome before it is recorded (for example "this
    ///     rejection means the earlier request did the work"); it may also set the row's outcome name.
    public func perform<Answer: Sendable>(
        _ request: GatewayRequest, dialect: GatewayDialect<Answer>, job: ClaimedJob, context: JobContext,
        purpose: ExchangeRecord.Purpose, reportsSettlement: Bool,
        review: (GatewayOutcome, Answer?, inout ExchangeRecord) -> GatewayOutcome = { outcome, _, _ in outcome }
    ) async -> Completion<Answer> {
        var replacingGeneration: Int64?
        while true {
            let grant: AccessGrant
            switch await self.accessToken(for: job, replacingGeneration: replacingGeneration) {
            case .success(let value): grant = value
            case .failure(let stopped): return .stopped(stopped.outcome)
            }
            let exchange: Exchange<Answer>
            var record: ExchangeRecord
            var waitedForConnection = false
            switch await self.send(request, dialect: dialect, grant: grant, job: job, context: context, purpose: purpose) {
            case .stopped(let outcome):
                return .stopped(outcome)
            case .exchanged(let sent, let sentRecord, let waited):
                exchange = sent
                record = sentRecord
                waitedForConnection = waited
            }
            var classified = dialect.classify(exchange)
            record.outcome = Self.name(of: classified)
            classified = review(classified, exchange.answer, &record)
            context.record(record)
            if waitedForConnection {
                // Every pooled connection stayed busy until the deadline: nothing was sent, and waiting is pacing.
                return .stopped(
                    .throttled(
                        after: .seconds(1),
                        error: JobError(
                            code: "no_connection_available", message: "every connection to the gateway stayed busy; nothing was sent")))
            }
            if reportsSettlement {
                context.report(Self.settlement(of: classified))
            }
            if case .reauthorize = classified, replacingGeneration == nil {
                context.logger.notice("The gateway refused the access token; refreshing it once and calling again")
                replacingGeneration = grant.generation
                continue
            }
            return .answered(classified, answer: exchange.answer, record: record)
        }
    }

    // MARK: Steps

    private struct Stopped: Error {
        var outcome: JobOutcome
    }

    /// The tenant's access token for this gateway, or the job's outcome when there is none to use.
    private func accessToken(for job: ClaimedJob, replacingGeneration: Int64?) async -> Result<AccessGrant, Stopped> {
        do {
            return .success(
                try await self.dependencies.tokens.accessToken(
                    forTenant: job.tenant, gateway: self.dependencies.gateway, refresher: self.dependencies.refresher,
                    replacingGeneration: replacingGeneration))
        } catch let error as TokenError where error.code == .refreshFailed {
            // The token endpoint is down or busy (it did not take the refresh token, so nothing is lost) and the
            // access token is about to expire or was refused: waiting out the endpoint's outage costs no attempt,
            // like any other outage of something that is not the payload.
            return .failure(
                Stopped(
                    outcome: .throttled(after: Self.tokenEndpointWait, error: JobError(code: "auth_\(error.code)", message: error.message)))
            )
        } catch let error as TokenError {
            // No usable token is an operator's problem, not the payload's: wait for `tuku tokens load`.
            return .failure(
                Stopped(outcome: .retry(after: .seconds(300), error: JobError(code: "auth_\(error.code)", message: error.message))))
        } catch {
            // The token store's database did not answer: waiting out an outage costs no attempt.
            return .failure(
                Stopped(
                    outcome: .throttled(after: .seconds(5), error: JobError(code: "auth_unavailable", message: QueueError.describe(error))))
            )
        }
    }

    private enum Sent<Answer: Sendable> {
        /// What came back, the row so far, and whether the call waited for a pooled connection until its deadline.
        case exchanged(Exchange<Answer>, ExchangeRecord, waitedForConnection: Bool)
        case stopped(JobOutcome)
    }

    /// Waits for the slot, sends, and releases the slot with what the gateway said about pacing.
    private func send<Answer: Sendable>(
        _ request: GatewayRequest, dialect: GatewayDialect<Answer>, grant: AccessGrant, job: ClaimedJob, context: JobContext,
        purpose: ExchangeRecord.Purpose
    ) async -> Sent<Answer> {
        var headers = request.headers
        headers.replaceOrAdd(name: "Authorization", value: "Bearer \(grant.accessToken.value)")
        // Wait for this call's slot in the fleet-wide pace for the kind's limit key.
        let limitKey = self.rateLimitKey ?? ""
        let limiter = limitKey.isEmpty ? nil : self.dependencies.limiter
        var slot: RateLimiter.Grant?
        if let limiter {
            do {
                let grant = try await limiter.acquire(
                    key: limitKey, jobID: job.id, workerID: context.workerID,
                    connecting: self.dependencies.transport.nextCallLikelyConnects)
                slot = grant
                context.logger.trace("Send slot reached", metadata: ["pacing.waited_ms": "\(Int(grant.waited.inSeconds * 1000))"])
            } catch {
                // Nothing was sent (a send whose confirmation could not be recorded is not made), and waiting out a
                // database outage costs no attempt.
                return .stopped(
                    .throttled(after: .seconds(5), error: JobError(code: "pacing_unavailable", message: QueueError.describe(error))))
            }
        }
        let startedAt = Date()
        let exchange: Exchange<Answer>
        // When the request was written, by the database's clock, for pacing (nil when nothing was sent).
        var sentAt: Date?
        var waitedForConnection = false
        var record = ExchangeRecord(
            purpose: purpose, endpoint: request.url, action: request.action, startedAt: startedAt, latency: nil,
            httpStatus: nil, transportError: nil, outcome: "", requestBody: request.body.map { String(decoding: $0, as: UTF8.self) },
            responseBody: nil)
        do {
            let response = try await self.dependencies.transport.send(
                request.method, url: request.url, body: request.body.map { ByteBuffer(bytes: $0) }, headers: headers,
                timeout: self.timeout, logger: context.logger)
            let answer = dialect.parse(response)
            record.latency = response.latency
            record.httpStatus = Int(response.status.code)
            record.setResponse(response.body.readableBytesView)
            dialect.fill(&record, answer)
            let retryAfter = response.headers.first(name: "Retry-After").flatMap { RetryAfter.delay(fromHeader: $0, now: Date()) }
            exchange = .response(status: Int(response.status.code), retryAfter: retryAfter, answer: answer)
            sentAt = slot.map {
                Self.sendTime(
                    leftAt: $0.leftAt, sentAfter: response.sentAfter, openedConnection: response.openedConnection,
                    answeredAfter: response.latency)
            }
        } catch {
            waitedForConnection = error.code == .noConnectionAvailable
            record.latency = .milliseconds(Int64(Date().timeIntervalSince(startedAt) * 1000))
            record.transportError = "\(error.code)"
            exchange = .noResponse(requestSent: error.requestMayHaveReachedGateway)
            if error.requestMayHaveReachedGateway {
                sentAt = slot.map {
                    Self.sendTime(leftAt: $0.leftAt, sentAfter: nil, openedConnection: false, answeredAfter: record.latency)
                }
            }
        }
        if let limiter {
            var retryAfter: Duration?
            if case .response(_, let after, _) = exchange { retryAfter = after }
            do {
                try await limiter.release(
                    key: limitKey, jobID: job.id, httpStatus: record.httpStatus, retryAfter: retryAfter, sentAt: sentAt)
            } catch {
                // The rescuer sweeps a reservation left behind; the call itself is done.
                context.logger.warning("Could not release the pacing reservation", metadata: ["error": "\(QueueError.describe(error))"])
            }
        }
        return .exchanged(exchange, record, waitedForConnection: waitedForConnection)
    }

    // MARK: Helpers

    /// What an answer to a request that changes something says about whether it may have reached the gateway
    /// unanswered: an ambiguous answer leaves it unsettled; an acceptance or a definite rejection of the request
    /// itself settles it; a throttle, a retry or a refused token says nothing about earlier requests.
    public static func settlement(of outcome: GatewayOutcome) -> GatewaySettlement {
        switch outcome {
        case .outcomeUnknown: .unsettled
        case .succeeded, .rejected: .settled
        case .reauthorize, .retry, .retryAfterUnauthorisedFault, .throttled: .unchanged
        }
    }

    /// When a call's request reached the gateway, as reported for pacing. On a connection already open, that is
    /// when it left the pacing wait plus the time until its request head was written (the arrival follows within
    /// a millisecond). A call that first had to open a connection (`GatewayHTTPResponse.openedConnection`)
    /// reaches the gateway only once the gateway has finished its side of the TLS handshake, which on a busy
    /// gateway takes far longer than ours: it is reported at the latest time it can have arrived, when its answer
    /// came, so that the calls after it keep their distance. A call with no answer is reported as of the moment
    /// it ended.
    static func sendTime(leftAt: Date, sentAfter: Duration?, openedConnection: Bool, answeredAfter: Duration?) -> Date {
        if let sentAfter, !openedConnection { return leftAt.addingTimeInterval(sentAfter.inSeconds) }
        return leftAt.addingTimeInterval((answeredAfter ?? sentAfter ?? .zero).inSeconds)
    }

    /// The outcome's name on the exchange row.
    public static func name(of outcome: GatewayOutcome) -> String {
        switch outcome {
        case .succeeded: "succeeded"
        case .reauthorize: "reauthorize"
        case .retry: "retry"
        case .retryAfterUnauthorisedFault: "retry"
        case .throttled: "throttled"
        case .outcomeUnknown: "outcome_unknown"
        case .rejected: "rejected"
        }
    }
}
