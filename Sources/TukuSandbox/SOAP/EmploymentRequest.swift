import TukuIRD

/// What the sandbox read from an Employment service v2 request, after the checks a single request allows.
public struct EmploymentRequest: Sendable, Hashable {
    /// Which operation.
    public enum Operation: String, Sendable, Hashable {
        case create, update, terminate
    }

    /// Who the employee is to IRD: the IRD number, or (for an employee without one, sent as zeros) the name on
    /// the EI line.
    public enum Employee: Sendable, Hashable, CustomStringConvertible {
        case irdNumber(String)
        case nameOnEILine(String)

        public var description: String {
            switch self {
            case .irdNumber(let number): number
            case .nameOnEILine(let name): "name:\(name)"
            }
        }
    }

    /// The operation.
    public var operation: Operation
    /// The employer's identifier as sent (9 digits for `IRD`/`ACCIRD`).
    public var employer: String
    /// The employee, from `createBody` (Create) or `employeeIdentifier` (Update, Terminate).
    public var employee: Employee
    /// `employmentStartDate` of the body (Create, Update) or identifier, when given.
    public var startDate: CalendarDate?
    /// `employmentFinishDate`: a fixed-term Create's, or a Terminate's.
    public var finishDate: CalendarDate?
}
