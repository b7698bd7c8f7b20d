import Foundation
import NIOHTTP1

/// What happened on one call to HMRC, as input to ``HMRCOutcomeClassifier``.
public enum HMRCExchange: Sendable, Equatable {
    /// An HTTP response arrived (after any redirects were followed).
    case response(status: Int, headers: HTTPHeaders, body: Data)
    /// No HTTP response. `requestSent` is `false` when the request never left (connect or TLS handshake failed),
    /// and `true` when it may have reached HMRC (timeout or connection drop after sending).
    case noResponse(requestSent: Bool)
}
