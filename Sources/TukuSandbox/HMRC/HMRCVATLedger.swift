import Foundation
import Synchronization

/// The VAT returns the sandbox's HMRC personality has stored, by VRN and period key, and the obligations they fulfil.
public final class HMRCVATLedger: Sendable {
    /// A stored return and its receipt.
    public struct Stored: Sendable, Hashable {
        /// The return.
        public var vatReturn: HMRCVATReturn
        /// When it was stored.
        public var receivedAt: Date
        /// The 12-digit form bundle number.
        public var formBundleNumber: String
    }

    /// The answer to ``submit(_:vrn:now:)``.
    public enum Submission: Sendable, Hashable {
        /// Stored.
        case stored(Stored)
        /// A return for the VRN and period key already exists.
        case duplicate
    }

    private struct State {
        var returns: [String: Stored] = [:]
        var nextFormBundle: Int64 = 100_000_000_001
    }

    private let state = Mutex(State())

    /// Creates an empty ledger.
    public init() {}

    /// Returns stored.
    public var count: Int { state.withLock { $0.returns.count } }

    /// Stores a return unless one exists for the same VRN and period key.
    public func submit(_ vatReturn: HMRCVATReturn, vrn: String, now: Date) -> Submission {
        state.withLock { state in
            let key = vrn + "|" + vatReturn.periodKey
            guard state.returns[key] == nil else { return .duplicate }
            let stored = Stored(vatReturn: vatReturn, receivedAt: now, formBundleNumber: String(state.nextFormBundle))
            state.nextFormBundle += 1
            state.returns[key] = stored
            return .stored(stored)
        }
    }

    /// The return stored for a VRN and period key.
    public func stored(vrn: String, periodKey: String) -> Stored? {
        state.withLock { $0.returns[vrn + "|" + periodKey] }
    }

    /// The quarterly obligations (calendar quarters, period keys `YYA1`…`YYA4`) overlapping `from…to`: fulfilled
    /// (`F`) when a return with the period key is stored, open (`O`) otherwise; due one month and seven days after
    /// the end as HMRC counts it (a quarter ending 31 March is due 7 May). Sorted by start.
    public func obligations(vrn: String, from: Date, to: Date, calendar: Calendar) -> [HMRCObligation] {
        let fromYear = calendar.component(.year, from: from)
        let toYear = calendar.component(.year, from: to)
        var result: [HMRCObligation] = []
        for year in fromYear...max(fromYear, toYear) {
            for quarter in 1...4 {
                guard let start = calendar.date(from: DateComponents(year: year, month: quarter * 3 - 2, day: 1)),
                    let next = calendar.date(byAdding: .month, value: 3, to: start),
                    let end = calendar.date(byAdding: .day, value: -1, to: next),
                    let dueMonth = calendar.date(byAdding: .month, value: 1, to: next),
                    let due = calendar.date(byAdding: .day, value: 6, to: dueMonth)
                else { continue }
                guard end >= from, start <= to else { continue }
                let key = String(format: "%02dA%d", year % 100, quarter)
                let stored = self.stored(vrn: vrn, periodKey: key)
                result.append(
                    HMRCObligation(
                        start: start, end: end, due: due, status: stored == nil ? "O" : "F", received: stored?.receivedAt, periodKey: key))
            }
        }
        return result
    }
}

/// One obligation period, as `GET …/obligations` lists it.
public struct HMRCObligation: Sendable, Hashable {
    /// The first day.
    public var start: Date
    /// The last day.
    public var end: Date
    /// The due date.
    public var due: Date
    /// `O` (open) or `F` (fulfilled).
    public var status: String
    /// When the return was received (fulfilled only).
    public var received: Date?
    /// The period key.
    public var periodKey: String

    /// The OpenAPI's `Obligation` object.
    func json(_ day: (Date) -> String) -> String {
        var text = "{\"start\":\"\(day(start))\",\"end\":\"\(day(end))\",\"due\":\"\(day(due))\",\"status\":\"\(status)\""
        if let received { text += ",\"received\":\"\(day(received))\"" }
        return text + ",\"periodKey\":\(Arrival.quoted(periodKey))}"
    }
}
