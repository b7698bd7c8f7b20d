/// The payload of an `ird.ei.status` job: ask IRD for the status of the EI return(s) for one payday
/// (Returns service `RetrieveStatus` with an `ei:retrieveEIRequest`).
///
/// ```json
/// { "employerIrdNumber": "49091850", "payDayDate": "2024-05-15", "submissionKey": 1829404672 }
/// ```
public struct EIStatusPayload: Codable, Sendable, Hashable {
    /// The employer's IRD number. Required.
    public var employerIrdNumber: Field<IRDNumber>
    /// The employer account type. Defaults to `EMP`.
    public var accountType: Field<EmployerAccountType>
    /// The payday whose returns to report. Required.
    public var payDayDate: Field<CalendarDate>
    /// The filing period end. Optional; derived from `payDayDate` (last day of its month) when absent.
    public var periodEndDate: Field<CalendarDate>
    /// One return's `submissionKey`; absent to report every return for the payday.
    public var submissionKey: Int64?

    /// Creates a payload.
    public init(
        employerIrdNumber: Field<IRDNumber>,
        accountType: Field<EmployerAccountType> = .missing,
        payDayDate: Field<CalendarDate>,
        periodEndDate: Field<CalendarDate> = .missing,
        submissionKey: Int64? = nil
    ) {
        self.employerIrdNumber = employerIrdNumber
        self.accountType = accountType
        self.payDayDate = payDayDate
        self.periodEndDate = periodEndDate
        self.submissionKey = submissionKey
    }

    /// The filing period end date: `periodEndDate` when given, else the last day of the payday's month.
    public var effectivePeriodEndDate: CalendarDate? {
        periodEndDate.value ?? payDayDate.value?.lastDayOfMonth
    }

    /// Every problem that would make IRD reject the request or make it fail `ReturnEI.v2.xsd`.
    public func validate() -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.irdNumber(employerIrdNumber, "employerIrdNumber", required: true, allowUnknown: false)
        problems.optional(accountType, "accountType")
        let payDay = problems.required(payDayDate, "payDayDate")
        if let periodEnd = problems.optional(periodEndDate, "periodEndDate") {
            if periodEnd != periodEnd.lastDayOfMonth {
                problems.add("periodEndDate", "must be the last day of a month (EI filing periods are calendar months)")
            }
            if let payDay, !payDay.isInSameMonth(as: periodEnd) {
                problems.add("payDayDate", "must be in the same month as periodEndDate (IRD code 161)")
            }
        }
        if let submissionKey, !(0...EIAmendment.maximumSubmissionKey).contains(submissionKey) {
            problems.add("submissionKey", "must be 0 to \(EIAmendment.maximumSubmissionKey)")
        }
        return problems.problems
    }
}
