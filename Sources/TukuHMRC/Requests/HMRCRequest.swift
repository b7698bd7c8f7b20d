import Foundation
import NIOHTTP1

/// One call to HMRC's VAT (MTD) API 1.0, built from a validated payload: method, path (with query), headers and body.
///
/// Headers: `Accept: application/vnd.hmrc.1.0+json` (HMRC versions by header, 406 `ACCEPT_HEADER_INVALID`
/// without it), `Content-Type: application/json` when there is a body, and the fraud prevention headers. The
/// `Authorization` header is not here: the caller adds the bearer token at send time, so a request can be printed
/// or recorded without credentials.
public struct HMRCRequest: Sendable, Equatable {
    /// What the call does; the outcome classifier reads answers in its light.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        /// `POST /organisations/vat/{vrn}/returns`.
        case submitReturn
        /// `GET /organisations/vat/{vrn}/returns/{periodKey}`.
        case viewReturn
        /// `GET /organisations/vat/{vrn}/obligations`.
        case obligations
    }

    /// The operation.
    public var operation: Operation
    /// `GET` or `POST`.
    public var method: HTTPMethod
    /// The path and query, percent-encoded, e.g. `/organisations/vat/123456789/returns/%23001`.
    public var path: String
    /// Every header except `Authorization`, and `Host` and `Content-Length`, which the transport sets.
    public var headers: HTTPHeaders
    /// The JSON body of a POST; `nil` for a GET.
    public var body: Data?

    /// HMRC's versioned media type for VAT (MTD) API 1.0.
    public static let acceptValue = "application/vnd.hmrc.1.0+json"

    /// Creates a request.
    public init(operation: Operation, method: HTTPMethod, path: String, headers: HTTPHeaders, body: Data?) {
        self.operation = operation
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }

    /// `POST /organisations/vat/{vrn}/returns` with the return's `VATReturnDeclaration` body.
    public static func submitReturn(_ payload: VATReturnPayload, fraudPreventionHeaders: HTTPHeaders) -> HMRCRequest {
        let body = payload.requestBody
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: acceptValue)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(contentsOf: fraudPreventionHeaders)
        return HMRCRequest(
            operation: .submitReturn, method: .POST, path: "/organisations/vat/\(payload.vrn)/returns", headers: headers, body: body)
    }

    /// `GET /organisations/vat/{vrn}/returns/{periodKey}`: whether HMRC holds a return for the period (the check
    /// made before filing again after an ambiguous outcome). `#` in a period key is sent as `%23`.
    public static func viewReturn(vrn: String, periodKey: String, fraudPreventionHeaders: HTTPHeaders) -> HMRCRequest {
        HMRCRequest(
            operation: .viewReturn, method: .GET,
            path:
                "/organisations/vat/\(FraudPreventionHeaders.percentEncoded(vrn))/returns/\(FraudPreventionHeaders.percentEncoded(periodKey))",
            headers: getHeaders(fraudPreventionHeaders), body: nil)
    }

    /// `GET /organisations/vat/{vrn}/obligations?from&to&status`.
    public static func obligations(_ payload: VATObligationsPayload, fraudPreventionHeaders: HTTPHeaders) -> HMRCRequest {
        let query = payload.query
        return HMRCRequest(
            operation: .obligations, method: .GET,
            path: "/organisations/vat/\(payload.vrn)/obligations" + (query.isEmpty ? "" : "?" + query),
            headers: getHeaders(fraudPreventionHeaders), body: nil)
    }

    private static func getHeaders(_ fraud: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: acceptValue)
        headers.add(contentsOf: fraud)
        return headers
    }
}
