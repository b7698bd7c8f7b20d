/// A structured error recorded on a job and on its attempt, as the operator will read it in SQL.
///
/// Stored as JSON: `{"code": "...", "message": "...", "problems": [{"path": "...", "reason": "..."}]}`.
/// Never put secrets (tokens, keys) or whole payloads in a `JobError`.
public struct JobError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// One problem with one field of a payload.
    public struct Problem: Sendable, Hashable, Codable {
        /// Where in the payload, for example `lines[3].irdNumber`.
        public var path: String
        /// What is wrong with it.
        public var reason: String

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// A stable, machine-readable code such as `unknown_kind` or `payload_invalid`.
    public var code: String
    /// A sentence for a person.
    public var message: String
    /// Every problem found, when the error is about input.
    public var problems: [Problem]?

    public init(code: String, message: String, problems: [Problem]? = nil) {
        self.code = code
        self.message = message
        self.problems = problems
    }

    public var description: String {
        guard let problems, !problems.isEmpty else { return "\(self.code): \(self.message)" }
        let listed = problems.map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
        return "\(self.code): \(self.message) (\(listed))"
    }
}

extension JobError {
    /// The code of an error saying the far side may have acted on a request whose answer was lost. A run that
    /// ends with it must be settled (reconciled) before anything is sent again, even if the run was cut short.
    public static let outcomeUnknownCode = "outcome_unknown"

    /// No handler is registered for the job's kind.
    public static func unknownKind(_ kind: String) -> JobError {
        JobError(code: "unknown_kind", message: "no handler is registered for kind '\(Self.printable(kind))'")
    }

    /// The payload could not be decoded into what the kind's handler expects.
    public static func undecodablePayload(kind: String, _ problems: [Problem]) -> JobError {
        JobError(
            code: "payload_undecodable", message: "the payload is not a valid '\(Self.printable(kind))' payload", problems: problems)
    }

    /// `text` safe to put in one log line or message: control characters escaped, at most `limit` characters (the
    /// rest replaced by `…`). Kinds are checked at insert (`jobs_kind_is_a_name`); this keeps a row that predates
    /// the check, or any other caller's text, from splitting or flooding a log.
    public static func printable(_ text: String, limit: Int = 100) -> String {
        var result = ""
        for (count, scalar) in text.unicodeScalars.enumerated() {
            if count == limit {
                result += "…"
                break
            }
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                result += scalar.escaped(asASCII: true)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// The handler threw an error it did not classify.
    public static func unexpected(_ error: any Error) -> JobError {
        JobError(code: "handler_error", message: String(describing: error))
    }
}
