/// Counters over everything the sandbox answered, served at `GET /sandbox/stats` and printed on shutdown.
public struct SandboxStatistics: Sendable, Hashable, Codable {
    /// Requests received, all routes.
    public var calls = 0
    /// Requests by action (SOAP operation, or `<METHOD> <path>`).
    public var callsByAction: [String: Int] = [:]
    /// Requests by HTTP status answered (`"0"` for connections closed without an answer).
    public var callsByStatus: [String: Int] = [:]
    /// IRD status codes in the answers, by code.
    public var statusCodes: [String: Int] = [:]
    /// Injected faults and limit refusals, by name.
    public var faults: [String: Int] = [:]
    /// Returns stored (originals and amendments).
    public var filingsStored = 0
    /// Returns accepted although the employer had already filed for the same payday (only with the `accept`
    /// duplicate policy); a client that never double-files keeps this at 0.
    public var duplicateFilings = 0
    /// File calls refused as duplicates (codes 107 and 160).
    public var duplicatesRefused = 0
    /// Employment relationships recorded (by Create, or by an Update or Terminate of one the sandbox did not know).
    public var employmentsCreated = 0
    /// Create calls refused because the employee already had a current employment (code 106).
    public var employmentCreatesRefused = 0
    /// SOAP calls refused because the body failed validation against IRD's XSDs (code 21).
    public var schemaRejections = 0

    /// VAT returns the HMRC personality stored.
    public var hmrcReturnsStored = 0
    /// VAT returns refused with HMRC's 403 `DUPLICATE_SUBMISSION` because one was stored for the VRN and period.
    public var hmrcDuplicateSubmissions = 0
    /// VAT calls refused for their fraud prevention headers, by header missing or malformed.
    public var hmrcFraudHeaderProblems: [String: Int] = [:]

    /// Empty counters.
    public init() {}

    mutating func record(_ arrival: Arrival) {
        calls += 1
        callsByAction[arrival.action, default: 0] += 1
        callsByStatus[String(arrival.status), default: 0] += 1
        if let code = arrival.statusCode { statusCodes[String(code), default: 0] += 1 }
        if arrival.statusCode == 21 { schemaRejections += 1 }
        if let fault = arrival.fault { faults[fault, default: 0] += 1 }
        switch arrival.duplicate {
        case "accepted-again"?: duplicateFilings += 1
        case "identical-within-hour"?, "existing-return"?: duplicatesRefused += 1
        case "employment-exists"?: employmentCreatesRefused += 1
        case "hmrc-duplicate-submission"?: hmrcDuplicateSubmissions += 1
        default: break
        }
    }

    /// One line for the shutdown summary, e.g. `calls=120 filings=40 duplicate_filings=0 duplicates_refused=3`.
    public var summaryLine: String {
        "calls=\(calls) filings=\(filingsStored) duplicate_filings=\(duplicateFilings) duplicates_refused=\(duplicatesRefused)"
            + " employments=\(employmentsCreated) employment_creates_refused=\(employmentCreatesRefused)"
            + " schema_rejections=\(schemaRejections) hmrc_returns=\(hmrcReturnsStored)"
            + " hmrc_duplicate_submissions=\(hmrcDuplicateSubmissions)"
    }
}
