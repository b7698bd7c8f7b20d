/// The payload of an `ird.ed.create` job: tell IRD about a new employee (Employment service v2 `Create`).
///
/// JSON keys follow `Employment.v2.xsd`'s `CreateBodyType`, except `employeeIrdNumber` (`employeeIRD`) and the
/// employer fields. See `jobs/ird.ed.create/`.
///
/// ```json
/// { "employerIrdNumber": "49091850", "employeeIrdNumber": "136410132",
///   "employeeName": { "nameFirst": "Aroha", "nameSurname": "Ngāta" }, "employeeNameOnEILine": "Aroha Ngāta",
///   "taxCodes": ["M"], "employmentStartDate": "2024-05-06" }
/// ```
public struct EDCreatePayload: Codable, Sendable, Hashable {
    /// The employer's IRD number. Required.
    public var employerIrdNumber: Field<IRDNumber>
    /// The employer account type. Defaults to `EMP`.
    public var accountType: Field<EmployerAccountType>
    /// The employee's IRD number; `000000000` when the employee has none (then a tax code must be ND or WT, IRD
    /// code 141). Required.
    public var employeeIrdNumber: Field<IRDNumber>
    /// The employee's name. Required.
    public var employeeName: EmployeeName?
    /// The name as it will appear on EI lines, 1–255 characters. Required.
    public var employeeNameOnEILine: String?
    /// One to four tax codes. Required.
    public var taxCodes: [Field<TaxCode>]?
    /// Employment start date. Required.
    public var employmentStartDate: Field<CalendarDate>
    /// A known future finish date, not before the start (IRD code 107). Optional.
    public var employmentFinishDate: Field<CalendarDate>
    /// Date of birth. Optional.
    public var employeeDateOfBirth: Field<CalendarDate>
    /// Address; required by IRD when opting into KiwiSaver. Optional.
    public var employeeAddress: EmployeeAddress?
    /// Email address. Optional.
    public var employeeEmailAddress: String?
    /// Mobile phone. Optional.
    public var employeeMobilePhoneNumber: PhoneNumber?
    /// Day phone. Optional.
    public var employeeDayPhoneNumber: PhoneNumber?
    /// KiwiSaver status; required when eligibility is `NE` (IRD code 146). Optional.
    public var kiwiSaverStatus: Field<KiwiSaverStatus>
    /// KiwiSaver eligibility. Optional.
    public var employeeKiwiSaverEligibility: Field<KiwiSaverEligibility>
    /// Exempt income reason for KiwiSaver. Optional.
    public var employeeExemptIncome: Field<ExemptIncomeReason>

    /// Creates a payload.
    public init(
        employerIrdNumber: Field<IRDNumber>,
        accountType: Field<EmployerAccountType> = .missing,
        employeeIrdNumber: Field<IRDNumber>,
        employeeName: EmployeeName?,
        employeeNameOnEILine: String?,
        taxCodes: [Field<TaxCode>]?,
        employmentStartDate: Field<CalendarDate>,
        employmentFinishDate: Field<CalendarDate> = .missing,
        employeeDateOfBirth: Field<CalendarDate> = .missing,
        employeeAddress: EmployeeAddress? = nil,
        employeeEmailAddress: String? = nil,
        employeeMobilePhoneNumber: PhoneNumber? = nil,
        employeeDayPhoneNumber: PhoneNumber? = nil,
        kiwiSaverStatus: Field<KiwiSaverStatus> = .missing,
        employeeKiwiSaverEligibility: Field<KiwiSaverEligibility> = .missing,
        employeeExemptIncome: Field<ExemptIncomeReason> = .missing
    ) {
        self.employerIrdNumber = employerIrdNumber
        self.accountType = accountType
        self.employeeIrdNumber = employeeIrdNumber
        self.employeeName = employeeName
        self.employeeNameOnEILine = employeeNameOnEILine
        self.taxCodes = taxCodes
        self.employmentStartDate = employmentStartDate
        self.employmentFinishDate = employmentFinishDate
        self.employeeDateOfBirth = employeeDateOfBirth
        self.employeeAddress = employeeAddress
        self.employeeEmailAddress = employeeEmailAddress
        self.employeeMobilePhoneNumber = employeeMobilePhoneNumber
        self.employeeDayPhoneNumber = employeeDayPhoneNumber
        self.kiwiSaverStatus = kiwiSaverStatus
        self.employeeKiwiSaverEligibility = employeeKiwiSaverEligibility
        self.employeeExemptIncome = employeeExemptIncome
    }

    /// Every problem that would make IRD reject the request or make it fail `Employment.v2.xsd`.
    public func validate() -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.irdNumber(employerIrdNumber, "employerIrdNumber", required: true, allowUnknown: false)
        problems.optional(accountType, "accountType")
        let employeeIRD = problems.irdNumber(
            employeeIrdNumber, "employeeIrdNumber", required: true, allowUnknown: true
        )
        problems.employeeName(employeeName, "employeeName")
        problems.text(employeeNameOnEILine, "employeeNameOnEILine", required: true, length: 1...255)
        problems.taxCodes(taxCodes, "taxCodes", required: true, employeeIRD: employeeIRD)
        let start = problems.required(employmentStartDate, "employmentStartDate")
        let finish = problems.optional(employmentFinishDate, "employmentFinishDate")
        problems.order(start, finish, "employmentFinishDate", "must not be before employmentStartDate (IRD code 107)")
        problems.optional(employeeDateOfBirth, "employeeDateOfBirth")
        problems.contactDetails(
            address: employeeAddress, emailAddress: employeeEmailAddress,
            mobile: employeeMobilePhoneNumber, day: employeeDayPhoneNumber
        )
        let status = problems.optional(kiwiSaverStatus, "kiwiSaverStatus")
        let eligibility = problems.optional(employeeKiwiSaverEligibility, "employeeKiwiSaverEligibility")
        if eligibility == .newEmployee, status == nil, kiwiSaverStatus.isMissing {
            problems.add("kiwiSaverStatus", "is required when employeeKiwiSaverEligibility is NE (IRD code 146)")
        }
        problems.optional(employeeExemptIncome, "employeeExemptIncome")
        return problems.problems
    }
}

extension ProblemCollector {
    /// The most tax codes one employment may carry (`TaxCodes/taxCode maxOccurs`).
    static let maximumTaxCodes = 4

    mutating func employeeName(_ name: EmployeeName?, _ path: String, surnameRequired: Bool = false) {
        guard let name else {
            add(path, "is required")
            return
        }
        append(contentsOf: name.validate(at: path, surnameRequired: surnameRequired))
    }

    mutating func taxCodes(_ codes: [Field<TaxCode>]?, _ path: String, required: Bool, employeeIRD: IRDNumber?) {
        guard let codes, !codes.isEmpty else {
            if required { add(path, "must have 1 to \(Self.maximumTaxCodes) tax codes") }
            return
        }
        if codes.count > Self.maximumTaxCodes {
            add(path, "must have 1 to \(Self.maximumTaxCodes) tax codes, found \(codes.count)")
        }
        var valid: [TaxCode] = []
        for (index, code) in codes.enumerated() {
            if let code = self.required(code, join(path, index)) { valid.append(code) }
        }
        if employeeIRD?.isUnknown == true, valid.count == codes.count,
            !valid.contains(.nd), !valid.contains(.wt)
        {
            add(path, "must include ND or WT when the employee's IRD number is all zeros (IRD code 141)")
        }
    }

    mutating func contactDetails(
        address: EmployeeAddress?, emailAddress: String?, mobile: PhoneNumber?, day: PhoneNumber?
    ) {
        if let address { append(contentsOf: address.validate(at: "employeeAddress")) }
        email(emailAddress, "employeeEmailAddress")
        if let mobile { append(contentsOf: mobile.validate(at: "employeeMobilePhoneNumber")) }
        if let day { append(contentsOf: day.validate(at: "employeeDayPhoneNumber")) }
    }
}
