/// Identifies the employment relationship an update or termination applies to (`EmployeeIdentifierType`).
///
/// `employeeIrdNumber` and `employeeNameOnEILine` must match IRD's records; the dates narrow the match when given.
public struct EmployeeIdentifier: Codable, Sendable, Hashable {
    /// The employee's IRD number as IRD holds it; `000000000` when the employee has none. Required.
    public var employeeIrdNumber: Field<IRDNumber>
    /// The employee's name as on EI lines, 1–255 characters. Required.
    public var employeeNameOnEILine: String?
    /// Date of birth. Optional.
    public var employeeDateOfBirth: Field<CalendarDate>
    /// Employment start date. Optional.
    public var employmentStartDate: Field<CalendarDate>

    /// Creates an identifier.
    public init(
        employeeIrdNumber: Field<IRDNumber>,
        employeeNameOnEILine: String?,
        employeeDateOfBirth: Field<CalendarDate> = .missing,
        employmentStartDate: Field<CalendarDate> = .missing
    ) {
        self.employeeIrdNumber = employeeIrdNumber
        self.employeeNameOnEILine = employeeNameOnEILine
        self.employeeDateOfBirth = employeeDateOfBirth
        self.employmentStartDate = employmentStartDate
    }

    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.irdNumber(employeeIrdNumber, join(path, "employeeIrdNumber"), required: true, allowUnknown: true)
        problems.text(employeeNameOnEILine, join(path, "employeeNameOnEILine"), required: true, length: 1...255)
        problems.optional(employeeDateOfBirth, join(path, "employeeDateOfBirth"))
        problems.optional(employmentStartDate, join(path, "employmentStartDate"))
        return problems.problems
    }
}

extension ProblemCollector {
    /// The checks every request about an existing employment starts with (Update, Terminate): the employer's
    /// IRD number, the account type, and the employee identifier, which is required.
    mutating func existingEmployment(
        employerIrdNumber: Field<IRDNumber>, accountType: Field<EmployerAccountType>, employeeIdentifier: EmployeeIdentifier?
    ) {
        self.irdNumber(employerIrdNumber, "employerIrdNumber", required: true, allowUnknown: false)
        self.optional(accountType, "accountType")
        if let employeeIdentifier {
            self.append(contentsOf: employeeIdentifier.validate(at: "employeeIdentifier"))
        } else {
            self.add("employeeIdentifier", "is required")
        }
    }
}
