/// An employee's KiwiSaver status (Employment service `kiwiSaverStatus`).
public enum KiwiSaverStatus: String, IRDCode {
    /// Active (existing) KiwiSaver member.
    case activeMember = "AK"
    /// Opting into KiwiSaver.
    case optingIn = "OK"
    /// Not eligible for KiwiSaver.
    case notEligible = "NK"
    /// Casual or temporary employee.
    case casualOrTemporary = "CT"
    /// Auto-enrol.
    case autoEnrol = "AE"
}
