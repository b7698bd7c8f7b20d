import Foundation
import TukuCore
import TukuGateway

/// What one call to HMRC came to. Finer than ``GatewayOutcome`` where HMRC's answers need it (a duplicate
/// submission, a missing agent authorisation); ``gatewayOutcome`` maps it onto the queue's shared outcomes.
/// The table is `docs/hmrc.md`.
public enum HMRCOutcome: Sendable, Hashable {
    /// HMRC accepted the call (2xx). For a filed return the receipt holds its proof.
    case succeeded(HMRCReceipt)
    /// 403 `DUPLICATE_SUBMISSION` on a return: HMRC already holds a return for the period. After an ambiguous
    /// outcome of our own it means "done"; otherwise someone else filed the period and a person must look.
    case duplicateSubmission(HMRCErrorBody)
    /// 403 `CLIENT_OR_AGENT_NOT_AUTHORISED` (or `INVALID_SCOPE`): the token's user cannot act for this VRN. A token
    /// refresh cannot fix it; the client must authorise the agent (or the user grant `write:vat`) again.
    case needsConsent(HMRCErrorBody)
    /// HMRC refused the request; sending it again will not help. `error` is HMRC's JSON error when readable.
    case rejected(status: Int, error: HMRCErrorBody?)
    /// 401: the access token was refused. Refresh it once, then call again.
    case reauthorize
    /// A transient failure (5xx other than 504, a request that never left): call again after at least `after`.
    case retry(after: Duration)
    /// 429 `MESSAGE_THROTTLED_OUT`: wait `retryAfter`; costs no attempt; the fleet shares the cool-down.
    case throttled(retryAfter: Duration)
    /// The call may or may not have taken effect (504, timeout or connection drop after sending): GET
    /// `/returns/{periodKey}` before filing again.
    case outcomeUnknown(reason: String)

    /// The queue's outcome. A duplicate submission and a missing authorisation are rejections here (a person must
    /// act); the handler settles a duplicate after an ambiguous outcome of its own as done before asking for this.
    public var gatewayOutcome: GatewayOutcome {
        switch self {
        case .succeeded(let receipt): .succeeded(gatewayId: receipt.formBundleNumber ?? receipt.receiptID, submissionKey: nil)
        case .duplicateSubmission(let error), .needsConsent(let error): .rejected(code: nil, message: "HMRC \(error.summary)")
        case .rejected(let status, let error): .rejected(code: nil, message: Self.rejectionText(status, error))
        case .reauthorize: .reauthorize
        case .retry(let after): .retry(after: after)
        case .throttled(let retryAfter): .throttled(retryAfter: retryAfter)
        case .outcomeUnknown(let reason): .outcomeUnknown(reason: reason)
        }
    }

    /// The error recorded on a job that ends here (`rejected`), with HMRC's code in the message and each of
    /// HMRC's `errors[]` as a problem at its path; `nil` for outcomes that do not end the job.
    public var jobError: JobError? {
        switch self {
        case .duplicateSubmission(let error):
            return JobError(
                code: "hmrc_duplicate_submission",
                message: "HMRC already holds a return for this period (\(error.summary)); an amendment is not possible through the API",
                problems: Self.problems(error))
        case .needsConsent(let error):
            return JobError(
                code: "hmrc_consent_required",
                message:
                    "the token cannot act for this VAT registration (\(error.summary)): the client must authorise the agent, or the user grant access again",
                problems: Self.problems(error))
        case .rejected(let status, let error):
            return JobError(code: "gateway_rejected", message: Self.rejectionText(status, error), problems: error.flatMap(Self.problems))
        case .succeeded, .reauthorize, .retry, .throttled, .outcomeUnknown:
            return nil
        }
    }

    /// A short name with the delay, as `docs/hmrc.md` writes it: `succeeded`, `rejected`, `retry 60s`, …
    public var label: String {
        switch self {
        case .succeeded: "succeeded"
        case .duplicateSubmission: "duplicateSubmission"
        case .needsConsent: "needsConsent"
        case .rejected: "rejected"
        case .reauthorize: "reauthorize"
        case .retry(let after): "retry \(after.components.seconds)s"
        case .throttled(let retryAfter): "throttled \(retryAfter.components.seconds)s"
        case .outcomeUnknown: "outcomeUnknown"
        }
    }

    static func rejectionText(_ status: Int, _ error: HMRCErrorBody?) -> String {
        error.map { "HMRC HTTP \(status) \($0.summary)" } ?? "HMRC HTTP \(status) with an unreadable reply"
    }

    static func problems(_ error: HMRCErrorBody) -> [JobError.Problem]? {
        guard !error.errors.isEmpty else { return nil }
        return error.errors.map { JobError.Problem(path: payloadPath($0.path), reason: reason($0)) }
    }

    private static func reason(_ detail: HMRCErrorBody.Detail) -> String {
        detail.message.map { "\(detail.code): \($0)" } ?? detail.code
    }

    /// HMRC's JSON pointer (`/vatDueSales`, `/obligations/0/start`) as a payload path (`vatDueSales`,
    /// `obligations[0].start`); `""` when HMRC gives none.
    static func payloadPath(_ pointer: String?) -> String {
        guard let pointer, !pointer.isEmpty else { return "" }
        var path = ""
        for token in pointer.split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let index = Int(key) {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key : "." + key
            }
        }
        return path
    }
}
