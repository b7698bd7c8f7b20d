/// Why some of an employee's income is exempt for KiwiSaver (Employment service `employeeExemptIncome`).
public enum ExemptIncomeReason: String, IRDCode {
    /// Board, lodging, use of a house, or an equivalent allowance.
    case boardLodgingHouse = "BLH"
    /// Honoraria payments.
    case honoraria = "HPT"
    /// Overpayment of an employer's superannuation cash contribution.
    case superannuationOverpayment = "OES"
    /// Retiring allowance.
    case retiringAllowance = "RTA"
    /// Taxable allowances for accommodation and living costs overseas.
    case overseasAllowances = "TAO"
    /// Some payments under a voluntary bonding scheme.
    case voluntaryBondingScheme = "VBS"
}
