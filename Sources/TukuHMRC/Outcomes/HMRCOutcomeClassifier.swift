import Foundation
import NIOHTTP1
import TukuGateway

/// Turns one call to HMRC's VAT (MTD) API into an ``HMRCOutcome``. A pure function of the exchange, the operation,
/// `now` (for an HTTP-date `Retry-After`) and its configuration.
///
/// The mapping, one row per case, is the table of `docs/hmrc.md`; `HMRCOutcomeClassifierTests` reads that table and
/// checks every row against this classifier.
public struct HMRCOutcomeClassifier: Sendable {
    /// The delays (IRD's and HMRC's classifiers share them): retry 60 s, throttle 10 s, `Retry-After` capped at 1 h.
    public var configuration: GatewayOutcomeClassifier.Configuration

    /// Creates a classifier.
    public init(configuration: GatewayOutcomeClassifier.Configuration = .init()) {
        self.configuration = configuration
    }

    /// HMRC's 401 codes a refresh cannot fix: no token was sent, or one of the wrong grant type (our bugs).
    static let permanentUnauthorisedCodes: Set<String> = ["MISSING_CREDENTIALS", "INCORRECT_ACCESS_TOKEN_TYPE"]
    /// HMRC's 403 codes that need the client (or user) to grant access again.
    static let consentCodes: Set<String> = ["CLIENT_OR_AGENT_NOT_AUTHORISED", "INVALID_SCOPE"]

    /// Classifies one exchange of `operation`.
    public func classify(_ exchange: HMRCExchange, operation: HMRCRequest.Operation, now: Date) -> HMRCOutcome {
        switch exchange {
        case .noResponse(requestSent: true):
            return .outcomeUnknown(reason: "no response after the request was sent (timeout or connection lost)")
        case .noResponse(requestSent: false):
            return .retry(after: configuration.retryDelay)
        case .response(let status, let headers, let body):
            let retryAfter = headers.first(name: "Retry-After").flatMap { RetryAfter.delay(fromHeader: $0, now: now) }.map(clamp)
            let error = HMRCErrorBody.parse(body)
            switch status {
            case 200..<300:
                return .succeeded(Self.receipt(headers: headers, body: body))
            case 429:
                return .throttled(retryAfter: retryAfter ?? configuration.throttleDelay)
            case 504:
                return .outcomeUnknown(reason: "HTTP 504: HMRC's gateway timed out, the request may have been processed")
            case 501:
                return .rejected(status: status, error: error)
            case 500..<600:
                return .retry(after: retryAfter ?? configuration.retryDelay)
            case 401:
                if let error, Self.permanentUnauthorisedCodes.contains(error.code) { return .rejected(status: status, error: error) }
                return .reauthorize
            case 403:
                guard let error else { return .rejected(status: status, error: nil) }
                if Self.consentCodes.contains(error.code) { return .needsConsent(error) }
                if error.code == "DUPLICATE_SUBMISSION", operation == .submitReturn { return .duplicateSubmission(error) }
                return .rejected(status: status, error: error)
            default:
                // 3xx that was not followed, and every other 4xx: validation and business rules, wrong URL or media type.
                return .rejected(status: status, error: error)
            }
        }
    }

    /// The receipt of a 2xx: `Receipt-ID`, `Receipt-Timestamp` and `X-CorrelationId` headers, and the body's
    /// `processingDate`, `formBundleNumber`, `chargeRefNumber` and `paymentIndicator` when it has them.
    public static func receipt(headers: HTTPHeaders, body: Data) -> HMRCReceipt {
        struct Body: Decodable {
            var processingDate: String?
            var formBundleNumber: String?
            var chargeRefNumber: String?
            var paymentIndicator: String?
        }
        let parsed = try? JSONDecoder().decode(Body.self, from: body)
        return HMRCReceipt(
            receiptID: headers.first(name: "Receipt-ID"), receiptTimestamp: headers.first(name: "Receipt-Timestamp"),
            correlationID: headers.first(name: "X-CorrelationId"), processingDate: parsed?.processingDate,
            formBundleNumber: parsed?.formBundleNumber, chargeRefNumber: parsed?.chargeRefNumber, paymentIndicator: parsed?.paymentIndicator
        )
    }

    private func clamp(_ delay: Duration) -> Duration {
        min(max(delay, .zero), configuration.maximumRetryAfter)
    }
}
