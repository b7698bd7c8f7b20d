import Foundation

/// One request the sandbox received, as written to the arrivals log.
public struct Arrival: Sendable, Hashable {
    /// When the request arrived (its head and body were read).
    public var at: Date
    /// Who sent it: the mutual-TLS peer certificate's subject, else the OAuth client, else `anonymous@<address>`.
    public var client: String
    /// The SOAP operation (`File`, `RetrieveStatus`, `Create`, …), or `<METHOD> <path>` for other routes.
    public var action: String
    /// The HTTP status answered; 0 when the connection was closed without an answer.
    public var status: Int
    /// `mtls` or `tls`.
    public var listener: String
    /// The injected fault, if any (`429`, `503`, `504-after-store`, `reset`, `slow`, `malformed`, `html`), or
    /// `rate-limit` / `concurrency-limit` when a limit refused the call.
    public var fault: String?
    /// For File calls that hit an existing return: `identical-within-hour` (code 160), `existing-return` (code 107)
    /// or `accepted-again` (stored although the employer already filed for the payday).
    public var duplicate: String?
    /// The IRD status code in the answer, when the answer is an IRD response document.
    public var statusCode: Int?

    /// Creates an arrival.
    public init(
        at: Date, client: String, action: String, status: Int, listener: String, fault: String? = nil,
        duplicate: String? = nil, statusCode: Int? = nil
    ) {
        self.at = at
        self.client = client
        self.action = action
        self.status = status
        self.listener = listener
        self.fault = fault
        self.duplicate = duplicate
        self.statusCode = statusCode
    }

    /// The JSON object, one line, keys `at`, `client`, `action`, `status`, `listener`, then `fault`, `duplicate`
    /// and `statusCode` when present.
    public var jsonLine: String {
        var line =
            "{\"at\":\"\(Self.rfc3339Microseconds(at))\",\"client\":\(Self.quoted(client)),\"action\":\(Self.quoted(action)),\"status\":\(status),\"listener\":\(Self.quoted(listener))"
        if let fault { line += ",\"fault\":\(Self.quoted(fault))" }
        if let duplicate { line += ",\"duplicate\":\(Self.quoted(duplicate))" }
        if let statusCode { line += ",\"statusCode\":\(statusCode)" }
        return line + "}"
    }

    /// `2025-05-16T02:03:04.123456Z`: RFC 3339, UTC, microseconds.
    public static func rfc3339Microseconds(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var micros = Int(((interval - Double(seconds)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let microText = String(micros)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 6 - microText.count) + microText + "Z"
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
