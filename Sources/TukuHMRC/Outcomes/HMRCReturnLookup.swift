import Foundation

/// The answer to `GET /organisations/vat/{vrn}/returns/{periodKey}`, asked before filing again after an ambiguous
/// outcome: HMRC holds a return for the period (done, never file twice), holds none (safe to file), or the call
/// itself did not settle it.
public enum HMRCReturnLookup: Sendable, Hashable {
    /// 200 with a return: the period is filed. `periodKey` as HMRC gave it, `correlationID` from `X-CorrelationId`.
    case held(periodKey: String, correlationID: String?)
    /// 404 `NOT_FOUND`: no return for the period.
    case none
    /// Anything else (throttled, 5xx, 401, a 200 without a readable return, a 404 for a wrong URL): what the call
    /// came to, as for any other call.
    case undetermined(HMRCOutcome)

    /// Reads one exchange of a view-return call.
    public static func read(_ exchange: HMRCExchange, classifier: HMRCOutcomeClassifier, now: Date) -> HMRCReturnLookup {
        if case .response(let status, let headers, let body) = exchange {
            struct Held: Decodable { var periodKey: String }
            if status == 200 {
                guard let held = try? JSONDecoder().decode(Held.self, from: body) else {
                    return .undetermined(.outcomeUnknown(reason: "HTTP 200 to a return lookup without a readable return"))
                }
                return .held(periodKey: held.periodKey, correlationID: headers.first(name: "X-CorrelationId"))
            }
            if status == 404, HMRCErrorBody.parse(body)?.code == "NOT_FOUND" {
                return .none
            }
        }
        return .undetermined(classifier.classify(exchange, operation: .viewReturn, now: now))
    }
}
