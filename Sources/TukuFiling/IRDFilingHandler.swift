import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TukuCore
import TukuGateway
import TukuIRD
import TukuPostgres
import TukuWorker

/// Runs the IRD payday-filing kinds: validates the payload, builds the SOAP 1.2 envelope, authenticates with
/// the tenant's OAuth bearer token, calls the gateway over (mutual) TLS, and turns the answer into an outcome.
///
/// Every call is recorded as an exchange on the attempt. An ambiguous earlier outcome (timeout or drop after
/// the request was sent, HTTP 504, IRD code 160) is never blindly re-filed: a File job first asks
/// RetrieveStatus for the employer and payday, and ends `succeeded` if IRD already has the return.
public struct IRDFilingHandler: Sendable {
    /// Everything a filing call needs besides the job.
    public struct Dependencies: Sendable {
        public var endpoint: GatewayEndpoint
        public var transport: GatewayTransport
        public var tokens: TokenStore
        /// Each gateway's token endpoint, by gateway: the worker holds one per gateway it files to. IRD's kinds
        /// need ``TaxGateway/ird``'s.
        public var refreshers: [TaxGateway: any TokenRefresher]
        public var envelopes: SOAPEnvelopeBuilder
        public var classifier: GatewayOutcomeClassifier
        /// Fleet-wide pacing; `nil` sends unpaced.
        public var limiter: RateLimiter?

        public init(
            endpoint: GatewayEndpoint, transport: GatewayTransport, tokens: TokenStore, refreshers: [TaxGateway: any TokenRefresher],
            envelopes: SOAPEnvelopeBuilder, classifier: GatewayOutcomeClassifier = GatewayOutcomeClassifier(),
            limiter: RateLimiter? = nil
        ) {
            self.endpoint = endpoint
            self.transport = transport
            self.tokens = tokens
            self.refreshers = refreshers
            self.envelopes = envelopes
            self.classifier = classifier
            self.limiter = limiter
        }
    }

    /// The error code recorded when the gateway may have processed a request whose answer was lost.
    public static let outcomeUnknownCode = JobError.outcomeUnknownCode
    /// How soon an ambiguous outcome is reconciled.
    public static let reconcileDelay: Duration = .seconds(5)

    public let definition: KindDefinition
    private let dependencies: Dependencies
    private let operation: GatewayOperation
    private let service: GatewayEndpoint.Service
    /// Token, slot, send, release, exchange row and classification of one call.
    private let call: PacedGatewayCall
    /// The status kind's paced call (its rate-limit key and timeout), for a File's reconciliation (`reconcileWith`).
    private let reconciliation: PacedGatewayCall?
    /// How IRD's answers are read, classified and recorded.
    private let dialect: GatewayDialect<Result<GatewayResponse, GatewayError>>

    /// - Parameter reconciliation: The definition `reconcileWith` names (the status kind), for a File kind.
    public init(definition: KindDefinition, reconcilingWith reconciliation: KindDefinition? = nil, dependencies: Dependencies) throws {
        guard let operation = definition.gatewayOperation, let service = definition.gatewayService else {
            throw JobError(code: "kind_definitions_invalid", message: "\(definition.kind) is not a gateway kind")
        }
        guard definition.gateway == .ird else {
            throw JobError(code: "kind_definitions_invalid", message: "\(definition.kind) is not an IRD kind")
        }
        if let statusKind = definition.reconcileWith, reconciliation?.kind != statusKind || reconciliation?.operation != .retrieveStatus {
            throw JobError(
                code: "kind_definitions_invalid",
                message: "\(definition.kind) reconciles with \(statusKind), whose RetrieveStatus definition was not given")
        }
        guard let refresher = dependencies.refreshers[.ird] else {
            throw JobError(
                code: "kind_definitions_invalid", message: "\(definition.kind) needs IRD's token endpoint, and none is configured")
        }
        self.definition = definition
        self.dependencies = dependencies
        self.operation = operation
        self.service = service
        let paced = PacedGatewayCall.Dependencies(
            gateway: .ird, transport: dependencies.transport, tokens: dependencies.tokens, refresher: refresher,
            limiter: dependencies.limiter)
        self.call = PacedGatewayCall(dependencies: paced, rateLimitKey: definition.rateLimitKey, timeout: definition.timeout)
        self.reconciliation = definition.reconcileWith == nil
            ? nil : reconciliation.map { PacedGatewayCall(dependencies: paced, rateLimitKey: $0.rateLimitKey, timeout: $0.timeout) }
        self.dialect = .ird(classifier: dependencies.classifier)
    }

    /// Registers a handler for `definition` (reconciling through `reconciliation`, the kind its `reconcileWith`
    /// names) in `registry`.
    public static func register(
        _ definition: KindDefinition, reconcilingWith reconciliation: KindDefinition? = nil, dependencies: Dependencies,
        in registry: inout HandlerRegistry
    ) throws {
        let handler = try IRDFilingHandler(definition: definition, reconcilingWith: reconciliation, dependencies: dependencies)
        registry.register(kind: definition.kind, retryPolicy: definition.retryPolicy) { job, context in
            await handler.run(job, context: context)
        }
    }

    /// Runs one attempt.
    public func run(_ job: ClaimedJob, context: JobContext) async -> JobOutcome {
        let payload: IRDJobPayload
        do {
            payload = try IRDJobPayload.decodeValidated(kind: job.kind, from: Data(job.payload.utf8))
        } catch {
            return .rejected(Self.jobError(error))
        }
        let envelope: SOAPEnvelope
        do {
            envelope = try self.dependencies.envelopes.envelope(for: payload)
        } catch {
            return .rejected(JobError(code: "envelope_invalid", message: "\(error)"))
        }
        // An earlier attempt may have reached IRD without us hearing back (an ambiguous answer, or a worker that
        // died mid-call and lost its lease): settle that first.
        var alreadyDone: AlreadyDone?
        if job.mayHaveReachedGateway {
            switch payload {
            case .eiFile(let file):
                // The kind's `reconcileWith` names the status query (checked at start-up: a File kind has one).
                guard let reconciliation = self.reconciliation else { break }
                switch await self.reconcile(file, through: reconciliation, job: job, context: context) {
                case .alreadyFiled: return .succeeded
                case .notFiled: break
                case .undecided(let outcome): return outcome
                }
            case .edCreate:
                // The Employment service has no status query; a Create sent again meets IRD's code 106 if the first
                // one was processed, and that answer is the confirmation.
                alreadyDone = Self.employmentExists
            case .edUpdate, .edTerminate, .eiStatus:
                // An Update replaces the whole record and a Terminate states a finish date: sending either again
                // says the same thing. A status query changes nothing.
                break
            }
        }
        return await self.submit(envelope, through: self.call, job: job, context: context, purpose: .submit, alreadyDone: alreadyDone)
            .outcome
    }

    /// An IRD status that, on a request sent again after an ambiguous outcome, means the first one did the work.
    struct AlreadyDone: Sendable {
        var statusCode: Int
        var explanation: String
    }

    /// IRD's code 106, "Employment relationship already exists", answering a Create sent again.
    static let employmentExists = AlreadyDone(
        statusCode: 106, explanation: "IRD already holds this employment; the earlier, unanswered Create made it")

    // MARK: Calls

    private struct CallResult: Sendable {
        var outcome: JobOutcome
        var response: GatewayResponse?
    }

    /// Sends one envelope through the paced call (token, slot, send, release, exchange row, classification, one
    /// refresh-and-retry on IRD status 1) and turns what IRD said into the job's outcome.
    private func submit(
        _ envelope: SOAPEnvelope, through call: PacedGatewayCall, job: ClaimedJob, context: JobContext, purpose: ExchangeRecord.Purpose,
        alreadyDone: AlreadyDone? = nil
    ) async -> CallResult {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: envelope.contentType)
        let request = GatewayRequest(
            method: .POST, url: self.dependencies.endpoint.url(for: self.service), headers: headers, body: Array(envelope.body),
            action: envelope.operation.action)
        // Whether a request that changes something may now have reached IRD unanswered, or is settled. A status
        // query changes nothing: what it learns is reported by `reconcile`.
        func review(
            _ classified: GatewayOutcome, _ answer: Result<GatewayResponse, GatewayError>?, _ record: inout ExchangeRecord
        ) -> GatewayOutcome {
            if purpose == .reconcile, case .success(let answer)? = answer, Self.holdsNoReturn(answer) {
                // Not a rejection of anything we sent: the status query's answer that there is nothing to reconcile.
                record.outcome = "not_filed"
            }
            if let alreadyDone, case .rejected(alreadyDone.statusCode?, _) = classified {
                context.logger.notice(
                    "IRD answered that the work is already done; not sending it again",
                    metadata: ["gateway.status_code": "\(alreadyDone.statusCode)", "job.reason": "\(alreadyDone.explanation)"])
                record.outcome = "already_done"
                return .succeeded(gatewayId: nil, submissionKey: nil)
            }
            return classified
        }
        let completion = await call.perform(
            request, dialect: self.dialect, job: job, context: context, purpose: purpose,
            reportsSettlement: envelope.operation != .retrieveReturnStatus, review: review)
        switch completion {
        case .stopped(let outcome):
            return CallResult(outcome: outcome, response: nil)
        case .answered(let classified, let answer, let record):
            let response: GatewayResponse? = if case .success(let response)? = answer { response } else { nil }
            return CallResult(outcome: self.outcome(classified, record: record), response: response)
        }
    }

    private func outcome(_ classified: GatewayOutcome, record: ExchangeRecord) -> JobOutcome {
        let answered = record.httpStatus.map { "HTTP \($0)" } ?? (record.transportError ?? "no response")
        switch classified {
        case .succeeded:
            return .succeeded
        case .reauthorize:
            return .retry(
                after: nil,
                error: JobError(code: "gateway_reauthorize", message: "IRD refused the access token again after a refresh (\(answered))"))
        case .retry(let after):
            return .retry(
                after: after,
                error: JobError(
                    code: "gateway_retry", message: Self.summary(record, fallback: "the gateway asked to try again (\(answered))")))
        case .retryAfterUnauthorisedFault(let after):
            return .retry(
                after: after, error: JobError(code: "gateway_fault", message: "IRD answered with an UnAuthorised SOAP fault (\(answered))"))
        case .throttled(let retryAfter):
            return .throttled(
                after: retryAfter, error: JobError(code: "gateway_throttled", message: "the gateway is throttling calls (\(answered))"))
        case .outcomeUnknown(let reason):
            return .retry(
                after: Self.reconcileDelay,
                error: JobError(
                    code: Self.outcomeUnknownCode,
                    message: "IRD may have processed the request (\(reason)); it is reconciled before anything is sent again"))
        case .rejected(let code, let message):
            let text = code.map { "IRD status \($0): \(message)" } ?? message
            return .rejected(
                JobError(
                    code: "gateway_rejected", message: text,
                    problems: record.statuses.filter { $0.code != 0 }.map {
                        .init(
                            path: "statusCode \($0.code)", reason: [$0.message, $0.description].compactMap { $0 }.joined(separator: " — "))
                    }))
        }
    }

    // MARK: Reconciliation

    private enum Reconciliation: Sendable {
        case alreadyFiled
        case notFiled
        case undecided(JobOutcome)
    }

    /// Asks RetrieveStatus whether IRD already holds this employer's return for the payday.
    private func reconcile(
        _ file: EIFilePayload, through call: PacedGatewayCall, job: ClaimedJob, context: JobContext
    ) async -> Reconciliation {
        let status = EIStatusPayload(
            employerIrdNumber: file.employerIrdNumber, accountType: file.accountType, payDayDate: file.payDayDate,
            periodEndDate: file.periodEndDate, submissionKey: file.amendment?.submissionKey)
        let envelope: SOAPEnvelope
        do {
            envelope = try self.dependencies.envelopes.envelope(for: .eiStatus(status))
        } catch {
            return .undecided(.retry(after: nil, error: JobError(code: "reconcile_failed", message: "\(error)")))
        }
        let result = await self.submit(envelope, through: call, job: job, context: context, purpose: .reconcile)
        if let response = result.response, Self.holdsNoReturn(response) {
            context.logger.notice(
                "IRD holds no return for this payday; filing it",
                metadata: ["gateway.status_code": "\(Self.noReturnFound)"])
            return .notFiled
        }
        guard case .succeeded = result.outcome, let response = result.response, case .result(let answer) = response.content else {
            // RetrieveStatus itself failed or was ambiguous: keep the job unresolved and ask again later.
            var outcome = result.outcome
            if case .rejected(let error) = outcome {
                outcome = .retry(
                    after: nil, error: JobError(code: Self.outcomeUnknownCode, message: "reconciliation failed: \(error.message)"))
            } else if case .retry(let after, let error) = outcome, error.code != Self.outcomeUnknownCode {
                outcome = .retry(
                    after: after, error: JobError(code: Self.outcomeUnknownCode, message: "reconciliation failed: \(error.message)"))
            }
            return .undecided(outcome)
        }
        // IRD answered the status query: whatever the earlier request did is known now.
        context.report(.settled)
        // For an amendment, the return being amended is already there by definition: only another one counts.
        let amended = file.amendment?.submissionKey
        if let found = answer.returnStatuses.first(where: { $0.submissionKey != nil && $0.submissionKey != amended }) {
            context.logger.notice(
                "IRD already holds this return; not filing it again",
                metadata: [
                    "gateway.submission_key": "\(found.submissionKey ?? 0)", "gateway.return_status": "\(found.text)",
                ])
            return .alreadyFiled
        }
        return .notFiled
    }

    /// IRD's status 103, "No return found": RetrieveStatus's answer for a payday with no return.
    static let noReturnFound = 103

    /// Whether a RetrieveStatus answer says IRD holds no return for the payday: status 103 ("No return found"),
    /// which IRD sends for a payday with no return, or a success whose statuses name no submission key (`EXP`,
    /// "Expected": an obligation without a return). Either way nothing was filed, so filing is safe.
    static func holdsNoReturn(_ response: GatewayResponse) -> Bool {
        guard case .result(let answer) = response.content else { return false }
        if answer.firstError?.statusCode == Self.noReturnFound { return true }
        return answer.isSuccess && answer.submissionKey == nil && answer.returnStatuses.allSatisfy { $0.submissionKey == nil }
    }

    // MARK: Helpers

    static func summary(_ record: ExchangeRecord, fallback: String) -> String {
        guard let first = record.statuses.first(where: { $0.code != 0 }) else { return fallback }
        return "IRD status \(first.code): \(first.message)"
    }

    static func jobError(_ error: any Error) -> JobError {
        guard let payload = error as? PayloadError else {
            return JobError(code: "payload_invalid", message: "\(error)")
        }
        let problems = payload.problems.map { JobError.Problem(path: $0.path, reason: $0.reason) }
        return JobError(
            code: "payload_invalid", message: "the payload is not a valid payload for this kind: \(payload.reason)",
            problems: problems.isEmpty ? nil : problems)
    }
}

extension GatewayDialect where Answer == Result<GatewayResponse, GatewayError> {
    /// IRD's gateway services: SOAP 1.2 answers read by ``GatewayResponseParser``, classified by IRD's outcome
    /// table (``GatewayOutcomeClassifier``, `docs/outcomes.md`), status messages, fault, gateway id and submission
    /// key copied onto the exchange row.
    static func ird(classifier: GatewayOutcomeClassifier) -> Self {
        GatewayDialect(
            parse: { response in
                let body = Data(response.body.readableBytesView)
                return Result { () throws(GatewayError) in try GatewayResponseParser.parse(body) }
            },
            classify: { exchange in
                switch exchange {
                case .response(let status, let retryAfter, let answer):
                    classifier.classify(.response(status: status, retryAfter: retryAfter, body: answer))
                case .noResponse(let requestSent):
                    classifier.classify(.noResponse(requestSent: requestSent))
                }
            },
            fill: { record, answer in
                if case .success(let parsed) = answer { record.apply(parsed) }
            })
    }
}

extension ExchangeRecord {
    /// Copies IRD's status messages, fault, gateway id and submission key from a parsed answer.
    mutating func apply(_ response: GatewayResponse) {
        switch response.content {
        case .result(let result):
            self.statuses = result.statusMessages.map {
                .init(code: $0.statusCode, message: $0.errorMessage, description: $0.errorDescription)
            }
            self.gatewayID = result.gatewayId
            self.submissionKey = result.submissionKey ?? result.returnStatuses.first { $0.submissionKey != nil }?.submissionKey
        case .fault(let fault):
            self.fault = .init(code: "\(fault.code)", reason: fault.reason)
        }
    }
}
