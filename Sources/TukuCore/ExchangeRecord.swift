import Foundation

/// One HTTP call made for a job and what came of it, stored in `tuku.exchanges` with the attempt's ack.
///
/// Holds no credentials: the request body is the envelope as sent, and credentials travel only in headers,
/// which are never recorded.
public struct ExchangeRecord: Sendable, Hashable {
    /// Why the call was made.
    public struct Purpose: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// The job's own call.
        public static let submit = Purpose(name: "submit")
        /// A status query made to settle an ambiguous earlier outcome before anything is sent again.
        public static let reconcile = Purpose(name: "reconcile")
        public var description: String { self.name }
    }

    /// One IRD status message.
    public struct Status: Sendable, Hashable, Codable {
        public var code: Int
        public var message: String
        public var description: String?

        public init(code: Int, message: String, description: String? = nil) {
            self.code = code
            self.message = message
            self.description = description
        }
    }

    /// A SOAP fault.
    public struct Fault: Sendable, Hashable, Codable {
        public var code: String
        public var reason: String

        public init(code: String, reason: String) {
            self.code = code
            self.reason = reason
        }
    }

    public var purpose: Purpose
    /// The URL called, without credentials.
    public var endpoint: String
    /// The SOAP action.
    public var action: String
    public var startedAt: Date
    public var latency: Duration?
    /// `nil` when no HTTP response arrived.
    public var httpStatus: Int?
    /// Why no response arrived (for example `timed_out_after_send`).
    public var transportError: String?
    public var statuses: [Status]
    public var fault: Fault?
    public var gatewayID: String?
    public var submissionKey: Int64?
    /// What Tuku made of the answer.
    public var outcome: String
    public var requestBody: String?
    public var responseBody: String?
    /// The reply exactly as received, only when it is not valid UTF-8 (``responseBody`` then shows each bad byte
    /// as U+FFFD). `nil` for a valid UTF-8 reply, stored once as text.
    public var responseBodyBytes: [UInt8]?
    /// The gateway's proof that it accepted a filing, as a JSON object (HMRC: `Receipt-ID`, `Receipt-Timestamp`,
    /// `X-CorrelationId`, `formBundleNumber`, `chargeRefNumber`, `processingDate`); stored in
    /// `tuku.exchanges.receipt` and kept with the row's other metadata when the bodies are swept. `nil` for none.
    public var receipt: String?

    /// Sets ``responseBody`` from the reply's bytes, and ``responseBodyBytes`` too when they are not valid UTF-8,
    /// so that what came back is kept exactly.
    public mutating func setResponse<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if let text = String(validating: bytes, as: UTF8.self) {
            self.responseBody = text
            self.responseBodyBytes = nil
        } else {
            self.responseBody = String(decoding: bytes, as: UTF8.self)
            self.responseBodyBytes = Array(bytes)
        }
    }

    public init(
        purpose: Purpose, endpoint: String, action: String, startedAt: Date, latency: Duration?,
        httpStatus: Int?, transportError: String?, statuses: [Status] = [], fault: Fault? = nil,
        gatewayID: String? = nil, submissionKey: Int64? = nil, outcome: String,
        requestBody: String?, responseBody: String?
    ) {
        self.purpose = purpose
        self.endpoint = endpoint
        self.action = action
        self.startedAt = startedAt
        self.latency = latency
        self.httpStatus = httpStatus
        self.transportError = transportError
        self.statuses = statuses
        self.fault = fault
        self.gatewayID = gatewayID
        self.submissionKey = submissionKey
        self.outcome = outcome
        self.requestBody = requestBody
        self.responseBody = responseBody
    }
}
