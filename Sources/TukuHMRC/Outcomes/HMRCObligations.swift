import Foundation

/// The answer to `GET /organisations/vat/{vrn}/obligations`: the periods HMRC expects returns for, open (`O`) or
/// fulfilled (`F`), which an `hmrc.vat.obligations` job keeps as its result so upstream can see what is due.
public struct HMRCObligations: Sendable, Hashable, Codable {
    /// One period.
    public struct Obligation: Sendable, Hashable, Codable {
        /// First day, `YYYY-MM-DD`.
        public var start: String
        /// Last day, `YYYY-MM-DD`.
        public var end: String
        /// Due date, `YYYY-MM-DD`.
        public var due: String
        /// `O` (open) or `F` (fulfilled).
        public var status: String
        /// The key a return for this period is filed under.
        public var periodKey: String
        /// When the return was received (fulfilled periods).
        public var received: String?

        /// Creates an obligation.
        public init(start: String, end: String, due: String, status: String, periodKey: String, received: String? = nil) {
            self.start = start
            self.end = end
            self.due = due
            self.status = status
            self.periodKey = periodKey
            self.received = received
        }

        /// Whether the period still needs a return.
        public var isOpen: Bool { status == "O" }
    }

    /// The periods, sorted by start as HMRC sends them.
    public var obligations: [Obligation]

    /// Creates a list.
    public init(obligations: [Obligation]) {
        self.obligations = obligations
    }

    /// Parses a 200 body; `nil` when it is not HMRC's `Obligations` shape.
    public static func parse(_ body: Data) -> HMRCObligations? {
        try? JSONDecoder().decode(HMRCObligations.self, from: body)
    }

    /// The job result: `{"obligations":[…]}` with keys sorted, as stored for upstream.
    public var resultJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data(#"{"obligations":[]}"#.utf8)
    }
}
