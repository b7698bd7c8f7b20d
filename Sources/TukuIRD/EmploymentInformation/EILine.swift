/// One employee line of an EI return (`ei:EmployeeInfoType`). Amounts are NZD with two decimals.
public struct EILine: Codable, Sendable, Hashable {
    /// The line's unique identifier, chosen by the payroll system, 1–50 characters. Required and unique within
    /// the return (IRD codes 131, 137); amendments refer to lines by it.
    public var referenceId: String?
    /// The employee's IRD number; `000000000` when unknown. Required.
    public var irdNumber: Field<IRDNumber>
    /// The employee's name, 1–255 characters. Required.
    public var employeeName: String?
    /// The employee's tax code. Required.
    public var taxCode: Field<TaxCode>
    /// First day of the pay period. Required.
    public var payPeriodStartDate: Field<CalendarDate>
    /// Last day of the pay period, not before its start (IRD code 163). Required.
    public var payPeriodEndDate: Field<CalendarDate>
    /// Employment start date. Optional.
    public var employmentStartDate: Field<CalendarDate>
    /// Employment finish date; omit when there is none. Optional.
    public var employmentFinishDate: Field<CalendarDate>
    /// Pay frequency. Required.
    public var employeePayFrequency: Field<PayFrequency>
    /// Gross earnings and schedular payments.
    public var grossEarnings: Field<Money>
    /// Earnings not liable for ACC earners' levy.
    public var earningsNotLiableACC: Field<Money>
    /// Whether the payment is a lump sum.
    public var lumpSumIndicator: Bool?
    /// PAYE and schedular tax deductions.
    public var payeSchedularTaxDeductions: Field<Money>
    /// Child support code; omit when there is none.
    public var childSupportCode: Field<ChildSupportCode>
    /// Child support deductions.
    public var childSupportDeductions: Field<Money>
    /// Student loan deductions.
    public var studentLoansDeductions: Field<Money>
    /// Net KiwiSaver employer contributions.
    public var kiwisaverEmployerContributions: Field<Money>
    /// KiwiSaver employee deductions.
    public var kiwisaverDeductions: Field<Money>
    /// Employee share scheme earnings.
    public var essEarnings: Field<Money>
    /// Student loan compulsory additional deductions.
    public var slcirDeductions: Field<Money>
    /// Student loan voluntary deductions.
    public var slborDeductions: Field<Money>
    /// Tax credits for payroll donations.
    public var taxCreditPayrollDonations: Field<Money>
    /// Employer superannuation contribution tax deducted.
    public var esctDeducted: Field<Money>
    /// Family tax credits (filled in by MSD only).
    public var familyTaxCredits: Field<Money>
    /// Hours paid in the pay period, as a two-decimal number (IRD types it as money).
    public var hoursPaid: Field<Money>
    /// Adjustment to gross earnings of a prior period; may be negative.
    public var priorPeriodGrossAdjustment: Field<Money>
    /// Adjustment to PAYE of a prior period; may be negative.
    public var priorPeriodPAYEAdjustment: Field<Money>

    /// Creates a line; amounts default to absent.
    public init(
        referenceId: String?,
        irdNumber: Field<IRDNumber>,
        employeeName: String?,
        taxCode: Field<TaxCode>,
        payPeriodStartDate: Field<CalendarDate>,
        payPeriodEndDate: Field<CalendarDate>,
        employmentStartDate: Field<CalendarDate> = .missing,
        employmentFinishDate: Field<CalendarDate> = .missing,
        employeePayFrequency: Field<PayFrequency>,
        grossEarnings: Field<Money> = .missing,
        earningsNotLiableACC: Field<Money> = .missing,
        lumpSumIndicator: Bool? = nil,
        payeSchedularTaxDeductions: Field<Money> = .missing,
        childSupportCode: Field<ChildSupportCode> = .missing,
        childSupportDeductions: Field<Money> = .missing,
        studentLoansDeductions: Field<Money> = .missing,
        kiwisaverEmployerContributions: Field<Money> = .missing,
        kiwisaverDeductions: Field<Money> = .missing,
        essEarnings: Field<Money> = .missing,
        slcirDeductions: Field<Money> = .missing,
        slborDeductions: Field<Money> = .missing,
        taxCreditPayrollDonations: Field<Money> = .missing,
        esctDeducted: Field<Money> = .missing,
        familyTaxCredits: Field<Money> = .missing,
        hoursPaid: Field<Money> = .missing,
        priorPeriodGrossAdjustment: Field<Money> = .missing,
        priorPeriodPAYEAdjustment: Field<Money> = .missing
    ) {
        self.referenceId = referenceId
        self.irdNumber = irdNumber
        self.employeeName = employeeName
        self.taxCode = taxCode
        self.payPeriodStartDate = payPeriodStartDate
        self.payPeriodEndDate = payPeriodEndDate
        self.employmentStartDate = employmentStartDate
        self.employmentFinishDate = employmentFinishDate
        self.employeePayFrequency = employeePayFrequency
        self.grossEarnings = grossEarnings
        self.earningsNotLiableACC = earningsNotLiableACC
        self.lumpSumIndicator = lumpSumIndicator
        self.payeSchedularTaxDeductions = payeSchedularTaxDeductions
        self.childSupportCode = childSupportCode
        self.childSupportDeductions = childSupportDeductions
        self.studentLoansDeductions = studentLoansDeductions
        self.kiwisaverEmployerContributions = kiwisaverEmployerContributions
        self.kiwisaverDeductions = kiwisaverDeductions
        self.essEarnings = essEarnings
        self.slcirDeductions = slcirDeductions
        self.slborDeductions = slborDeductions
        self.taxCreditPayrollDonations = taxCreditPayrollDonations
        self.esctDeducted = esctDeducted
        self.familyTaxCredits = familyTaxCredits
        self.hoursPaid = hoursPaid
        self.priorPeriodGrossAdjustment = priorPeriodGrossAdjustment
        self.priorPeriodPAYEAdjustment = priorPeriodPAYEAdjustment
    }

    /// The non-negative amount fields (`cmn:MoneyTypePositive`) in schema order, with their JSON keys.
    var positiveAmounts: [(key: String, field: Field<Money>)] {
        [
            ("grossEarnings", grossEarnings), ("earningsNotLiableACC", earningsNotLiableACC),
            ("payeSchedularTaxDeductions", payeSchedularTaxDeductions),
            ("childSupportDeductions", childSupportDeductions), ("studentLoansDeductions", studentLoansDeductions),
            ("kiwisaverEmployerContributions", kiwisaverEmployerContributions),
            ("kiwisaverDeductions", kiwisaverDeductions), ("essEarnings", essEarnings),
            ("slcirDeductions", slcirDeductions), ("slborDeductions", slborDeductions),
            ("taxCreditPayrollDonations", taxCreditPayrollDonations), ("esctDeducted", esctDeducted),
            ("familyTaxCredits", familyTaxCredits), ("hoursPaid", hoursPaid),
        ]
    }
}
