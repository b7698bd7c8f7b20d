/// The return-level totals of an EI return, in `ReturnEI.v2.xsd` order.
///
/// Usually left out of a payload and computed with ``init(summing:)``; a payload may give them explicitly (e.g. an
/// amendment by the referenceId method, which sends only changed lines). All are `cmn:MoneyTypePositive` except
/// the two prior-period adjustments, which may be negative.
public struct EITotals: Codable, Sendable, Hashable {
    /// Total gross earnings.
    public var totalGrossEarnings: Field<Money>
    /// Total earnings not liable for ACC earners' levy.
    public var totalEarningsNotLiableACC: Field<Money>
    /// Total PAYE, including tax on schedular payments.
    public var totalPAYESchedularTaxDeductions: Field<Money>
    /// Total child support deductions.
    public var totalChildSupportDeductions: Field<Money>
    /// Total student loan deductions.
    public var totalStudentLoansDeductions: Field<Money>
    /// Total net KiwiSaver employer contributions.
    public var totalKiwisaverEmployerContributions: Field<Money>
    /// Total KiwiSaver deductions.
    public var totalKiwisaverDeductions: Field<Money>
    /// Total employee share scheme earnings.
    public var totalESSEarnings: Field<Money>
    /// Total SLCIR deductions.
    public var totalSLCIRDeductions: Field<Money>
    /// Total SLBOR deductions.
    public var totalSLBORDeductions: Field<Money>
    /// Total tax credits for payroll donations.
    public var totalTaxCreditPayrollDonations: Field<Money>
    /// Total ESCT deducted.
    public var totalESCTDeducted: Field<Money>
    /// Total family tax credits.
    public var totalFamilyTaxCredits: Field<Money>
    /// Total amount payable. Never computed; sent only when given.
    public var totalAmountPayable: Field<Money>
    /// Total prior-period gross earnings adjustments; may be negative.
    public var totalPriorPeriodGrossAdjustment: Field<Money>
    /// Total prior-period PAYE adjustments; may be negative.
    public var totalPriorPeriodPAYEAdjustment: Field<Money>

    /// Creates totals; every total defaults to absent.
    public init(
        totalGrossEarnings: Field<Money> = .missing,
        totalEarningsNotLiableACC: Field<Money> = .missing,
        totalPAYESchedularTaxDeductions: Field<Money> = .missing,
        totalChildSupportDeductions: Field<Money> = .missing,
        totalStudentLoansDeductions: Field<Money> = .missing,
        totalKiwisaverEmployerContributions: Field<Money> = .missing,
        totalKiwisaverDeductions: Field<Money> = .missing,
        totalESSEarnings: Field<Money> = .missing,
        totalSLCIRDeductions: Field<Money> = .missing,
        totalSLBORDeductions: Field<Money> = .missing,
        totalTaxCreditPayrollDonations: Field<Money> = .missing,
        totalESCTDeducted: Field<Money> = .missing,
        totalFamilyTaxCredits: Field<Money> = .missing,
        totalAmountPayable: Field<Money> = .missing,
        totalPriorPeriodGrossAdjustment: Field<Money> = .missing,
        totalPriorPeriodPAYEAdjustment: Field<Money> = .missing
    ) {
        self.totalGrossEarnings = totalGrossEarnings
        self.totalEarningsNotLiableACC = totalEarningsNotLiableACC
        self.totalPAYESchedularTaxDeductions = totalPAYESchedularTaxDeductions
        self.totalChildSupportDeductions = totalChildSupportDeductions
        self.totalStudentLoansDeductions = totalStudentLoansDeductions
        self.totalKiwisaverEmployerContributions = totalKiwisaverEmployerContributions
        self.totalKiwisaverDeductions = totalKiwisaverDeductions
        self.totalESSEarnings = totalESSEarnings
        self.totalSLCIRDeductions = totalSLCIRDeductions
        self.totalSLBORDeductions = totalSLBORDeductions
        self.totalTaxCreditPayrollDonations = totalTaxCreditPayrollDonations
        self.totalESCTDeducted = totalESCTDeducted
        self.totalFamilyTaxCredits = totalFamilyTaxCredits
        self.totalAmountPayable = totalAmountPayable
        self.totalPriorPeriodGrossAdjustment = totalPriorPeriodGrossAdjustment
        self.totalPriorPeriodPAYEAdjustment = totalPriorPeriodPAYEAdjustment
    }

    /// Sums the lines' amounts (absent amounts count as zero; invalid ones are skipped and reported by validation).
    ///
    /// `nil` when a total leaves IRD's money range. `totalAmountPayable` is left absent.
    public init?(summing lines: [EILine]) {
        func total(_ amount: (EILine) -> Field<Money>) -> Field<Money>? {
            var sum = Money.zero
            for line in lines {
                guard let value = amount(line).value else { continue }
                guard let next = sum.adding(value), next.isWithinIRDRange else { return nil }
                sum = next
            }
            return .valid(sum)
        }
        guard let gross = total(\.grossEarnings),
            let notLiableACC = total(\.earningsNotLiableACC),
            let paye = total(\.payeSchedularTaxDeductions),
            let childSupport = total(\.childSupportDeductions),
            let studentLoans = total(\.studentLoansDeductions),
            let kiwisaverEmployer = total(\.kiwisaverEmployerContributions),
            let kiwisaver = total(\.kiwisaverDeductions),
            let ess = total(\.essEarnings),
            let slcir = total(\.slcirDeductions),
            let slbor = total(\.slborDeductions),
            let donations = total(\.taxCreditPayrollDonations),
            let esct = total(\.esctDeducted),
            let familyTaxCredits = total(\.familyTaxCredits),
            let priorGross = total(\.priorPeriodGrossAdjustment),
            let priorPAYE = total(\.priorPeriodPAYEAdjustment)
        else { return nil }
        self.init(
            totalGrossEarnings: gross, totalEarningsNotLiableACC: notLiableACC,
            totalPAYESchedularTaxDeductions: paye, totalChildSupportDeductions: childSupport,
            totalStudentLoansDeductions: studentLoans, totalKiwisaverEmployerContributions: kiwisaverEmployer,
            totalKiwisaverDeductions: kiwisaver, totalESSEarnings: ess, totalSLCIRDeductions: slcir,
            totalSLBORDeductions: slbor, totalTaxCreditPayrollDonations: donations, totalESCTDeducted: esct,
            totalFamilyTaxCredits: familyTaxCredits, totalPriorPeriodGrossAdjustment: priorGross,
            totalPriorPeriodPAYEAdjustment: priorPAYE
        )
    }

    /// Every total in schema order: JSON key, field, and whether negative amounts are allowed.
    public var orderedFields: [(key: String, field: Field<Money>, allowsNegative: Bool)] {
        [
            ("totalGrossEarnings", totalGrossEarnings, false),
            ("totalEarningsNotLiableACC", totalEarningsNotLiableACC, false),
            ("totalPAYESchedularTaxDeductions", totalPAYESchedularTaxDeductions, false),
            ("totalChildSupportDeductions", totalChildSupportDeductions, false),
            ("totalStudentLoansDeductions", totalStudentLoansDeductions, false),
            ("totalKiwisaverEmployerContributions", totalKiwisaverEmployerContributions, false),
            ("totalKiwisaverDeductions", totalKiwisaverDeductions, false),
            ("totalESSEarnings", totalESSEarnings, false),
            ("totalSLCIRDeductions", totalSLCIRDeductions, false),
            ("totalSLBORDeductions", totalSLBORDeductions, false),
            ("totalTaxCreditPayrollDonations", totalTaxCreditPayrollDonations, false),
            ("totalESCTDeducted", totalESCTDeducted, false),
            ("totalFamilyTaxCredits", totalFamilyTaxCredits, false),
            ("totalAmountPayable", totalAmountPayable, false),
            ("totalPriorPeriodGrossAdjustment", totalPriorPeriodGrossAdjustment, true),
            ("totalPriorPeriodPAYEAdjustment", totalPriorPeriodPAYEAdjustment, true),
        ]
    }
}
