/// The payload of an `ird.ei.file` job: one Employment Information (EI v2) return for one payday.
///
/// JSON keys are camelCase and, apart from `lines` (IRD's `employeeFields/employee`) and `amendment`, use IRD's
/// element names from `ReturnEI.v2.xsd`, so each field traces to the schema. See `jobs/ird.ei.file/` for examples.
///
/// ```json
/// { "employerIrdNumber": "49-091-850", "payDayDate": "2024-05-15", "isNilReturn": false,
///   "lines": [ { "referenceId": "7d0c…", "irdNumber": "136410132", "employeeName": "Aroha Ngāta",
///               "taxCode": "M", "payPeriodStartDate": "2024-05-01", "payPeriodEndDate": "2024-05-14",
///               "employeePayFrequency": "FT", "grossEarnings": "2450.00", "payeSchedularTaxDeductions": "412.37" } ] }
/// ```
public struct EIFilePayload: Codable, Sendable, Hashable {
    /// The employer's IRD number (sent as `cmn:identifier`, `IdentifierValueType="ACCIRD"`). Required.
    public var employerIrdNumber: Field<IRDNumber>
    /// The employer account type. Defaults to `EMP`.
    public var accountType: Field<EmployerAccountType>
    /// The payday: the day PAYE income was paid. Required.
    public var payDayDate: Field<CalendarDate>
    /// The filing period end: the last day of the payday's month. Optional; derived from `payDayDate` when absent.
    public var periodEndDate: Field<CalendarDate>
    /// Whether this is a nil return. Required; must be `true` exactly when `lines` is empty (IRD code 136).
    public var isNilReturn: Bool?
    /// Whether the employer account is to close after this period. Optional.
    public var isFinalReturn: Bool?
    /// Present only when amending a return already filed.
    public var amendment: EIAmendment?
    /// The PAYE intermediary's IRD number (`piIrdNumber`). Optional.
    public var piIrdNumber: Field<IRDNumber>
    /// Payroll contact name, 1–20 characters. Optional.
    public var contactName: String?
    /// Payroll contact phone number, 4–12 characters. Optional.
    public var contactPhoneNumber: String?
    /// Payroll contact email. Optional.
    public var contactEmail: String?
    /// One line per employee paid on this payday. Absent or empty for a nil return.
    public var lines: [EILine]?
    /// Return totals. Optional: when absent they are the sums of the lines' amounts.
    public var totals: EITotals?

    /// Creates a payload.
    public init(
        employerIrdNumber: Field<IRDNumber>,
        accountType: Field<EmployerAccountType> = .missing,
        payDayDate: Field<CalendarDate>,
        periodEndDate: Field<CalendarDate> = .missing,
        isNilReturn: Bool?,
        isFinalReturn: Bool? = nil,
        amendment: EIAmendment? = nil,
        piIrdNumber: Field<IRDNumber> = .missing,
        contactName: String? = nil,
        contactPhoneNumber: String? = nil,
        contactEmail: String? = nil,
        lines: [EILine]? = nil,
        totals: EITotals? = nil
    ) {
        self.employerIrdNumber = employerIrdNumber
        self.accountType = accountType
        self.payDayDate = payDayDate
        self.periodEndDate = periodEndDate
        self.isNilReturn = isNilReturn
        self.isFinalReturn = isFinalReturn
        self.amendment = amendment
        self.piIrdNumber = piIrdNumber
        self.contactName = contactName
        self.contactPhoneNumber = contactPhoneNumber
        self.contactEmail = contactEmail
        self.lines = lines
        self.totals = totals
    }

    /// The filing period end date: `periodEndDate` when given, else the last day of the payday's month.
    public var effectivePeriodEndDate: CalendarDate? {
        periodEndDate.value ?? payDayDate.value?.lastDayOfMonth
    }

    /// The totals to file: `totals` when given, else the sums of the lines (`nil` if a sum leaves IRD's range).
    public var effectiveTotals: EITotals? {
        totals ?? EITotals(summing: lines ?? [])
    }
}
