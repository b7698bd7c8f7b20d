/// The job kinds an upstream payroll system may enqueue for IRD payday filing.
public enum IRDJobKind: String, CaseIterable, Sendable, Hashable, Codable {
    /// File an Employment Information return (``EIFilePayload``).
    case eiFile = "ird.ei.file"
    /// Ask for the status of EI returns for a payday (``EIStatusPayload``).
    case eiStatus = "ird.ei.status"
    /// Tell IRD about a new employee (``EDCreatePayload``).
    case edCreate = "ird.ed.create"
    /// Replace IRD's record of an employment (``EDUpdatePayload``).
    case edUpdate = "ird.ed.update"
    /// End an employment (``EDTerminatePayload``).
    case edTerminate = "ird.ed.terminate"
}
