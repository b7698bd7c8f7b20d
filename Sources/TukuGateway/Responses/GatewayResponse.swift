import TukuIRD

/// A reply from IRD's gateway, read from its SOAP 1.2 envelope.
public struct GatewayResponse: Sendable, Hashable {
    /// What the body holds.
    public enum Content: Sendable, Hashable {
        /// An IRD response document with one or more status messages (IRD reports business errors this way,
        /// with HTTP 200, rather than as faults).
        case result(GatewayResult)
        /// A SOAP fault, e.g. IRD's "UnAuthorised" technical fault.
        case fault(SOAPFault)
    }

    /// The `wsa:Action` header, e.g. `https://services.ird.govt.nz/GWS/Returns/Return/FileResponse`, if present.
    public var action: String?
    /// What the body holds.
    public var content: Content

    /// Creates a response.
    public init(action: String?, content: Content) {
        self.action = action
        self.content = content
    }
}

/// An IRD response document (`cmn:StandardResponseType` and its extensions).
public struct GatewayResult: Sendable, Hashable {
    /// The response element's local name, e.g. `fileResponse`, `retrieveStatusResponse`, `employmentResponse`.
    public var responseElement: String
    /// Every `statusMessage`, in document order; never empty.
    public var statusMessages: [StatusMessage]
    /// The File operation's `gatewayId` (quote it to IRD support), when present.
    public var gatewayId: String?
    /// The File operation's `submissionKey` (identifies the return for amendments and status), when present.
    public var submissionKey: Int64?
    /// RetrieveStatus's `returnStatus` entries, in document order.
    public var returnStatuses: [ReturnStatus]
    /// RetrieveReturn's returns (one per `responseBody`), in document order.
    public var retrievedReturns: [RetrievedReturn] = []

    /// Creates a result.
    public init(
        responseElement: String, statusMessages: [StatusMessage], gatewayId: String? = nil,
        submissionKey: Int64? = nil, returnStatuses: [ReturnStatus] = []
    ) {
        self.responseElement = responseElement
        self.statusMessages = statusMessages
        self.gatewayId = gatewayId
        self.submissionKey = submissionKey
        self.returnStatuses = returnStatuses
    }

    /// Whether every status message has code 0.
    public var isSuccess: Bool { statusMessages.allSatisfy { $0.statusCode == 0 } }

    /// The first status message with a non-zero code, if any.
    public var firstError: StatusMessage? { statusMessages.first { $0.statusCode != 0 } }
}

/// One return from RetrieveReturn (a `responseBody` of `r:RetrieveReturnResponseBodyType`): the figures that
/// identify it and its totals, read from its `formFields` in the EI v2 or v1 namespace.
public struct RetrievedReturn: Sendable, Hashable {
    /// `standardFields/isNilReturn`, when present.
    public var isNilReturn: Bool?
    /// The return's submission key, when present.
    public var submissionKey: Int64?
    /// The payday.
    public var payDayDate: CalendarDate?
    /// The `referenceId` of each employee line, in document order (empty where a line has none).
    public var lineReferences: [String]
    /// `totalGrossEarnings`, as IRD wrote it.
    public var totalGrossEarnings: String?
    /// `totalPAYESchedularTaxDeductions`, as IRD wrote it.
    public var totalPAYE: String?

    /// Creates a retrieved return.
    public init(
        isNilReturn: Bool? = nil, submissionKey: Int64? = nil, payDayDate: CalendarDate? = nil, lineReferences: [String] = [],
        totalGrossEarnings: String? = nil, totalPAYE: String? = nil
    ) {
        self.isNilReturn = isNilReturn
        self.submissionKey = submissionKey
        self.payDayDate = payDayDate
        self.lineReferences = lineReferences
        self.totalGrossEarnings = totalGrossEarnings
        self.totalPAYE = totalPAYE
    }
}

/// One `cmn:statusMessage`: 0 is success, positive codes are known errors, −1 is an undefined error.
public struct StatusMessage: Sendable, Hashable {
    /// The status code.
    public var statusCode: Int
    /// IRD's standard message for the code; empty on success.
    public var errorMessage: String
    /// Particulars of the error, when IRD gives them.
    public var errorDescription: String?

    /// Creates a status message.
    public init(statusCode: Int, errorMessage: String, errorDescription: String? = nil) {
        self.statusCode = statusCode
        self.errorMessage = errorMessage
        self.errorDescription = errorDescription
    }
}

/// One `rc:returnStatus` from RetrieveStatus.
public struct ReturnStatus: Sendable, Hashable {
    /// The status code attribute, e.g. `SUB`, `OPRCD`, `LPRCG`.
    public var code: String?
    /// The status text, e.g. `Late-processing`.
    public var text: String
    /// When IRD received the return.
    public var receivedDate: CalendarDate?
    /// The return's submission key.
    public var submissionKey: Int64?
    /// The major form type.
    public var majorFormType: String?
    /// The minor form type.
    public var minorFormType: String?
    /// Additional status information text.
    public var additionalInfo: String?

    /// Creates a return status.
    public init(
        code: String?, text: String, receivedDate: CalendarDate? = nil, submissionKey: Int64? = nil,
        majorFormType: String? = nil, minorFormType: String? = nil, additionalInfo: String? = nil
    ) {
        self.code = code
        self.text = text
        self.receivedDate = receivedDate
        self.submissionKey = submissionKey
        self.majorFormType = majorFormType
        self.minorFormType = minorFormType
        self.additionalInfo = additionalInfo
    }
}
