import Foundation
import Testing
import TukuGateway
import TukuIRD

@Suite("Envelope bodies validate against IRD's XSDs")
struct SchemaValidationTests {
    static let builder = SOAPEnvelopeBuilder(
        configuration: .init(
            softwareProvider: "Tuku", softwarePlatform: "Linux", softwareRelease: "0.1.0"
        ))

    /// Builds every payload and extracts its body payload element as a standalone document, grouped by schema.
    static func bodies(of payloads: [IRDJobPayload]) throws -> (returns: [String], employment: [String]) {
        var returns: [String] = []
        var employment: [String] = []
        for payload in payloads {
            let envelope = try builder.envelope(for: payload)
            let (localName, namespace) = envelope.operation.payloadElement
            let document = try SchemaValidator.payloadDocument(
                of: envelope.body, namespace: namespace, localName: localName
            )
            if namespace == IRDNamespace.returnEI { returns.append(document) } else { employment.append(document) }
        }
        return (returns, employment)
    }

    @Test("xmllint is installed (CI installs libxml2-utils); without it schema tests cannot pass")
    func xmllintIsAvailable() throws {
        _ = try SchemaValidator.xmllintPath()
    }

    @Test("200 generated payloads across all five kinds produce bodies that validate")
    func generatedPayloadsValidate() throws {
        var generator = PayloadGenerator(seed: 20_240_515)
        let payloads = generator.mixedPayloads()
        #expect(payloads.count == 200)
        let (returns, employment) = try Self.bodies(of: payloads)
        #expect(returns.count == 130)
        #expect(employment.count == 70)

        let returnFailures = try SchemaValidator.failures(of: returns, against: ReferencePaths.returnEISchema)
        let employmentFailures = try SchemaValidator.failures(of: employment, against: ReferencePaths.employmentSchema)
        for (index, message) in returnFailures.sorted(by: { $0.key < $1.key }).prefix(5) {
            Issue.record("Returns body \(index) failed: \(message)\n\(returns[index].prefix(3000))")
        }
        for (index, message) in employmentFailures.sorted(by: { $0.key < $1.key }).prefix(5) {
            Issue.record("Employment body \(index) failed: \(message)\n\(employment[index].prefix(3000))")
        }
        #expect(returnFailures.isEmpty)
        #expect(employmentFailures.isEmpty)
    }

    @Test("a second seed: another 200 payloads validate")
    func secondSeedValidates() throws {
        var generator = PayloadGenerator(seed: 42)
        let (returns, employment) = try Self.bodies(of: generator.mixedPayloads())
        #expect(try SchemaValidator.failures(of: returns, against: ReferencePaths.returnEISchema).isEmpty)
        #expect(try SchemaValidator.failures(of: employment, against: ReferencePaths.employmentSchema).isEmpty)
    }

    @Test("the harness can fail: out-of-order, over-long and non-digit bodies are rejected by xmllint")
    func harnessDetectsInvalidBodies() throws {
        var generator = PayloadGenerator(seed: 1)
        let payload = IRDJobPayload.eiFile(generator.eiFile(index: 2))
        let (returns, _) = try Self.bodies(of: [payload])
        let valid = try #require(returns.first)
        // Swap two elements so the sequence order is wrong.
        let swapped = valid.replacingOccurrences(
            of: #"(<rc:periodEndDate>[^<]*</rc:periodEndDate>)(<rc:majorFormType>EI2</rc:majorFormType>)"#,
            with: "$2$1", options: .regularExpression
        )
        #expect(swapped != valid)
        let dashedIRD = valid.replacingOccurrences(
            of: #"<ei:irdNumber>\d{9}</ei:irdNumber>"#, with: "<ei:irdNumber>049-091-850</ei:irdNumber>",
            options: .regularExpression
        )
        let threeDecimals = valid.replacingOccurrences(
            of: #"<ei:totalGrossEarnings>(\d+)\.(\d\d)"#, with: "<ei:totalGrossEarnings>$1.$2" + "1",
            options: .regularExpression
        )
        #expect(dashedIRD != valid)
        #expect(threeDecimals != valid)
        let failures = try SchemaValidator.failures(
            of: [valid, swapped, dashedIRD, threeDecimals], against: ReferencePaths.returnEISchema
        )
        #expect(Set(failures.keys) == [1, 2, 3])
    }

    @Test("IRD's own sample request bodies validate with the same harness")
    func samplesValidate() throws {
        let samples: [(String, String, String, URL)] = [
            ("body-ei-returnfile-request.xml", IRDNamespace.returnEI, "fileRequest", ReferencePaths.returnEISchema),
            (
                "body-ei-returnstatus-request.xml", IRDNamespace.returnEI, "retrieveEIRequest",
                ReferencePaths.returnEISchema
            ),
            (
                "body-employment-create-request.xml", IRDNamespace.employment, "createRequest",
                ReferencePaths.employmentSchema
            ),
            (
                "body-employment-terminate-request.xml", IRDNamespace.employment, "terminateRequest",
                ReferencePaths.employmentSchema
            ),
        ]
        for (name, namespace, localName, schema) in samples {
            let document = try SchemaValidator.payloadDocument(
                of: try ReferencePaths.sample(name), namespace: namespace, localName: localName
            )
            let failures = try SchemaValidator.failures(of: [document], against: schema)
            #expect(failures.isEmpty, "\(name): \(failures[0] ?? "")")
        }
    }
}
