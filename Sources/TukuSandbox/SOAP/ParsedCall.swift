import TukuGateway

/// A SOAP call the sandbox understood well enough to answer in the operation's response shape.
public struct ParsedCall: Sendable {
    /// What the body asks for, or why it cannot be processed.
    public enum Content: Sendable {
        /// The body failed structural or business checks: answer with these status messages.
        case refused([StatusMessage])
        /// An EI return to file.
        case file(FileRequest)
        /// An EI status query.
        case status(StatusQuery)
        /// An EI RetrieveReturn query (payday required by the XSD).
        case retrieveReturn(StatusQuery)
        /// An Employment service call that passed its checks.
        case employment(EmploymentRequest)
    }

    /// The operation named by `wsa:Action`.
    public var operation: GatewayOperation
    /// What the body asks for.
    public var content: Content
}

extension ParsedCall.Content {
    /// The employer the call is about (9 digits), once the body passed its checks.
    var employer: String? {
        switch self {
        case .refused: nil
        case .file(let request): request.employer
        case .status(let query), .retrieveReturn(let query): query.employer
        case .employment(let request): request.employer
        }
    }
}
