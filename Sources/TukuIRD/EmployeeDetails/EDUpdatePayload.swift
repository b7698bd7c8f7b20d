/// The payload of an `ird.ed.update` job: replace IRD's record of an employment (Employment service v2 `Update`).
///
/// An update replaces **all** fields: anything left out is removed from IRD's record (ED build pack §3.2).
/// `employeeIdentifier` finds the record; the other fields are the new record (`UpdateBodyType`).
public struct EDUpdatePayload: Codable, Sendable, Hashable {
    /// The employer's IRD number. Required.
    public var employerIrdNumber: Field<IRDNumber>
    /// The employer account type. Defaults to `EMP`.
    public var accountType: Field<EmployerAccountType>
    /// Which employment to update. Required.
    public var employeeIdentifier: EmployeeIdentifier?
    /// The employee's IRD number; `000000000` when none (then a tax code must be ND or WT). Required.
    public var employeeIrdNumber: Field<IRDNumber>
    /// The employee's name. Required.
    public var employeeName: EmployeeName?
    /// The name as on EI lines, 1–255 characters. Required.
    public var employeeNameOnEILine: String?
    /// Employment start date. Required.
    public var employmentStartDate: Field<CalendarDate>
    /// Date of birth. Optional.
    public var employeeDateOfBirth: Field<CalendarDate>
    /// One to four tax codes. Required.
    public var taxCodes: [Field<TaxCode>]?
    /// Address. Optional.
    public var employeeAddress: EmployeeAddress?
    /// Email address. Optional.
    public var employeeEmailAddress: String?
    /// Mobile phone. Optional.
    public var employeeMobilePhoneNumber: PhoneNumber?
    /// Day phone. Optional.
    public var employeeDayPhoneNumber: PhoneNumber?
    /// KiwiSaver eligibility (triggers a KS1, or a KS10 with `optedOut`). Optional.
    public var employeeKiwiSaverEligibility: Field<KiwiSaverEligibility>
    /// `true` to opt out of KiwiSaver (a KS10). Optional.
    public var optedOut: Bool?
    /// Bank account for an opt-out refund. Optional.
    public var employeeBankAccountNumber: NZBankAccount?
    /// The bank account holder's name (first name and surname required). Optional.
    public var accountHolderName: EmployeeName?
    /// Date the opt-out was signed. Optional.
    public var optedOutSignatureDate: Field<CalendarDate>
    /// `false` when the employment record was created by mistake and must be invalidated. Required.
    public var validRelationship: Bool?
    /// Why an opt-out is late; needs `optedOut: true` (IRD code 135). Optional.
    public var lateOptOutReason: Field<LateOptOutReason>
    /// Explanation, 1–255 characters; required when `lateOptOutReason` is `OTHR`. Optional.
    public var otherLateOptOutReason: String?

    /// Creates a payload.
    public init(
        employerIrdNumber: Field<IRDNumber>,
        accountType: Field<EmployerAccountType> = .missing,
        employeeIdentifier: EmployeeIdentifier?,
        employeeIrdNumber: Field<IRDNumber>,
        employeeName: EmployeeName?,
        employeeNameOnEILine: String?,
        employmentStartDate: Field<CalendarDate>,
        employeeDateOfBirth: Field<CalendarDate> = .missing,
        taxCodes: [Field<TaxCode>]?,
        employeeAddress: EmployeeAddress? = nil,
        employeeEmailAddress: String? = nil,
        employeeMobilePhoneNumber: PhoneNumber? = nil,
        employeeDayPhoneNumber: PhoneNumber? = nil,
        employeeKiwiSaverEligibility: Field<KiwiSaverEligibility> = .missing,
        optedOut: Bool? = nil,
        employeeBankAccountNumber: NZBankAccount? = nil,
        accountHolderName: EmployeeName? = nil,
        optedOutSignatureDate: Field<CalendarDate> = .missing,
        validRelationship: Bool?,
        lateOptOutReason: Field<LateOptOutReason> = .missing,
        otherLateOptOutReason: String? = nil
    ) {
        self.employerIrdNumber = employerIrdNumber
        self.accountType = accountType
        self.employeeIdentifier = employeeIdentifier
        self.employeeIrdNumber = employeeIrdNumber
        self.employeeName = employeeName
        self.employeeNameOnEILine = employeeNameOnEILine
        self.employmentStartDate = employmentStartDate
        self.employeeDateOfBirth = employeeDateOfBirth
        self.taxCodes = taxCodes
        self.employeeAddress = employeeAddress
        self.employeeEmailAddress = employeeEmailAddress
        self.employeeMobilePhoneNumber = employeeMobilePhoneNumber
        self.employeeDayPhoneNumber = employeeDayPhoneNumber
        self.employeeKiwiSaverEligibility = employeeKiwiSaverEligibility
        self.optedOut = optedOut
        self.employeeBankAccountNumber = employeeBankAccountNumber
        self.accountHolderName = accountHolderName
        self.optedOutSignatureDate = optedOutSignatureDate
        self.validRelationship = validRelationship
        self.lateOptOutReason = lateOptOutReason
        self.otherLateOptOutReason = otherLateOptOutReason
    }

    /// Every problem that would make IRD reject the request or make it fail `Employment.v2.xsd`.
    public func validate() -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.existingEmployment(employerIrdNumber: employerIrdNumber, accountType: accountType, employeeIdentifier: employeeIdentifier)
        let employeeIRD = problems.irdNumber(
            employeeIrdNumber, "employeeIrdNumber", required: true, allowUnknown: true
        )
        problems.employeeName(employeeName, "employeeName")
        problems.text(employeeNameOnEILine, "employeeNameOnEILine", required: true, length: 1...255)
        problems.required(employmentStartDate, "employmentStartDate")
        problems.optional(employeeDateOfBirth, "employeeDateOfBirth")
        problems.taxCodes(taxCodes, "taxCodes", required: true, employeeIRD: employeeIRD)
        problems.contactDetails(
            address: employeeAddress, emailAddress: employeeEmailAddress,
            mobile: employeeMobilePhoneNumber, day: employeeDayPhoneNumber
        )
        problems.optional(employeeKiwiSaverEligibility, "employeeKiwiSaverEligibility")
        if let employeeBankAccountNumber {
            problems.append(contentsOf: employeeBankAccountNumber.validate(at: "employeeBankAccountNumber"))
        }
        if let accountHolderName {
            problems.employeeName(accountHolderName, "accountHolderName", surnameRequired: true)
        }
        problems.optional(optedOutSignatureDate, "optedOutSignatureDate")
        if validRelationship == nil {
            problems.add("validRelationship", "is required")
        }
        let lateReason = problems.optional(lateOptOutReason, "lateOptOutReason")
        if !lateOptOutReason.isMissing, optedOut != true {
            problems.add("optedOut", "must be true when lateOptOutReason is given (IRD code 135)")
        }
        if lateReason == .other, otherLateOptOutReason == nil {
            problems.add("otherLateOptOutReason", "is required when lateOptOutReason is OTHR")
        }
        problems.text(otherLateOptOutReason, "otherLateOptOutReason", required: false, length: 1...255)
        return problems.problems
    }
}
