/// What the queue should do with a job after one gateway call. See `docs/outcomes.md` for the mapping.
public enum GatewayOutcome: Sendable, Hashable {
    /// IRD accepted the request. `gatewayId` and `submissionKey` come from a File reply.
    case succeeded(gatewayId: String?, submissionKey: Int64?)
    /// The access token was rejected (IRD code 1): refresh or re-authorise, then call again.
    case reauthorize
    /// A transient failure (IRD codes −1, 108; HTTP 5xx other than 504): call again after at least `after`.
    case retry(after: Duration)
    /// IRD's "UnAuthorised" SOAP fault, an unexpected technical fault: call again after at least `after` (≥ 5 s).
    case retryAfterUnauthorisedFault(after: Duration)
    /// HTTP 429, the provider's concurrency limit: wait `retryAfter` (Retry-After honoured), costs no attempt.
    case throttled(retryAfter: Duration)
    /// The request may or may not have taken effect (HTTP 504, timeout or connection drop after sending,
    /// an unreadable success reply, IRD code 160): reconcile with RetrieveStatus before sending again.
    case outcomeUnknown(reason: String)
    /// IRD refused the request; sending it again will not help. `code` is IRD's status code when there is one.
    case rejected(code: Int?, message: String)
}
