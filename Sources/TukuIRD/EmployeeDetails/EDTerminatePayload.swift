/// The payload of an `ird.ed.terminate` job: end an employment (Employment service v2 `Terminate`).
///
/// ```json
/// { "employerIrdNumber": "49091850",
///   "employeeIdentifier": { "employeeIrdNumber": "136410132", "employeeNameOnEILine": "Aroha Ngāta" },
///   "employmentFinishDate": "2024-06-28" }
/// ```
public struct EDTerminatePayload: Codable, Sendable, Hashable {
    /// The employer's IRD number. Required.
    public var employerIrdNumber: Field<IRDNumber>
    /// The employer account type. Defaults to `EMP`.
    public var accountType: Field<EmployerAccountType>
    /// Which employment to end. Required.
    public var employeeIdentifier: EmployeeIdentifier?
    /// The last day of employment; not before the identifier's start date when given (IRD code 107). Required.
    public var employmentFinishDate: Field<CalendarDate>

    /// Creates a payload.
    public init(
        employerIrdNumber: Field<IRDNumber>,
        accountType: Field<EmployerAccountType> = .missing,
        employeeIdentifier: EmployeeIdentifier?,
        employmentFinishDate: Field<CalendarDate>
    ) {
        self.employerIrdNumber = employerIrdNumber
        self.accountType = accountType
        self.employeeIdentifier = employeeIdentifier
        self.employmentFinishDate = employmentFinishDate
    }

    /// Every problem that would make IRD reject the request or make it fail `Employment.v2.xsd`.
    public func validate() -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.existingEmployment(employerIrdNumber: employerIrdNumber, accountType: accountType, employeeIdentifier: employeeIdentifier)
        let finish = problems.required(employmentFinishDate, "employmentFinishDate")
        problems.order(
            employeeIdentifier?.employmentStartDate.value, finish, "employmentFinishDate",
            "must not be before employeeIdentifier.employmentStartDate (IRD code 107)"
        )
        return problems.problems
    }
}
