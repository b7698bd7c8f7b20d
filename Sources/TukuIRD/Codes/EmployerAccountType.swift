/// The employer account a payday-filing call is made against (`cmn:accountType`).
///
/// The EI build pack names `EMP`; the Employment service build pack accepts `PSO` or `EMP`, and IRD's samples use
/// `PSO`. Defaults to `EMP` where a payload omits it.
public enum EmployerAccountType: String, IRDCode {
    /// Payroll (employer) account.
    case emp = "EMP"
    /// The older payroll account type used in IRD's samples.
    case pso = "PSO"
}
