import Foundation
import Testing
import TukuIRD

@Suite("Payload validation")
struct PayloadValidationTests {
    static let validEI = """
        {
          "employerIrdNumber": "49-091-850",
          "payDayDate": "2024-05-15",
          "isNilReturn": false,
          "lines": [
            { "referenceId": "a1", "irdNumber": "136410132", "employeeName": "Aroha Ngāta", "taxCode": "M",
              "payPeriodStartDate": "2024-05-01", "payPeriodEndDate": "2024-05-14", "employeePayFrequency": "FT",
              "grossEarnings": "2450.00", "payeSchedularTaxDeductions": 412.37, "priorPeriodPAYEAdjustment": "-10.00" },
            { "referenceId": "a2", "irdNumber": "000000000", "employeeName": "Unknown Worker", "taxCode": "ND",
              "payPeriodStartDate": "2024-05-01", "payPeriodEndDate": "2024-05-14", "employeePayFrequency": "WK",
              "grossEarnings": 100 }
          ]
        }
        """

    static func decode(_ kind: IRDJobKind, _ json: String) throws(PayloadError) -> IRDJobPayload {
        try IRDJobPayload.decode(kind, from: Data(json.utf8))
    }

    @Test("a valid EI return decodes, validates clean and derives the period end and totals")
    func validEIReturn() throws {
        let payload = try IRDJobPayload.decodeValidated(kind: "ird.ei.file", from: Data(Self.validEI.utf8))
        guard case .eiFile(let ei) = payload else {
            Issue.record("wrong kind")
            return
        }
        #expect(ei.effectivePeriodEndDate?.description == "2024-05-31")
        let totals = try #require(ei.effectiveTotals)
        #expect(totals.totalGrossEarnings.value?.cents == 255_000)
        #expect(totals.totalPAYESchedularTaxDeductions.value?.cents == 41_237)
        #expect(totals.totalPriorPeriodPAYEAdjustment.value?.cents == -1_000)
    }

    @Test("every problem in an EI return is reported at its JSON path, not just the first")
    func reportsAllEIProblems() throws {
        let json = """
            {
              "employerIrdNumber": "000000000",
              "accountType": "XYZ",
              "payDayDate": "2024-04-30",
              "periodEndDate": "2024-05-30",
              "isNilReturn": true,
              "contactName": "A name much longer than twenty",
              "contactEmail": "not-an-email",
              "lines": [
                { "referenceId": "dup", "irdNumber": "136410133", "employeeName": "", "taxCode": "ESS",
                  "payPeriodStartDate": "2024-05-14", "payPeriodEndDate": "2024-05-01", "employeePayFrequency": "XX",
                  "grossEarnings": "12.345", "kiwisaverDeductions": "-1.00", "priorPeriodGrossAdjustment": "-5.00" },
                { "referenceId": "dup", "irdNumber": "49091850", "employeeName": "Tāne\\u0007", "taxCode": "M",
                  "payPeriodStartDate": "2024-13-01", "employeePayFrequency": "MT" },
                { "irdNumber": 49091850, "employeeName": "No Reference", "taxCode": "m",
                  "payPeriodStartDate": "2024-05-01", "payPeriodEndDate": "2024-05-31", "employeePayFrequency": "MT",
                  "hoursPaid": true }
              ]
            }
            """
        let problems = try Self.decode(.eiFile, json).validate()
        let paths = Set(problems.map(\.path))
        let expected: Set<String> = [
            "employerIrdNumber", "accountType", "periodEndDate", "payDayDate", "isNilReturn", "contactName",
            "contactEmail",
            "lines[0].irdNumber", "lines[0].employeeName", "lines[0].taxCode", "lines[0].payPeriodEndDate",
            "lines[0].employeePayFrequency", "lines[0].grossEarnings", "lines[0].kiwisaverDeductions",
            "lines[1].referenceId", "lines[1].employeeName", "lines[1].payPeriodStartDate",
            "lines[1].payPeriodEndDate",
            "lines[2].referenceId", "lines[2].irdNumber", "lines[2].taxCode", "lines[2].hoursPaid",
        ]
        #expect(paths == expected, "unexpected: \(paths.subtracting(expected)), missing: \(expected.subtracting(paths))")
        #expect(problems.contains { $0.path == "lines[1].referenceId" && $0.reason.contains("lines[0]") })
        #expect(problems.contains { $0.path == "payDayDate" && $0.reason.contains("161") })
        #expect(problems.contains { $0.path == "lines[0].irdNumber" && $0.reason.contains("modulus-11") })
        #expect(problems.contains { $0.path == "lines[2].irdNumber" && $0.reason == "must be a JSON string" })
        #expect(!paths.contains("lines[0].priorPeriodGrossAdjustment"), "negative adjustments are allowed")
    }

    @Test("a nil return must have no lines and a return without lines must be nil (IRD code 136)")
    func nilReturnRule() throws {
        let noLines = #"{"employerIrdNumber":"49091850","payDayDate":"2024-05-15","isNilReturn":false}"#
        let problems = try Self.decode(.eiFile, noLines).validate()
        #expect(
            problems == [
                ValidationProblem(
                    path: "isNilReturn", reason: "must be true when there are no lines (IRD code 136)"
                )
            ])
        let nilReturn = #"{"employerIrdNumber":"49091850","payDayDate":"2024-05-15","isNilReturn":true,"lines":[]}"#
        #expect(try Self.decode(.eiFile, nilReturn).validate().isEmpty)
        let missingFlag = #"{"employerIrdNumber":"49091850","payDayDate":"2024-05-15"}"#
        #expect(try Self.decode(.eiFile, missingFlag).validate().map(\.path) == ["isNilReturn"])
    }

    @Test("an amendment needs a submission key and a reason from IRD's list")
    func amendment() throws {
        let json = """
            {"employerIrdNumber":"49091850","payDayDate":"2024-05-15","isNilReturn":true,
             "amendment":{"amendReason":"OOPS","amendDetails":"x"}}
            """
        let paths = try Self.decode(.eiFile, json).validate().map(\.path)
        #expect(Set(paths) == ["amendment.submissionKey", "amendment.amendReason"])
    }

    @Test("an employee name at 255 characters passes and at 256 fails, counting combining macrons as IRD does")
    func lengthsCountUnicodeScalars() throws {
        func line(_ name: String) -> EILine {
            EILine(
                referenceId: "r", irdNumber: .valid(.unknown), employeeName: name, taxCode: .valid(.nd),
                payPeriodStartDate: .valid(try! CalendarDate("2024-05-01")),
                payPeriodEndDate: .valid(try! CalendarDate("2024-05-02")), employeePayFrequency: .valid(.weekly)
            )
        }
        func payload(_ name: String) throws -> EIFilePayload {
            EIFilePayload(
                employerIrdNumber: .valid(try IRDNumber("49091850")), payDayDate: .valid(try CalendarDate("2024-05-02")),
                isNilReturn: false, lines: [line(name)]
            )
        }
        #expect(try payload(String(repeating: "ā", count: 255)).validate().isEmpty)
        // "a" + U+0304 is one Character but two characters to XSD.
        let combining = String(repeating: "a\u{0304}", count: 128)
        #expect(combining.count == 128)
        #expect(try payload(combining).validate().map(\.path) == ["lines[0].employeeName"])
    }

    @Test("wrong JSON shapes are reported with the path where decoding stopped")
    func wrongShape() {
        do {
            _ = try Self.decode(.eiFile, #"{"employerIrdNumber":"49091850","lines":[{"referenceId":5}]}"#)
            Issue.record("decoded")
        } catch {
            #expect(error.code == .invalidJSON)
            #expect(error.problems.first?.path == "lines[0].referenceId")
        }
        #expect(throws: PayloadError.self) { try Self.decode(.eiFile, "not json") }
    }

    @Test("an unknown job kind is refused")
    func unknownKind() {
        do {
            _ = try IRDJobPayload.decodeValidated(kind: "ird.gst.file", from: Data("{}".utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .unknownJobKind)
        }
    }

    @Test("an EI status request checks the employer, the payday month and the submission key range")
    func statusValidation() throws {
        let json = """
            {"employerIrdNumber":"12345678","payDayDate":"2024-06-01","periodEndDate":"2024-05-31","submissionKey":-1}
            """
        let paths = try Self.decode(.eiStatus, json).validate().map(\.path)
        #expect(Set(paths) == ["employerIrdNumber", "payDayDate", "submissionKey"])
    }

    @Test("employee details enforce IRD's ND/WT rule for zero IRD numbers, KiwiSaver NE status and date order")
    func employeeDetailsRules() throws {
        let create = """
            {"employerIrdNumber":"49091850","employeeIrdNumber":"000000000",
             "employeeName":{"nameFirst":"Mere","nameTitle":"X"},"employeeNameOnEILine":"Mere",
             "taxCodes":["M","SB","S","ST","SA"],"employmentStartDate":"2024-05-01","employmentFinishDate":"2024-04-01",
             "employeeKiwiSaverEligibility":"NE",
             "employeeAddress":{"freeFormAddress":"1 Road","nzPostAddress":{"street":{"streetNumber":"1",
               "streetName":"Road"},"townCity":"Ōtaki","postCode":"55"}},
             "employeeMobilePhoneNumber":{"phoneType":"CELL","country":"64","areaCode":"21","number":"12a"}}
            """
        let problems = try Self.decode(.edCreate, create).validate()
        let paths = Set(problems.map(\.path))
        #expect(
            paths == [
                "employeeName.nameTitle", "taxCodes", "employmentFinishDate", "kiwiSaverStatus", "employeeAddress",
                "employeeAddress.nzPostAddress.postCode", "employeeMobilePhoneNumber.country",
                "employeeMobilePhoneNumber.number",
            ])
        #expect(problems.contains { $0.path == "taxCodes" && $0.reason.contains("141") })

        let update = """
            {"employerIrdNumber":"49091850","employeeIdentifier":{"employeeIrdNumber":"49091850"},
             "employeeIrdNumber":"49091850","employeeName":{"nameFirst":"Mere"},"employeeNameOnEILine":"Mere",
             "employmentStartDate":"2024-05-01","taxCodes":["M"],"lateOptOutReason":"OTHR",
             "accountHolderName":{"nameFirst":"Mere"},
             "employeeBankAccountNumber":{"bank":"12","branch":"345","account":"1234567","suffix":"1"}}
            """
        let updatePaths = Set(try Self.decode(.edUpdate, update).validate().map(\.path))
        #expect(
            updatePaths == [
                "employeeIdentifier.employeeNameOnEILine", "validRelationship", "optedOut", "otherLateOptOutReason",
                "accountHolderName.nameSurname", "employeeBankAccountNumber.branch", "employeeBankAccountNumber.suffix",
            ])

        let terminate = """
            {"employerIrdNumber":"49091850","employeeIdentifier":{"employeeIrdNumber":"0","employeeNameOnEILine":"M",
             "employmentStartDate":"2024-05-01"},"employmentFinishDate":"2024-04-30"}
            """
        let terminatePaths = Set(try Self.decode(.edTerminate, terminate).validate().map(\.path))
        #expect(terminatePaths == ["employeeIdentifier.employeeIrdNumber", "employmentFinishDate"])
    }

    @Test("generated payloads survive a JSON round trip unchanged and validate clean")
    func roundTrip() throws {
        var generator = PayloadGenerator(seed: 7)
        for payload in generator.mixedPayloads() {
            #expect(payload.validate().isEmpty, "generator produced an invalid \(payload.kind)")
            #expect(try IRDJobPayload.decode(payload.kind, from: try payload.encoded()) == payload)
        }
    }
}

@Suite("Payload validation: what the docs promise about JSON types and depth")
struct PayloadShapeTests {
    @Test("an employer IRD number given as a JSON number is refused: IRD numbers are strings")
    func irdNumberAsJSONNumber() throws {
        let json = #"{"employerIrdNumber":49091850,"payDayDate":"2024-05-15","isNilReturn":true}"#
        #expect(throws: PayloadError.self) { try IRDJobPayload.decodeValidated(kind: "ird.ei.file", from: Data(json.utf8)) }
        let problems = try IRDJobPayload.decode(.eiFile, from: Data(json.utf8)).validate()
        #expect(problems.contains { $0.path == "employerIrdNumber" && $0.reason == "must be a JSON string" })
    }

    @Test("a payload nested deeper than Foundation's 512 levels is reported with its depth and the limit, not as invalid JSON")
    func tooDeep() {
        let deep = #"{"employerIrdNumber":"49091850","x":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        do {
            _ = try IRDJobPayload.decodeValidated(kind: "ird.ei.file", from: Data(deep.utf8))
            Issue.record("a 601-level payload decoded")
        } catch {
            #expect(error.code == .invalidJSON)
            #expect(error.reason.contains("601 levels deep"))
            #expect(error.reason.contains("at most 512 levels"))
        }
    }
}
