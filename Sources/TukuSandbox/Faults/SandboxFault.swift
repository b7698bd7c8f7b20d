/// A fault the sandbox can inject into a SOAP call. A closed set: these are the failures a gateway client must
/// survive.
public enum SandboxFault: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// HTTP 429 with `Retry-After` and IRD's SOAP fault "UnAuthorised" (maximum concurrency exceeded); the call is
    /// not processed.
    case tooManyRequests = "429"
    /// HTTP 503 with `Retry-After` and a SOAP `Receiver` fault; the call is not processed.
    case serviceUnavailable = "503"
    /// The call is processed (a filing is stored), then the answer is replaced by HTTP 504: the ambiguous case.
    case gatewayTimeoutAfterStore = "504-after-store"
    /// The connection is closed (with a TCP reset) without an answer; the call is not processed.
    case connectionReset = "reset"
    /// The call is processed, then the answer is held back for the slow delay (longer than the client's timeout).
    case slow = "slow"
    /// The call is processed, then answered with HTTP 200 and a truncated, malformed XML body.
    case malformed = "malformed"
    /// HTTP 502 with an HTML error page, as a load balancer sends; the call is not processed.
    case htmlErrorPage = "html"
    /// A call that times out without reaching IRD: not processed (nothing stored), the connection held open without
    /// an answer for the slow delay, then closed with a TCP reset. The client's deadline passes first.
    case stall = "stall"

    /// Whether the call is processed (and a File stored) before the fault shows.
    public var processesCall: Bool {
        switch self {
        case .gatewayTimeoutAfterStore, .slow, .malformed: true
        case .tooManyRequests, .serviceUnavailable, .connectionReset, .htmlErrorPage, .stall: false
        }
    }

    /// The name used on the command line and in the arrivals log, e.g. `504-after-store`.
    public var description: String { rawValue }

    /// Parses a fault name; `nil` for an unknown one.
    public init?(name: String) {
        self.init(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
