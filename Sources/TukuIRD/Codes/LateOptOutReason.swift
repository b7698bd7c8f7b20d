/// Why a KiwiSaver opt-out is late (Employment service `lateOptOutReason`).
public enum LateOptOutReason: String, IRDCode {
    /// The employer did not give a KiwiSaver information pack within seven days of employment starting.
    case noInformationPack = "INFO"
    /// IRD did not send an investment statement on allocation to a default scheme.
    case noIRDInvestmentStatement = "IRIS"
    /// The employer did not provide an investment statement for its chosen scheme.
    case noEmployerInvestmentStatement = "ERIS"
    /// Events outside the employee's control.
    case eventsOutsideControl = "EVNT"
    /// The employee did not meet the criteria to join KiwiSaver.
    case didNotMeetCriteria = "CRIT"
    /// Incorrectly enrolled under the age of 18.
    case enrolledUnder18 = "INER"
    /// Other reason: `otherLateOptOutReason` explains it.
    case other = "OTHR"
}
