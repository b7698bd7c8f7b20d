import Foundation
import Synchronization
import TukuGateway
import TukuIRD

/// The returns the sandbox holds, in memory: what File stores and RetrieveStatus reports.
///
/// Duplicate rules (EI build pack §5.2–5.3): an identical payload for the same employer, period and payday within
/// the last hour is refused with code 160; another original return for an employer and payday already filed is
/// refused with code 107 (or stored and counted, with ``DuplicatePolicy/accept``). An amendment must name the
/// submission key of a return of the same employer and period (code 103 otherwise).
///
/// RetrieveStatus (EI build pack §3.2) answers each matching return with its status, submission key and
/// `minorFormType` EI2: `SUB` (Submitted) during the processing delay, then `OPRCD` (Ontime-processed) or `LPRCD`
/// (Late-processed) by the received date against the due date (``FilingDeadline``); with no matching return, 103
/// "No return found" (or `EXP`, with ``NoReturnAnswer/expected``).
///
/// RetrieveReturn (EI build pack §3.3) answers the matching returns with every field as filed; with none, 103 (or,
/// with ``NoReturnAnswer/expected``, status 0 and no return body).
public final class FilingRegistry: Sendable {
    /// Duplicate handling and processing times.
    public struct Configuration: Sendable, Hashable {
        /// What happens to a second original return for the same employer and payday. Defaults to
        /// ``DuplicatePolicy/reject``.
        public var duplicatePolicy: DuplicatePolicy
        /// How long an identical payload is refused with code 160. Defaults to 1 hour.
        public var identicalPayloadWindow: Duration
        /// How long a stored return shows as `SUB` (Submitted) before it shows as `OPRCD` (Ontime-processed).
        /// Defaults to 5 seconds (IRD: "within 5 minutes").
        public var processingDelay: Duration
        /// What RetrieveStatus answers when no return matches. Defaults to ``NoReturnAnswer/noReturnFound`` (103).
        public var noReturnAnswer: NoReturnAnswer

        /// Creates a configuration.
        public init(
            duplicatePolicy: DuplicatePolicy = .reject, identicalPayloadWindow: Duration = .seconds(3600),
            processingDelay: Duration = .seconds(5), noReturnAnswer: NoReturnAnswer = .noReturnFound
        ) {
            self.duplicatePolicy = duplicatePolicy
            self.identicalPayloadWindow = identicalPayloadWindow
            self.processingDelay = processingDelay
            self.noReturnAnswer = noReturnAnswer
        }
    }

    /// One stored return.
    public struct StoredReturn: Sendable, Hashable {
        /// The employer identifier.
        public var employer: String
        /// The period end date.
        public var periodEndDate: CalendarDate
        /// The payday.
        public var payDayDate: CalendarDate
        /// The submission key IRD assigned.
        public var submissionKey: Int64
        /// The gateway id IRD answered with.
        public var gatewayId: String
        /// When it was received.
        public var receivedAt: Date
        /// The submission key this return amends, if it is an amendment.
        public var amends: Int64?
        /// The client that filed it.
        public var client: String
        /// `standardFields/isNilReturn` as filed, when present.
        public var isNilReturn: Bool? = nil
        /// The children of `formFields` as filed (prefix `r` for the ReturnEI namespace), without `submissionKey`.
        public var formFieldsXML: String = ""
    }

    private struct PaydayKey: Hashable {
        var employer: String
        var payDay: CalendarDate
    }

    private struct PayloadKey: Hashable {
        var employer: String
        var periodEnd: CalendarDate
        var payDay: CalendarDate
        var hash: String
    }

    private struct State {
        var returns: [Int64: StoredReturn] = [:]
        var originalsByPayday: [PaydayKey: [Int64]] = [:]
        var recentPayloads: [PayloadKey: Date] = [:]
        var nextSubmissionKey: Int64
        var nextGatewaySequence: UInt64
    }

    /// The configuration.
    public let configuration: Configuration
    private let state: Mutex<State>

    /// Creates an empty registry.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        var generator = SystemRandomNumberGenerator()
        self.state = Mutex(
            State(
                nextSubmissionKey: Int64.random(in: 100_000_000...800_000_000, using: &generator),
                nextGatewaySequence: UInt64.random(in: 1_000_000...100_000_000, using: &generator)))
    }

    /// Files a return (already checked by ``SOAPRequestReader``).
    public func file(_ request: FileRequest, client: String, now: Date = Date()) -> FileDecision {
        state.withLock { state in
            let payloadKey = PayloadKey(
                employer: request.employer, periodEnd: request.periodEndDate, payDay: request.payDayDate, hash: request.payloadHash)
            if let previous = state.recentPayloads[payloadKey],
                now.timeIntervalSince(previous) < OAuthAuthority.seconds(configuration.identicalPayloadWindow)
            {
                return .refused(code: 160, message: "Duplicate payday submission", duplicate: "identical-within-hour")
            }
            let paydayKey = PaydayKey(employer: request.employer, payDay: request.payDayDate)
            var amends: Int64?
            var duplicate: String?
            if request.isAmended {
                guard let key = request.submissionKey, let original = state.returns[key], original.employer == request.employer,
                    original.periodEndDate == request.periodEndDate
                else {
                    return .refused(code: 103, message: "No return found", duplicate: nil)
                }
                amends = key
            } else if let existing = state.originalsByPayday[paydayKey], !existing.isEmpty {
                switch configuration.duplicatePolicy {
                case .reject:
                    return .refused(code: 107, message: "Duplicate return", duplicate: "existing-return")
                case .accept:
                    duplicate = "accepted-again"
                }
            }
            let submissionKey = state.nextSubmissionKey
            state.nextSubmissionKey += 1
            let gatewayId = Self.gatewayId(state.nextGatewaySequence)
            state.nextGatewaySequence += 1
            state.returns[submissionKey] = StoredReturn(
                employer: request.employer, periodEndDate: request.periodEndDate, payDayDate: request.payDayDate,
                submissionKey: submissionKey, gatewayId: gatewayId, receivedAt: now, amends: amends, client: client,
                isNilReturn: request.isNilReturn, formFieldsXML: request.formFieldsXML)
            if amends == nil { state.originalsByPayday[paydayKey, default: []].append(submissionKey) }
            state.recentPayloads[payloadKey] = now
            return .stored(submissionKey: submissionKey, gatewayId: gatewayId, duplicate: duplicate)
        }
    }

    /// RetrieveStatus: the stored returns for the employer, period and payday (and submission key, when given).
    public func status(_ query: StatusQuery, now: Date = Date()) -> StatusAnswer {
        let processing = OAuthAuthority.seconds(configuration.processingDelay)
        let found = matching(query)
        guard !found.isEmpty else {
            switch configuration.noReturnAnswer {
            case .noReturnFound: return .noReturnFound
            case .expected: return .statuses([ReturnStatus(code: "EXP", text: "Expected", minorFormType: "EI2")])
            }
        }
        return .statuses(
            found.map { stored in
                let processed = now.timeIntervalSince(stored.receivedAt) >= processing
                let late = FilingDeadline.isLate(payday: stored.payDayDate, receivedAt: stored.receivedAt)
                let (code, text) =
                    !processed ? ("SUB", "Submitted") : late ? ("LPRCD", "Late-processed") : ("OPRCD", "Ontime-processed")
                return ReturnStatus(code: code, text: text, submissionKey: stored.submissionKey, minorFormType: "EI2")
            })
    }

    /// RetrieveReturn: the stored returns for the employer, period and payday (and submission key, when given),
    /// by submission key, at most 100.
    public func retrieve(_ query: StatusQuery) -> RetrieveAnswer {
        let found = matching(query)
        guard !found.isEmpty else {
            switch configuration.noReturnAnswer {
            case .noReturnFound: return .noReturnFound
            case .expected: return .expectedWithoutReturn
            }
        }
        return .returns(Array(found.prefix(100)))
    }

    /// The stored returns matching a query, by submission key.
    private func matching(_ query: StatusQuery) -> [StoredReturn] {
        state.withLock { state in
            state.returns.values.filter { stored in
                stored.employer == query.employer && stored.periodEndDate == query.periodEndDate
                    && (query.payDayDate.map { $0 == stored.payDayDate } ?? true)
                    && (query.submissionKey.map { $0 == stored.submissionKey } ?? true)
            }
        }.sorted { $0.submissionKey < $1.submissionKey }
    }

    /// Every stored return, by submission key.
    public var storedReturns: [StoredReturn] {
        state.withLock { Array($0.returns.values) }.sorted { $0.submissionKey < $1.submissionKey }
    }

    /// How many returns are stored.
    public var count: Int { state.withLock { $0.returns.count } }

    /// A gateway id shaped like IRD's (`0000 002J ZJ5N 6`): 13 base-36 characters in groups of 4, 4, 4 and 1.
    static func gatewayId(_ sequence: UInt64) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var value = sequence
        var characters = [Character](repeating: "0", count: 13)
        for index in stride(from: 12, through: 0, by: -1) {
            characters[index] = alphabet[Int(value % 36)]
            value /= 36
        }
        let text = String(characters)
        return "\(text.prefix(4)) \(text.dropFirst(4).prefix(4)) \(text.dropFirst(8).prefix(4)) \(text.suffix(1))"
    }

}
