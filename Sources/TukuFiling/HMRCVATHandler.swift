import Foundation
import Logging
import NIOHTTP1
import TukuCore
import TukuGateway
import TukuHMRC
import TukuPostgres
import TukuWorker

/// Runs HMRC's VAT (MTD) kinds, `hmrc.vat.return` and `hmrc.vat.obligations`, on the paced gateway call
/// (``PacedGatewayCall``): it validates the payload, builds HMRC's fraud prevention headers and the request, follows
/// redirects as ``HMRCRedirectPolicy`` decides, and turns HMRC's answers into the job's outcome by HMRC's outcome
/// table (``HMRCOutcomeClassifier``, `docs/hmrc.md`). Tokens, pacing and the transport are the paced call's.
///
/// Never filing twice: a return job whose earlier attempt may have reached HMRC unanswered first asks
/// `GET /organisations/vat/{vrn}/returns/{periodKey}`; a return there means done, none means file, anything else
/// means ask again later without sending. A 403 `DUPLICATE_SUBMISSION` answering a return sent after such an
/// ambiguous outcome also means done.
public struct HMRCVATHandler: Sendable {
    /// Everything an HMRC call needs besides the job.
    public struct Dependencies: Sendable {
        /// The paced call's token store, token endpoint, transport (one-way TLS) and limiter; its gateway is
        /// ``TaxGateway/hmrc``.
        public var call: PacedGatewayCall.Dependencies
        /// Where HMRC's APIs are, without a trailing slash: `https://api.service.hmrc.gov.uk`,
        /// `https://test-api.service.hmrc.gov.uk`, or the sandbox's one-way TLS listener `https://127.0.0.1:PORT`
        /// (with a path prefix when its endpoints are there).
        public var baseURL: String
        /// Tuku's own (vendor) fraud prevention values; the job carries the client's.
        public var vendor: FraudPreventionHeaders
        /// How many redirects a call follows and to which other hosts. Defaults to 5 hops, same origin only.
        public var redirects: HMRCRedirectPolicy.Configuration
        /// HMRC's outcome table. Defaults to the standard delays (retry 60 s, throttle 10 s).
        public var classifier: HMRCOutcomeClassifier

        public init(
            call: PacedGatewayCall.Dependencies, baseURL: String, vendor: FraudPreventionHeaders,
            redirects: HMRCRedirectPolicy.Configuration = .init(), classifier: HMRCOutcomeClassifier = HMRCOutcomeClassifier()
        ) {
            self.call = call
            self.baseURL = baseURL
            self.vendor = vendor
            self.redirects = redirects
            self.classifier = classifier
        }
    }

    /// How soon an ambiguous outcome is settled by a lookup.
    public static let reconcileDelay: Duration = .seconds(5)

    /// The kinds this handler runs.
    enum Family: Sendable {
        case vatReturn
        case obligations
    }

    public let definition: KindDefinition
    private let dependencies: Dependencies
    private let family: Family
    private let call: PacedGatewayCall
    private let policy: HMRCRedirectPolicy
    private let baseURL: String

    public init(definition: KindDefinition, dependencies: Dependencies) throws {
        guard definition.gateway == .hmrc, dependencies.call.gateway == .hmrc else {
            throw JobError(code: "kind_definitions_invalid", message: "\(definition.kind) is not an HMRC kind, or its calls are not HMRC's")
        }
        switch definition.kind {
        case VATReturnPayload.kind: self.family = .vatReturn
        case VATObligationsPayload.kind: self.family = .obligations
        default: throw JobError(code: "kind_definitions_invalid", message: "\(definition.kind) is not an HMRC kind this build runs")
        }
        let base = dependencies.baseURL.hasSuffix("/") ? String(dependencies.baseURL.dropLast()) : dependencies.baseURL
        guard let url = URL(string: base), url.scheme?.lowercased() == "https", url.host != nil, url.query == nil else {
            throw JobError(code: "kind_definitions_invalid", message: "HMRC's base URL must be an https URL without a query")
        }
        self.definition = definition
        self.dependencies = dependencies
        self.baseURL = base
        self.policy = HMRCRedirectPolicy(configuration: dependencies.redirects)
        self.call = PacedGatewayCall(dependencies: dependencies.call, rateLimitKey: definition.rateLimitKey, timeout: definition.timeout)
    }

    /// Registers a handler for `definition` in `registry`.
    public static func register(_ definition: KindDefinition, dependencies: Dependencies, in registry: inout HandlerRegistry) throws {
        let handler = try HMRCVATHandler(definition: definition, dependencies: dependencies)
        registry.register(kind: definition.kind, retryPolicy: definition.retryPolicy) { job, context in
            await handler.run(job, context: context)
        }
    }

    /// Runs one attempt.
    public func run(_ job: ClaimedJob, context: JobContext) async -> JobOutcome {
        switch self.family {
        case .vatReturn: await self.fileReturn(job, context: context)
        case .obligations: await self.readObligations(job, context: context)
        }
    }

    /// The outcome of a job refused before any call. A problem with this worker's vendor configuration
    /// (`fraud_vendor_unconfigured`) is not the job's: it waits for an operator, as a missing token set does,
    /// instead of ending `rejected`.
    static func refusal(_ error: JobError) -> JobOutcome {
        error.code == "fraud_vendor_unconfigured" ? .retry(after: .seconds(300), error: error) : .rejected(error)
    }

    // MARK: Returns

    private func fileReturn(_ job: ClaimedJob, context: JobContext) async -> JobOutcome {
        let payload: VATReturnPayload
        let fraud: HTTPHeaders
        do {
            payload = try VATReturnPayload.decodeValidated(from: Data(job.payload.utf8))
            fraud = try self.dependencies.vendor.headers(for: payload.fraudPrevention, now: Date())
        } catch {
            return Self.refusal(error)
        }
        // An earlier attempt may have reached HMRC without us hearing back: ask whether the period is filed first.
        if job.mayHaveReachedGateway {
            let lookup = HMRCRequest.viewReturn(vrn: payload.vrn, periodKey: payload.periodKey, fraudPreventionHeaders: fraud)
            var read: HMRCReturnLookup?
            let sent = await self.send(lookup, job: job, context: context, purpose: .reconcile, reportsSettlement: false) {
                answer, _, record in
                let found = HMRCReturnLookup.read(answer.exchange, classifier: self.dependencies.classifier, now: Date())
                read = found
                switch found {
                case .held:
                    record.outcome = "already_filed"
                    return .succeeded(gatewayId: nil, submissionKey: nil)
                case .none:
                    record.outcome = "not_filed"
                    return nil
                case .undetermined:
                    return nil
                }
            }
            switch (sent.completion, read) {
            case (.stopped(let outcome), _):
                return outcome
            case (.answered, .held(let periodKey, let correlationID)?):
                // HMRC answered the lookup: whatever the earlier request did is known now.
                context.report(.settled)
                context.logger.notice("HMRC already holds this return; not filing it again", metadata: ["hmrc.period_key": "\(periodKey)"])
                context.setResult(Self.resultJSON(status: "already_filed", periodKey: periodKey, correlationID: correlationID))
                return .succeeded
            case (.answered, .none?):
                context.logger.notice("HMRC holds no return for this period; filing it")
            case (.answered, _) where sent.hmrc.map(Self.needsConsent) == true:
                // Nothing can be asked or sent for this VRN until the client authorises again: a person's work. The job
                // stays unsettled, so a retry by hand looks the period up first.
                return .rejected(sent.hmrc?.jobError ?? JobError(code: "hmrc_consent_required", message: "HMRC needs consent"))
            case (.answered(let classified, _, let record), _):
                return Self.undecided(self.outcome(classified, hmrc: sent.hmrc, record: record))
            }
        }
        let request = HMRCRequest.submitReturn(payload, fraudPreventionHeaders: fraud)
        let afterAmbiguity = job.mayHaveReachedGateway
        var alreadyDone = false
        let sent = await self.send(request, job: job, context: context, purpose: .submit, reportsSettlement: true) { _, hmrc, record in
            if case .duplicateSubmission = hmrc, afterAmbiguity {
                // The return sent after an ambiguous outcome meets the one that outcome filed.
                alreadyDone = true
                record.outcome = "already_done"
                return .succeeded(gatewayId: nil, submissionKey: nil)
            }
            return nil
        }
        let classified: GatewayOutcome
        let record: ExchangeRecord
        switch sent.completion {
        case .stopped(let outcome): return outcome
        case .answered(let outcome, _, let recorded): (classified, record) = (outcome, recorded)
        }
        let outcome = self.outcome(classified, hmrc: sent.hmrc, record: record)
        if case .succeeded = outcome {
            if alreadyDone {
                context.logger.notice("HMRC answered that the period is already filed by the earlier, unanswered request")
                context.setResult(Self.resultJSON(status: "already_filed", periodKey: payload.periodKey, correlationID: nil))
            } else {
                context.setResult(#"{"receipt":\#(record.receipt ?? "{}"),"status":"filed"}"#)
            }
        }
        return outcome
    }

    // MARK: Obligations

    private func readObligations(_ job: ClaimedJob, context: JobContext) async -> JobOutcome {
        let payload: VATObligationsPayload
        let fraud: HTTPHeaders
        do {
            payload = try VATObligationsPayload.decodeValidated(from: Data(job.payload.utf8))
            fraud = try self.dependencies.vendor.headers(for: payload.fraudPrevention, now: Date())
        } catch {
            return Self.refusal(error)
        }
        var obligations: HMRCObligations?
        let request = HMRCRequest.obligations(payload, fraudPreventionHeaders: fraud)
        let sent = await self.send(request, job: job, context: context, purpose: .submit, reportsSettlement: false) {
            answer, hmrc, record in
            if answer.status == 404, HMRCErrorBody.parse(answer.body)?.code == "NOT_FOUND" {
                // HMRC's answer for a range with no obligations: an empty list, not a failure.
                obligations = HMRCObligations(obligations: [])
                record.outcome = "none_found"
                return .succeeded(gatewayId: nil, submissionKey: nil)
            }
            guard case .succeeded = hmrc else { return nil }
            guard let parsed = HMRCObligations.parse(answer.body) else {
                record.outcome = "retry"
                return .retry(after: self.dependencies.classifier.configuration.retryDelay)
            }
            obligations = parsed
            return nil
        }
        switch sent.completion {
        case .stopped(let outcome):
            return outcome
        case .answered(let classified, _, let record):
            let outcome = self.outcome(classified, hmrc: sent.hmrc, record: record)
            if case .succeeded = outcome, let obligations {
                context.setResult(String(decoding: obligations.resultJSON, as: UTF8.self))
            }
            return outcome
        }
    }

    // MARK: Calls

    /// What ``send(_:job:context:purpose:reportsSettlement:review:)`` came to: the paced call's completion for the
    /// last hop, and HMRC's own reading of its answer (`nil` without one, or for a redirect that was not followed).
    struct Sent: Sendable {
        var completion: PacedGatewayCall.Completion<Answer>
        var hmrc: HMRCOutcome?
    }

    /// Makes one HMRC call through the paced call, following redirects: each hop is its own paced call (its own
    /// slot and exchange row: HMRC counts every request), at most the policy's number of hops. A refused redirect
    /// ends the call as the policy says: outcome unknown when the server may have acted (303 after a POST),
    /// otherwise rejected.
    ///
    /// - Parameter review: The handler's word on an answer that is not a redirect, given HMRC's reading of it;
    ///   `nil` keeps the classified outcome. It may set the row's outcome name.
    private func send(
        _ request: HMRCRequest, job: ClaimedJob, context: JobContext, purpose: ExchangeRecord.Purpose, reportsSettlement: Bool,
        review: (Answer, HMRCOutcome, inout ExchangeRecord) -> GatewayOutcome?
    ) async -> Sent {
        var url = self.baseURL + request.path
        var method = request.method
        var body = request.body
        var headers = request.headers
        var hops = 0
        let dialect = GatewayDialect.hmrc(operation: request.operation, classifier: self.dependencies.classifier)
        let action = Self.action(request.operation)
        while true {
            var decision: HMRCRedirectPolicy.Decision?
            var hmrc: HMRCOutcome?
            let requestURL = url
            let requestMethod = method
            let hopsSoFar = hops
            let completion = await self.call.perform(
                GatewayRequest(method: method, url: url, headers: headers, body: body.map { Array($0) }, action: action), dialect: dialect,
                job: job, context: context, purpose: purpose, reportsSettlement: reportsSettlement
            ) { classified, answer, record in
                guard let answer else { return classified }
                if HMRCRedirectPolicy.isRedirect(answer.status), let from = URL(string: requestURL) {
                    let decided = self.policy.decide(
                        status: answer.status, location: answer.headers.first(name: "Location"), method: requestMethod, url: from,
                        hopsSoFar: hopsSoFar)
                    decision = decided
                    switch decided {
                    case .follow?:
                        // Not an outcome of the request: it is sent again where HMRC says, and that answer counts.
                        record.outcome = "redirected"
                        return .retry(after: .zero)
                    case .refuse(let reason, mayHaveActed: true)?:
                        record.outcome = "outcome_unknown"
                        return .outcomeUnknown(reason: "HMRC redirect not followed: \(reason)")
                    case .refuse(let reason, mayHaveActed: false)?:
                        record.outcome = "rejected"
                        return .rejected(code: nil, message: "HMRC redirect not followed: \(reason)")
                    case nil:
                        break
                    }
                }
                let read = self.dependencies.classifier.classify(answer.exchange, operation: request.operation, now: Date())
                hmrc = read
                return review(answer, read, &record) ?? classified
            }
            if case .answered = completion, case .follow(let hop)? = decision {
                context.logger.debug(
                    "Following HMRC's redirect",
                    metadata: ["gateway.status_code": "\(hop.status)", "hmrc.redirect_hop": "\(hops + 1)"])
                url = hop.to.absoluteString
                method = hop.method
                if !hop.keepsBody {
                    body = nil
                    headers.remove(name: "Content-Type")
                }
                hops += 1
                continue
            }
            return Sent(completion: completion, hmrc: hmrc)
        }
    }

    /// The job's outcome for a classified answer (after the handler's review).
    private func outcome(_ classified: GatewayOutcome, hmrc: HMRCOutcome?, record: ExchangeRecord) -> JobOutcome {
        let answered = record.httpStatus.map { "HTTP \($0)" } ?? (record.transportError ?? "no response")
        switch classified {
        case .succeeded:
            return .succeeded
        case .reauthorize:
            return .retry(
                after: nil,
                error: JobError(code: "gateway_reauthorize", message: "HMRC refused the access token again after a refresh (\(answered))"))
        case .retry(let after), .retryAfterUnauthorisedFault(let after):
            return .retry(
                after: after, error: JobError(code: "gateway_retry", message: "HMRC asked to try again (\(Self.said(hmrc, answered)))"))
        case .throttled(let after):
            return .throttled(
                after: after, error: JobError(code: "gateway_throttled", message: "HMRC is throttling calls (\(Self.said(hmrc, answered)))")
            )
        case .outcomeUnknown(let reason):
            return .retry(
                after: Self.reconcileDelay,
                error: JobError(
                    code: JobError.outcomeUnknownCode,
                    message: "HMRC may have processed the request (\(reason)); it is looked up before anything is sent again"))
        case .rejected(_, let message):
            // HMRC's own error (its code, and each of its `errors[]` at its payload path) when it answered one.
            return .rejected(hmrc?.jobError ?? JobError(code: "gateway_rejected", message: message))
        }
    }

    /// A lookup that did not settle whether the return was filed: nothing is sent; the job waits (a throttle costs no
    /// attempt) and asks again.
    private static func undecided(_ outcome: JobOutcome) -> JobOutcome {
        switch outcome {
        case .throttled, .succeeded:
            return outcome
        case .retry(let after, let error):
            if error.code == JobError.outcomeUnknownCode { return outcome }
            return .retry(
                after: after,
                error: JobError(code: JobError.outcomeUnknownCode, message: "the return lookup did not settle it: \(error.message)"))
        case .rejected(let error), .dead(let error):
            return .retry(
                after: Self.reconcileDelay,
                error: JobError(code: JobError.outcomeUnknownCode, message: "the return lookup did not settle it: \(error.message)"))
        }
    }

    private static func needsConsent(_ outcome: HMRCOutcome) -> Bool {
        if case .needsConsent = outcome { true } else { false }
    }

    private static func said(_ hmrc: HMRCOutcome?, _ answered: String) -> String {
        hmrc.map { "\(answered), \($0.label)" } ?? answered
    }

    /// What the exchange row calls a request: its method and path template.
    static func action(_ operation: HMRCRequest.Operation) -> String {
        switch operation {
        case .submitReturn: "POST /organisations/vat/{vrn}/returns"
        case .viewReturn: "GET /organisations/vat/{vrn}/returns/{periodKey}"
        case .obligations: "GET /organisations/vat/{vrn}/obligations"
        }
    }

    static func resultJSON(status: String, periodKey: String, correlationID: String?) -> String {
        struct Result: Encodable {
            var status: String
            var periodKey: String
            var correlationID: String?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Result(status: status, periodKey: periodKey, correlationID: correlationID))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
