import TukuIRD

/// A deterministic generator of varied, valid payloads for all five job kinds (SplitMix64, fixed seed).
///
/// Covers nil returns, returns with many lines, amendments, zero and 8-digit (zero-padded) IRD numbers, edge
/// amounts (0.00, the schema maximum, negative adjustments at the schema minimum), all tax codes and pay
/// frequencies, and text full of XML specials and Māori macrons (precomposed and combining).
struct PayloadGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    mutating func pick<T>(_ values: [T]) -> T { values[int(0...(values.count - 1))] }

    // MARK: Values

    /// A valid IRD number, sometimes 8-digit (so it is zero-padded on the wire).
    mutating func irdNumber() -> IRDNumber {
        while true {
            let candidate = chance(40) ? int(10_000_000...99_999_999) : int(100_000_000...150_000_000)
            if let number = try? IRDNumber(String(candidate)) { return number }
        }
    }

    /// An IRD number as upstream might type it: with dashes or spaces, or plain.
    mutating func irdText(_ number: IRDNumber) -> String {
        let wire = number.wireForm
        switch int(0...3) {
        case 0: return wire
        case 1: return number.description
        case 2: return String(wire.dropFirst(wire.hasPrefix("0") ? 1 : 0))
        default: return wire.prefix(3) + " " + wire.dropFirst(3).prefix(3) + " " + wire.suffix(3)
        }
    }

    mutating func amount(maximum: Int64 = 5_000_000) -> Field<Money> {
        switch int(0...9) {
        case 0: return .valid(.zero)
        case 1: return .missing
        case 2: return .valid(Money(cents: Int64(int(0...99))))
        default: return .valid(Money(cents: Int64(int(0...Int(maximum)))))
        }
    }

    mutating func adjustment() -> Field<Money> {
        switch int(0...5) {
        case 0: return .missing
        case 1: return .valid(Money(cents: -Int64(int(1...500_000))))
        case 2: return .valid(.zero)
        default: return .valid(Money(cents: Int64(int(-100_000...100_000))))
        }
    }

    static let nameParts = [
        "Aroha", "Ngāta", "Tāne", "Mānuka", "Ōtautahi", "Kūmara", "Whaitiri", "Te Ātārangi", "O'Brien",
        "D'Arcy", "Smith & Sons", "<Unknown>", "\"Bo\"", "Āpera", "Hēmi", "Īhaia", "Ūpoko", "Ōrewa",
        "Mi\u{0304}ria", "A\u{0304}ta", "Zoë", "Łukasz", "李", "Nguyễn", "a<b>c", "x&y", "Fish > Chips", "🦜 Kākā",
    ]

    mutating func name(maximumScalars: Int) -> String {
        var parts: [String] = []
        for _ in 0..<int(1...3) { parts.append(pick(Self.nameParts)) }
        var text = parts.joined(separator: " ")
        if chance(5) {
            // Exactly at the limit, counted in Unicode scalars as XSD counts characters.
            text = String(repeating: "ā", count: maximumScalars)
        }
        while text.unicodeScalars.count > maximumScalars { text.removeLast() }
        return text.trimmingTrailingSpace()
    }

    mutating func simpleName(maximumScalars: Int) -> String {
        var text = pick(["Aroha", "Tāne", "Hēmi", "Mere", "Wiremu", "O'Neil", "Rā", "Kōwhai", "Ana-Lee", "Bo"])
        while text.unicodeScalars.count > maximumScalars { text.removeLast() }
        return text
    }

    mutating func date(year: ClosedRange<Int> = 2019...2026) -> CalendarDate {
        let y = int(year)
        let m = int(1...12)
        return CalendarDate(year: y, month: m, day: int(1...CalendarDate.daysIn(month: m, year: y)))!
    }

    // MARK: Payloads

    mutating func eiFile(index: Int) -> EIFilePayload {
        let payDay = date()
        let nil0 = index % 7 == 0
        var lines: [EILine] = []
        if !nil0 {
            let count = index % 11 == 1 ? int(40...120) : int(1...12)
            for number in 0..<count { lines.append(eiLine(payDay: payDay, number: number, edge: count == 1)) }
        }
        let amendment: EIAmendment? =
            chance(20)
            ? EIAmendment(
                submissionKey: Int64(int(0...2_147_483_647)),
                amendReason: .valid(pick(AmendReason.allCases)),
                amendDetails: chance(50) ? "Corrected <pay> & 'hours' for \"Tāne\"" : nil,
                isReverseReplace: chance(50) ? chance(50) : nil
            )
            : nil
        return EIFilePayload(
            employerIrdNumber: .valid(irdNumber()),
            accountType: chance(50) ? .missing : .valid(pick(EmployerAccountType.allCases)),
            payDayDate: .valid(payDay),
            periodEndDate: chance(50) ? .missing : .valid(payDay.lastDayOfMonth),
            isNilReturn: nil0,
            isFinalReturn: chance(30) ? chance(20) : nil,
            amendment: amendment,
            piIrdNumber: chance(20) ? .valid(irdNumber()) : .missing,
            contactName: chance(50) ? name(maximumScalars: 20) : nil,
            contactPhoneNumber: chance(50) ? pick(["04 555 6666", "+6421234567", "0800", "021-555-1234"]) : nil,
            contactEmail: chance(50) ? pick(["payroll@example.co.nz", "a.b+c@x-y.nz", "o'neil&co@mail.example.com"]) : nil,
            lines: lines.isEmpty && chance(50) ? nil : lines,
            totals: chance(10) && !lines.isEmpty ? explicitTotals() : nil
        )
    }

    mutating func eiLine(payDay: CalendarDate, number: Int, edge: Bool) -> EILine {
        let start = CalendarDate(year: payDay.year, month: payDay.month, day: int(1...payDay.day))!
        let unknownIRD = chance(8)
        let edgeCase = edge && chance(50)
        return EILine(
            referenceId: chance(80) ? "line-\(number)-\(next() % 1_000_000)" : "ref &<\(number)>'\"",
            irdNumber: .valid(unknownIRD ? .unknown : irdNumber()),
            employeeName: name(maximumScalars: 255),
            taxCode: .valid(unknownIRD ? pick([.nd, .wt]) : pick(TaxCode.allCases)),
            payPeriodStartDate: .valid(start),
            payPeriodEndDate: .valid(payDay),
            employmentStartDate: chance(30) ? .valid(date(year: 1990...2018)) : .missing,
            employmentFinishDate: chance(10) ? .valid(payDay) : .missing,
            employeePayFrequency: .valid(pick(PayFrequency.allCases)),
            grossEarnings: edgeCase ? .valid(Money(cents: Money.maximumCents)) : amount(),
            earningsNotLiableACC: amount(maximum: 10_000),
            lumpSumIndicator: chance(50) ? chance(10) : nil,
            payeSchedularTaxDeductions: amount(maximum: 2_000_000),
            childSupportCode: chance(15) ? .valid(pick(ChildSupportCode.allCases)) : .missing,
            childSupportDeductions: amount(maximum: 50_000),
            studentLoansDeductions: amount(maximum: 50_000),
            kiwisaverEmployerContributions: amount(maximum: 50_000),
            kiwisaverDeductions: amount(maximum: 50_000),
            essEarnings: amount(maximum: 10_000),
            slcirDeductions: amount(maximum: 10_000),
            slborDeductions: amount(maximum: 10_000),
            taxCreditPayrollDonations: amount(maximum: 10_000),
            esctDeducted: amount(maximum: 10_000),
            familyTaxCredits: amount(maximum: 10_000),
            hoursPaid: chance(70) ? .valid(Money(cents: Int64(int(0...16_000)))) : .missing,
            priorPeriodGrossAdjustment: edgeCase ? .valid(Money(cents: Money.minimumCents)) : adjustment(),
            priorPeriodPAYEAdjustment: adjustment()
        )
    }

    mutating func explicitTotals() -> EITotals {
        EITotals(
            totalGrossEarnings: amount(), totalEarningsNotLiableACC: amount(),
            totalPAYESchedularTaxDeductions: amount(), totalChildSupportDeductions: amount(),
            totalStudentLoansDeductions: amount(), totalKiwisaverEmployerContributions: amount(),
            totalKiwisaverDeductions: amount(), totalESSEarnings: amount(), totalSLCIRDeductions: amount(),
            totalSLBORDeductions: amount(), totalTaxCreditPayrollDonations: amount(), totalESCTDeducted: amount(),
            totalFamilyTaxCredits: amount(), totalAmountPayable: amount(),
            totalPriorPeriodGrossAdjustment: adjustment(), totalPriorPeriodPAYEAdjustment: adjustment()
        )
    }

    mutating func eiStatus() -> EIStatusPayload {
        let payDay = date()
        return EIStatusPayload(
            employerIrdNumber: .valid(irdNumber()),
            accountType: chance(50) ? .missing : .valid(pick(EmployerAccountType.allCases)),
            payDayDate: .valid(payDay),
            periodEndDate: chance(50) ? .missing : .valid(payDay.lastDayOfMonth),
            submissionKey: chance(50) ? Int64(int(0...2_147_483_647)) : nil
        )
    }

    mutating func employeeName() -> EmployeeName {
        EmployeeName(
            nameTitle: chance(30) ? pick(["Ms", "Mr", "Dr", "Whaea", "Matua"]) : nil,
            nameFirst: simpleName(maximumScalars: 100),
            nameMiddle: chance(30) ? name(maximumScalars: 100) : nil,
            nameSurname: chance(80) ? name(maximumScalars: 100) : nil
        )
    }

    mutating func address() -> EmployeeAddress {
        let street = StreetAddress(
            streetNumber: pick(["12", "24C", "2/46", "1"]),
            streetName: pick(["Ōrākei Road", "Te Ara o Tāwhaki", "Queen & King St", "O'Connell Street"]),
            unitType: chance(30) ? "Flat" : nil,
            unitNumber: nil
        )
        let fixed =
            street.unitType == nil
            ? street
            : StreetAddress(
                streetNumber: street.streetNumber, streetName: street.streetName,
                unitType: "Flat", unitNumber: String(int(1...40)))
        switch int(0...2) {
        case 0:
            return EmployeeAddress(
                nzPostAddress: NZPostAddress(
                    street: fixed, townCity: pick(["Tāmaki Makaurau", "Whanganui", "Woburn"]),
                    postCode: String.fourDigits(int(0...9999))
                ))
        case 1:
            return EmployeeAddress(
                foreignAddress: ForeignAddress(
                    street: fixed, townCity: "Sydney", stateProvince: pick(["NSW", "QLD", "VIC"]), country: "AUS"
                ))
        default:
            return EmployeeAddress(freeFormAddress: "Unit 3 <rear>, 5 Kōwhai Lane & Co, Ōtaki")
        }
    }

    mutating func phone() -> PhoneNumber {
        PhoneNumber(
            phoneType: pick(["CELL", "BSN", "HOM"]), country: "064", areaCode: pick(["", "21", "4", "027"]),
            number: String(int(1_000_000...99_999_999)), extension: chance(30) ? String(int(1...999)) : nil
        )
    }

    mutating func taxCodes(unknownIRD: Bool) -> [Field<TaxCode>] {
        var codes: [Field<TaxCode>] = []
        for _ in 0..<int(1...4) { codes.append(.valid(pick(TaxCode.allCases))) }
        if unknownIRD { codes[0] = .valid(pick([.nd, .wt])) }
        return codes
    }

    mutating func edCreate() -> EDCreatePayload {
        let unknown = chance(10)
        let start = date(year: 2000...2025)
        let eligibility: Field<KiwiSaverEligibility> = chance(50) ? .valid(pick(KiwiSaverEligibility.allCases)) : .missing
        return EDCreatePayload(
            employerIrdNumber: .valid(irdNumber()),
            accountType: chance(50) ? .missing : .valid(pick(EmployerAccountType.allCases)),
            employeeIrdNumber: .valid(unknown ? .unknown : irdNumber()),
            employeeName: employeeName(),
            employeeNameOnEILine: name(maximumScalars: 255),
            taxCodes: taxCodes(unknownIRD: unknown),
            employmentStartDate: .valid(start),
            employmentFinishDate: chance(20) ? .valid(date(year: 2026...2030)) : .missing,
            employeeDateOfBirth: chance(50) ? .valid(date(year: 1950...2005)) : .missing,
            employeeAddress: chance(50) ? address() : nil,
            employeeEmailAddress: chance(50) ? "kaimahi@example.co.nz" : nil,
            employeeMobilePhoneNumber: chance(40) ? phone() : nil,
            employeeDayPhoneNumber: chance(30) ? phone() : nil,
            kiwiSaverStatus: eligibility.value == .newEmployee || chance(40)
                ? .valid(pick(KiwiSaverStatus.allCases)) : .missing,
            employeeKiwiSaverEligibility: eligibility,
            employeeExemptIncome: chance(20) ? .valid(pick(ExemptIncomeReason.allCases)) : .missing
        )
    }

    mutating func identifier() -> EmployeeIdentifier {
        EmployeeIdentifier(
            employeeIrdNumber: .valid(chance(10) ? .unknown : irdNumber()),
            employeeNameOnEILine: name(maximumScalars: 255),
            employeeDateOfBirth: chance(50) ? .valid(date(year: 1950...2005)) : .missing,
            employmentStartDate: chance(50) ? .valid(date(year: 2000...2018)) : .missing
        )
    }

    mutating func edUpdate() -> EDUpdatePayload {
        let unknown = chance(10)
        let optedOut: Bool? = chance(40) ? chance(60) : nil
        let late: Field<LateOptOutReason> =
            optedOut == true && chance(50)
            ? .valid(pick(LateOptOutReason.allCases)) : .missing
        return EDUpdatePayload(
            employerIrdNumber: .valid(irdNumber()),
            accountType: chance(50) ? .missing : .valid(pick(EmployerAccountType.allCases)),
            employeeIdentifier: identifier(),
            employeeIrdNumber: .valid(unknown ? .unknown : irdNumber()),
            employeeName: employeeName(),
            employeeNameOnEILine: name(maximumScalars: 255),
            employmentStartDate: .valid(date(year: 2000...2025)),
            employeeDateOfBirth: chance(50) ? .valid(date(year: 1950...2005)) : .missing,
            taxCodes: taxCodes(unknownIRD: unknown),
            employeeAddress: chance(50) ? address() : nil,
            employeeEmailAddress: chance(30) ? "x_y@example.nz" : nil,
            employeeMobilePhoneNumber: chance(30) ? phone() : nil,
            employeeDayPhoneNumber: chance(30) ? phone() : nil,
            employeeKiwiSaverEligibility: chance(40) ? .valid(pick(KiwiSaverEligibility.allCases)) : .missing,
            optedOut: optedOut,
            employeeBankAccountNumber: chance(30)
                ? NZBankAccount(
                    bank: "12", branch: "3456", account: pick(["1234567", "01234567"]),
                    suffix: pick(["00", "001", "0001"]))
                : nil,
            accountHolderName: chance(30)
                ? EmployeeName(nameFirst: simpleName(maximumScalars: 100), nameSurname: name(maximumScalars: 100))
                : nil,
            optedOutSignatureDate: chance(30) ? .valid(date()) : .missing,
            validRelationship: chance(90),
            lateOptOutReason: late,
            otherLateOptOutReason: late.value == .other || chance(10) ? "Pack arrived late & \"unsigned\"" : nil
        )
    }

    mutating func edTerminate() -> EDTerminatePayload {
        var id = identifier()
        let finish = date(year: 2019...2026)
        if let start = id.employmentStartDate.value, finish < start { id.employmentStartDate = .missing }
        return EDTerminatePayload(
            employerIrdNumber: .valid(irdNumber()),
            accountType: chance(50) ? .missing : .valid(pick(EmployerAccountType.allCases)),
            employeeIdentifier: id,
            employmentFinishDate: .valid(finish)
        )
    }

    /// 200 payloads: 100 EI returns, 30 status requests, 25 creates, 25 updates, 20 terminations.
    mutating func mixedPayloads() -> [IRDJobPayload] {
        var payloads: [IRDJobPayload] = []
        for index in 0..<100 { payloads.append(.eiFile(eiFile(index: index))) }
        for _ in 0..<30 { payloads.append(.eiStatus(eiStatus())) }
        for _ in 0..<25 { payloads.append(.edCreate(edCreate())) }
        for _ in 0..<25 { payloads.append(.edUpdate(edUpdate())) }
        for _ in 0..<20 { payloads.append(.edTerminate(edTerminate())) }
        return payloads
    }
}

extension String {
    static func fourDigits(_ value: Int) -> String {
        let digits = value.description
        return String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
    }

    func trimmingTrailingSpace() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text.isEmpty ? "A" : text
    }
}
