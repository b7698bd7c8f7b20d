import Foundation
import Testing
import TukuGateway
import TukuIRD

/// The `jobs/ird.*/` folders an upstream payroll developer reads: every `kind.json` is a strict, consistent kind
/// definition, and every example payload is valid, uses only keys the payload models know, and renders a SOAP body
/// that validates against IRD's XSDs.
@Suite("jobs/ird.* kind definitions and example payloads")
struct JobExamplesTests {
    /// `<repo>/jobs`, found from this file: `Tests/TukuIRDTests/JobExamplesTests.swift`.
    static let jobsDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TukuIRDTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("jobs")

    static let builder = SOAPEnvelopeBuilder(
        configuration: .init(
            softwareProvider: "Tuku", softwarePlatform: "Linux", softwareRelease: "0.1.0"
        ))

    /// The `jobs/ird.*` folder names, sorted.
    static func kindFolders() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: jobsDirectory.path)) ?? []
        return names.filter { $0.hasPrefix("ird.") }.sorted()
    }

    /// Every `jobs/ird.*/examples/*.json` as `<kind>/examples/<file>`, sorted.
    static func examplePaths() -> [String] {
        kindFolders().flatMap { kind -> [String] in
            let examples = jobsDirectory.appendingPathComponent(kind).appendingPathComponent("examples")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
            return names.filter { $0.hasSuffix(".json") }.sorted().map { "\(kind)/examples/\($0)" }
        }
    }

    static func kind(ofExample path: String) -> String {
        String(path.split(separator: "/")[0])
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: jobsDirectory.appendingPathComponent(relativePath))
    }

    /// The five operations a kind may name, by `GatewayOperation.name`.
    static let operations: [String: GatewayOperation] = Dictionary(
        uniqueKeysWithValues: [
            GatewayOperation.fileReturn, .retrieveReturnStatus, .createEmployment, .updateEmployment,
            .terminateEmployment,
        ].map { ($0.name, $0) }
    )

    // MARK: - The folders

    @Test("there is exactly one folder per IRD job kind, each with a kind.json, a README.md and 2-4 examples")
    func everyKindHasItsFolder() throws {
        #expect(Self.kindFolders() == IRDJobKind.allCases.map(\.rawValue).sorted())
        for kind in IRDJobKind.allCases.map(\.rawValue) {
            let folder = Self.jobsDirectory.appendingPathComponent(kind)
            for file in ["kind.json", "README.md"] {
                #expect(
                    FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path),
                    "\(kind)/\(file) is missing"
                )
            }
            let examples = Self.examplePaths().filter { Self.kind(ofExample: $0) == kind }
            #expect((2...4).contains(examples.count), "\(kind) has \(examples.count) examples")
        }
    }

    // MARK: - kind.json

    @Test("kind.json decodes strictly and matches its folder and its gateway operation", arguments: JobExamplesTests.kindFolders())
    func kindDefinitionIsConsistent(folder: String) throws {
        let definition = try JSONDecoder().decode(KindDefinition.self, from: try Self.data("\(folder)/kind.json"))
        #expect(definition.kind == folder)
        let kind = try #require(IRDJobKind(rawValue: definition.kind), "'\(definition.kind)' is not an IRD job kind")
        #expect(!definition.description.isEmpty && definition.description.hasSuffix("."))

        let operation = try #require(Self.operations[definition.operation], "unknown operation \(definition.operation)")
        #expect(definition.soapAction == operation.action)
        #expect(operation == Self.expectedOperation[kind])
        let expectedService = operation.serviceNamespace == IRDNamespace.returnsService ? "returns" : "employment"
        #expect(definition.service == expectedService)

        #expect(definition.gateway == "ird")
        #expect(definition.rateLimitKey == "ird.gateway")
        #expect(definition.timeoutSeconds > 0)
        #expect(definition.retry.baseSeconds > 0 && definition.retry.baseSeconds <= definition.retry.capSeconds)
        #expect((0...1).contains(definition.retry.jitter))
        // Only a File can end outcome-unknown in a way a status query resolves.
        #expect(definition.reconcileWith == (kind == .eiFile ? IRDJobKind.eiStatus.rawValue : nil))
    }

    static let expectedOperation: [IRDJobKind: GatewayOperation] = [
        .eiFile: .fileReturn, .eiStatus: .retrieveReturnStatus, .edCreate: .createEmployment,
        .edUpdate: .updateEmployment, .edTerminate: .terminateEmployment,
    ]

    @Test("the strict kind.json decoder rejects an unknown key and a missing one")
    func kindDefinitionDecodingIsStrict() throws {
        let valid = try Self.data("ird.ei.status/kind.json")
        _ = try JSONDecoder().decode(KindDefinition.self, from: valid)

        var object = try #require(try JSONSerialization.jsonObject(with: valid) as? [String: Any])
        object["timeoutSecs"] = 60
        let extraKey = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(KindDefinition.self, from: extraKey) }

        object["timeoutSecs"] = nil
        var retry = try #require(object["retry"] as? [String: Any])
        retry["factor"] = 2
        object["retry"] = retry
        let extraRetryKey = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(KindDefinition.self, from: extraRetryKey) }

        object["retry"] = ["baseSeconds": 30, "capSeconds": 3600, "jitter": 0.1]
        object["rateLimitKey"] = nil
        let missingKey = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(KindDefinition.self, from: missingKey) }
    }

    // MARK: - Examples

    @Test("every example is valid, with only keys its payload model knows", arguments: JobExamplesTests.examplePaths())
    func exampleIsValid(path: String) throws {
        let json = try Self.data(path)
        let payload: IRDJobPayload
        do {
            // Validation includes the unknown-key check (`UnknownKeys`).
            payload = try IRDJobPayload.decodeValidated(kind: Self.kind(ofExample: path), from: json)
        } catch {
            Issue.record("\(path): \(error)")
            return
        }
        #expect(payload.kind.rawValue == Self.kind(ofExample: path))
        #expect(payload.validate().isEmpty)
    }

    @Test("every example renders a SOAP envelope whose body validates against IRD's XSD", arguments: JobExamplesTests.examplePaths())
    func exampleRendersSchemaValidSOAP(path: String) throws {
        let kind = try #require(IRDJobKind(rawValue: Self.kind(ofExample: path)))
        let payload = try IRDJobPayload.decodeValidated(kind: kind.rawValue, from: try Self.data(path))
        let envelope = try Self.builder.envelope(for: payload)

        let definition = try JSONDecoder().decode(KindDefinition.self, from: try Self.data("\(kind.rawValue)/kind.json"))
        #expect(envelope.operation.name == definition.operation)
        #expect(envelope.contentType.contains("action=\"\(definition.soapAction)\""))
        let text = String(decoding: envelope.body, as: UTF8.self)
        #expect(text.contains(">\(definition.soapAction)</wsa:Action>"))

        let (localName, namespace) = envelope.operation.payloadElement
        let document = try SchemaValidator.payloadDocument(of: envelope.body, namespace: namespace, localName: localName)
        let schema = namespace == IRDNamespace.returnEI ? ReferencePaths.returnEISchema : ReferencePaths.employmentSchema
        let failures = try SchemaValidator.failures(of: [document], against: schema)
        #expect(failures.isEmpty, "\(path): \(failures[0] ?? "")\n\(document.prefix(3000))")
    }

    @Test("the EI examples' IRD numbers go on the wire as 9 digits and their totals are the sums of the lines")
    func eiExampleWireForms() throws {
        let json = try Self.data("ird.ei.file/examples/deductions.json")
        guard case .eiFile(let payload) = try IRDJobPayload.decodeValidated(kind: "ird.ei.file", from: json) else {
            Issue.record("ird.ei.file example did not decode as an EI file")
            return
        }
        let text = String(decoding: try Self.builder.fileReturn(payload).body, as: UTF8.self)
        #expect(text.contains("IdentifierValueType=\"ACCIRD\">123041607</cmn:identifier>"))
        #expect(text.contains("<ei:irdNumber>123028198</ei:irdNumber>"))
        #expect(text.contains("<ei:irdNumber>000000000</ei:irdNumber>"))
        #expect(text.contains("<rc:periodEndDate>2025-06-30</rc:periodEndDate>"))
        #expect(text.contains("<ei:totalGrossEarnings>14716.67</ei:totalGrossEarnings>"))
        #expect(text.contains("<ei:totalPAYESchedularTaxDeductions>3090.51</ei:totalPAYESchedularTaxDeductions>"))
        #expect(text.contains("<ei:totalPriorPeriodGrossAdjustment>-250.00</ei:totalPriorPeriodGrossAdjustment>"))
    }

    // MARK: - Negative

    @Test("breaking one example's IRD check digit is reported at that exact path, and nothing else is")
    func brokenCheckDigitIsReportedAtItsPath() throws {
        let json = try Self.data("ird.ei.file/examples/three-employees.json")
        let text = String(decoding: json, as: UTF8.self)
        // 137-946-955 is valid; 137-946-956 fails the modulus-11 check.
        #expect(IRDNumber.passesCheckDigit(137_946_955))
        #expect(!IRDNumber.passesCheckDigit(137_946_956))
        let broken = text.replacingOccurrences(of: "\"137-946-955\"", with: "\"137-946-956\"")
        #expect(broken != text)

        let error = #expect(throws: PayloadError.self) {
            try IRDJobPayload.decodeValidated(kind: "ird.ei.file", from: Data(broken.utf8))
        }
        #expect(error?.code == .validationFailed)
        #expect(
            error?.problems == [
                ValidationProblem(path: "lines[1].irdNumber", reason: "fails IRD's modulus-11 check digit")
            ])
    }

    @Test("a broken nested IRD number and an impossible date in an ED example are reported at their paths")
    func nestedProblemIsReportedAtItsPath() throws {
        let json = try Self.data("ird.ed.terminate/examples/resignation.json")
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        var identifier = try #require(object["employeeIdentifier"] as? [String: Any])
        identifier["employeeIrdNumber"] = "136-410-133"
        object["employeeIdentifier"] = identifier
        object["employmentFinishDate"] = "2025-06-31"
        let error = #expect(throws: PayloadError.self) {
            try IRDJobPayload.decodeValidated(
                kind: "ird.ed.terminate", from: try JSONSerialization.data(withJSONObject: object)
            )
        }
        #expect(error?.problems.map(\.path) == ["employeeIdentifier.employeeIrdNumber", "employmentFinishDate"])
    }

    @Test("a misspelt optional key, which decoding alone would silently drop, is refused at its path")
    func misspeltKeyIsRefused() throws {
        let json = try Self.data("ird.ei.file/examples/three-employees.json")
        let misspelt = Data(
            String(decoding: json, as: UTF8.self)
                .replacingOccurrences(of: "\"kiwisaverDeductions\": \"73.50\"", with: "\"kiwisaverDeduction\": \"73.50\"")
                .utf8
        )
        #expect(misspelt != json)
        // Decoding alone accepts it, and the amount is simply gone.
        guard case .eiFile(let decoded) = try IRDJobPayload.decode(.eiFile, from: misspelt) else {
            Issue.record("not decoded as an EI file")
            return
        }
        #expect(decoded.lines?.first?.kiwisaverDeductions.isMissing == true)
        let error = #expect(throws: PayloadError.self) {
            try IRDJobPayload.decodeValidated(kind: "ird.ei.file", from: misspelt)
        }
        #expect(error?.code == .validationFailed)
        #expect(
            error?.problems == [
                ValidationProblem(
                    path: "lines[0].kiwisaverDeduction", reason: "is not a field of this payload; it would be left out of the filing")
            ])
    }

    @Test("unknown keys are found at every depth; null keys, and objects given where a value belongs, are not reported twice")
    func unknownKeysAtEveryDepth() throws {
        let json = try Self.data("ird.ed.create/examples/fixed-term-overseas-address.json")
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        // Deep inside an object inside an object.
        var address = try #require(object["employeeAddress"] as? [String: Any])
        var foreign = try #require(address["foreignAddress"] as? [String: Any])
        var street = try #require(foreign["street"] as? [String: Any])
        street["streetNumbr"] = "114"
        foreign["street"] = street
        address["foreignAddress"] = foreign
        object["employeeAddress"] = address
        // At the top, and a null one that carries nothing and so is allowed.
        object["employeeNickname"] = "Lottie"
        object["notes"] = NSNull()
        // An object where a string belongs: validation says so once, its inner keys are not reported as unknown.
        object["employeeDateOfBirth"] = ["year": 2001, "month": 4, "day": 9]

        let error = #expect(throws: PayloadError.self) {
            try IRDJobPayload.decodeValidated(kind: "ird.ed.create", from: try JSONSerialization.data(withJSONObject: object))
        }
        #expect(
            error?.problems.map(\.path) == [
                "employeeDateOfBirth", "employeeAddress.foreignAddress.street.streetNumbr", "employeeNickname",
            ])
        #expect(error?.problems.first?.reason == "must be a JSON string")
    }

    // MARK: - Helpers

}

/// `jobs/<kind>/kind.json`, decoded strictly: every key required except `reconcileWith`, and no other key allowed.
struct KindDefinition: Decodable, Equatable {
    struct Retry: Decodable, Equatable {
        var baseSeconds: Double
        var capSeconds: Double
        var jitter: Double

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case baseSeconds, capSeconds, jitter
        }

        init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            baseSeconds = try container.decode(Double.self, forKey: .baseSeconds)
            capSeconds = try container.decode(Double.self, forKey: .capSeconds)
            jitter = try container.decode(Double.self, forKey: .jitter)
        }
    }

    var kind: String
    var description: String
    var operation: String
    var soapAction: String
    var service: String
    var gateway: String
    var rateLimitKey: String
    var timeoutSeconds: Int
    var retry: Retry
    var reconcileWith: String?

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, description, gateway, operation, soapAction, service, rateLimitKey, timeoutSeconds
        case retry, reconcileWith
    }

    init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(String.self, forKey: .kind)
        description = try container.decode(String.self, forKey: .description)
        operation = try container.decode(String.self, forKey: .operation)
        soapAction = try container.decode(String.self, forKey: .soapAction)
        service = try container.decode(String.self, forKey: .service)
        gateway = try container.decode(String.self, forKey: .gateway)
        rateLimitKey = try container.decode(String.self, forKey: .rateLimitKey)
        timeoutSeconds = try container.decode(Int.self, forKey: .timeoutSeconds)
        retry = try container.decode(Retry.self, forKey: .retry)
        reconcileWith = try container.decodeIfPresent(String.self, forKey: .reconcileWith)
    }
}

/// Any string key, to list the keys an object actually has.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Throws `DecodingError.dataCorrupted` when the object being decoded has a key outside `allowed`.
private func rejectUnknownKeys(in decoder: any Decoder, allowed: [String]) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    let unknown = container.allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
    guard unknown.isEmpty else {
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: decoder.codingPath, debugDescription: "unknown key(s): \(unknown.joined(separator: ", "))"
            ))
    }
}
