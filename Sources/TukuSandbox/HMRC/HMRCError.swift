/// One of HMRC's JSON error answers: `{"code","message","errors"?:[{"code","message","path"}]}`.
public struct HMRCError: Sendable, Hashable, Error {
    /// One entry of `errors`.
    public struct Detail: Sendable, Hashable {
        /// The code, e.g. `INVALID_MONETARY_AMOUNT`.
        public var code: String
        /// The message.
        public var message: String
        /// The JSON pointer of the offending field, e.g. `/vatDueSales`.
        public var path: String
    }

    /// The HTTP status.
    public var status: Int
    /// The code.
    public var code: String
    /// The message.
    public var message: String
    /// Field errors, when there are any.
    public var errors: [Detail]

    /// Creates an error answer.
    public init(_ status: Int, _ code: String, _ message: String, errors: [Detail] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
    }

    /// The JSON body.
    public var json: String {
        var text = "{\"code\":\(Arrival.quoted(code)),\"message\":\(Arrival.quoted(message))"
        if !errors.isEmpty {
            let items = errors.map {
                "{\"code\":\(Arrival.quoted($0.code)),\"message\":\(Arrival.quoted($0.message)),\"path\":\(Arrival.quoted($0.path))}"
            }
            text += ",\"errors\":[" + items.joined(separator: ",") + "]"
        }
        return text + "}"
    }

    static let missingCredentials = HMRCError(401, "MISSING_CREDENTIALS", "Authentication information is not provided")
    static let invalidCredentials = HMRCError(401, "INVALID_CREDENTIALS", "Invalid Authentication information provided")
    static let invalidScope = HMRCError(
        403, "INVALID_SCOPE", "Cannot access the required resource. Ensure this token has all the required scopes.")
    static let notAuthorised = HMRCError(403, "CLIENT_OR_AGENT_NOT_AUTHORISED", "The client and/or agent is not authorised")
    static let acceptHeaderInvalid = HMRCError(406, "ACCEPT_HEADER_INVALID", "The accept header is missing or invalid")
    static let throttled = HMRCError(
        429, "MESSAGE_THROTTLED_OUT", "The request for the API is throttled as you have exceeded your quota.")
    static let vrnInvalid = HMRCError(400, "VRN_INVALID", "The provided VRN is invalid")
    static let periodKeyInvalid = HMRCError(400, "PERIOD_KEY_INVALID", "Invalid period key")
    static let invalidRequest = HMRCError(400, "INVALID_REQUEST", "Invalid request")
    static let notFinalised = HMRCError(403, "NOT_FINALISED", "User has not declared VAT return as final")
    static let duplicateSubmission = HMRCError(
        403, "DUPLICATE_SUBMISSION", "The VAT return was already submitted for the given period")
    static let taxPeriodNotEnded = HMRCError(
        403, "TAX_PERIOD_NOT_ENDED",
        "The remote endpoint has indicated that the submission is for a tax period that has not ended")
    static let insolventTrader = HMRCError(
        403, "RULE_INSOLVENT_TRADER", "The remote endpoint has indicated that the Trader is insolvent")
    static let dateRangeTooLarge = HMRCError(
        403, "DATE_RANGE_TOO_LARGE", "The date of the requested return cannot be further than four years from the current date")
    static let notFound = HMRCError(404, "NOT_FOUND", "The requested resource could not be found")
    static let matchingResourceNotFound = HMRCError(404, "MATCHING_RESOURCE_NOT_FOUND", "A resource with the name in the request can not be found in the API")
    static let methodNotAllowed = HMRCError(405, "METHOD_NOT_ALLOWED", "This method is not supported on this resource")
    static let invalidDateFrom = HMRCError(400, "INVALID_DATE_FROM", "The provided from date is invalid")
    static let invalidDateTo = HMRCError(400, "INVALID_DATE_TO", "The provided to date is invalid")
    static let invalidDateRange = HMRCError(400, "INVALID_DATE_RANGE", "Invalid date range, must be 366 days or less")
    static let invalidStatus = HMRCError(400, "INVALID_STATUS", "The provided data is failed validation, invalid status")
    static let serverError = HMRCError(503, "SERVER_ERROR", "Service unavailable")
    static let gatewayTimeout = HMRCError(504, "GATEWAY_TIMEOUT", "The request has timed out")
}
