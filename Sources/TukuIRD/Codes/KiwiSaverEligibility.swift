/// An employee's KiwiSaver eligibility (Employment service `employeeKiwiSaverEligibility`).
public enum KiwiSaverEligibility: String, IRDCode {
    /// New employee: a ``KiwiSaverStatus`` is then required (IRD code 146).
    case newEmployee = "NE"
    /// Existing employee.
    case existingEmployee = "EE"
    /// Existing employee auto-enrolled into KiwiSaver.
    case existingAutoEnrolled = "EA"
}
