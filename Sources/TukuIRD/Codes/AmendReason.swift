/// Why an EI return is being amended (`rc:amendReason`).
public enum AmendReason: String, IRDCode {
    /// Incorrect amount.
    case incorrectAmount = "KEY"
    /// Calculation error.
    case calculationError = "MATH"
    /// Other (explain in the amendment details).
    case other = "OTHER"
    /// Transposition error.
    case transpositionError = "TRNSPO"
}
