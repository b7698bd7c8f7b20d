/// Why child support deductions differ from the notice (EI `childSupportCode`).
public enum ChildSupportCode: String, IRDCode {
    /// Ceased employment.
    case ceasedEmployment = "C"
    /// Advanced payment.
    case advancedPayment = "A"
    /// Protected earnings.
    case protectedEarnings = "P"
    /// Short-term absence.
    case shortTermAbsence = "S"
    /// Deducted previously.
    case deductedPreviously = "D"
    /// Other.
    case other = "O"
}
