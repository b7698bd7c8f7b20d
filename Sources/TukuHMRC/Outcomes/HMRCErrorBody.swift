import Foundation

/// One of HMRC's JSON error answers: `{"code": "...", "message": "...", "errors": [{"code","message","path"}]}`.
public struct HMRCErrorBody: Sendable, Hashable, Decodable {
    /// One entry of `errors`.
    public struct Detail: Sendable, Hashable, Decodable {
        /// The code, e.g. `INVALID_MONETARY_AMOUNT`.
        public var code: String
        /// The message.
        public var message: String?
        /// Where, as a JSON pointer such as `/vatDueSales`, when HMRC gives one.
        public var path: String?

        /// Creates a detail.
        public init(code: String, message: String?, path: String?) {
            self.code = code
            self.message = message
            self.path = path
        }
    }

    /// The code, e.g. `VAT_TOTAL_VALUE`.
    public var code: String
    /// The message.
    public var message: String?
    /// Field errors; empty when HMRC sent none.
    public var errors: [Detail]

    /// Creates an error body.
    public init(code: String, message: String?, errors: [Detail] = []) {
        self.code = code
        self.message = message
        self.errors = errors
    }

    private enum CodingKeys: String, CodingKey { case code, message, errors }

    /// Decodes `errors` as empty when absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(String.self, forKey: .code)
        message = try container.decodeIfPresent(String.self, forKey: .message)
        errors = try container.decodeIfPresent([Detail].self, forKey: .errors) ?? []
    }

    /// Parses a body; `nil` when it is not HMRC's JSON error shape.
    public static func parse(_ body: Data) -> HMRCErrorBody? {
        try? JSONDecoder().decode(HMRCErrorBody.self, from: body)
    }

    /// `CODE: message`.
    public var summary: String { message.map { "\(code): \($0)" } ?? code }
}

/// What HMRC gave back for a filed return: the receipt headers and the `formBundleNumber` and `chargeRefNumber` of
/// the 201 body: the filing's proof, for the exchange row.
///
/// `Codable` (keys as the properties are named, absent values left out) so it can be stored as JSON beside the
/// exchange.
public struct HMRCReceipt: Sendable, Hashable, Codable {
    /// `Receipt-ID`.
    public var receiptID: String?
    /// `Receipt-Timestamp`.
    public var receiptTimestamp: String?
    /// `X-CorrelationId`.
    public var correlationID: String?
    /// `processingDate` of the body.
    public var processingDate: String?
    /// `formBundleNumber` of the body (12 digits).
    public var formBundleNumber: String?
    /// `chargeRefNumber` of the body (present when the net VAT is a debit).
    public var chargeRefNumber: String?
    /// `paymentIndicator` of the body (`DD` or `BANK`).
    public var paymentIndicator: String?

    /// Creates a receipt.
    public init(
        receiptID: String? = nil, receiptTimestamp: String? = nil, correlationID: String? = nil, processingDate: String? = nil,
        formBundleNumber: String? = nil, chargeRefNumber: String? = nil, paymentIndicator: String? = nil
    ) {
        self.receiptID = receiptID
        self.receiptTimestamp = receiptTimestamp
        self.correlationID = correlationID
        self.processingDate = processingDate
        self.formBundleNumber = formBundleNumber
        self.chargeRefNumber = chargeRefNumber
        self.paymentIndicator = paymentIndicator
    }
}
