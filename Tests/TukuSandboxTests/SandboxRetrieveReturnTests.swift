import Foundation
import FoundationXML
import Testing
import TukuGateway
import TukuIRD
import TukuSandbox

/// RetrieveReturn as IRD's EI build pack (§3.3), WSDL and XSDs define it: the request is RetrieveStatus's
/// `retrieveEIRequest` under RetrieveReturn's wrappers, the answer every field of the returns as filed.
@Suite("Sandbox: RetrieveReturn")
struct SandboxRetrieveReturnTests {
    static let builder = SOAPEnvelopeBuilder(
        configuration: .init(softwareProvider: "Tuku", softwarePlatform: "Linux", softwareRelease: "test"))

    /// The `by-payday` status example as a RetrieveReturn call, optionally for one submission key.
    static func retrieve(submissionKey: Int64? = nil) throws -> SOAPEnvelope {
        guard case .eiStatus(var payload) = try Sandbox.example("ird.ei.status", "by-payday") else {
            throw HarnessError("by-payday is not an ird.ei.status payload")
        }
        payload.submissionKey = submissionKey
        return try builder.retrieveReturn(payload)
    }

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("Tests/Fixtures/ird-v1/\(name)"), encoding: .utf8)
    }

    /// Every element below the first `{namespace}localName` element, as `path = text` for leaves, in document order.
    static func leaves(_ xml: Data, under localName: String, namespace: String) throws -> [String] {
        let document = try XMLDocument(data: xml, options: [.nodeLoadExternalEntitiesNever])
        func find(_ element: XMLElement) -> XMLElement? {
            if element.uri == namespace && element.localName == localName { return element }
            for case let child as XMLElement in element.children ?? [] {
                if let found = find(child) { return found }
            }
            return nil
        }
        var lines: [String] = []
        func walk(_ element: XMLElement, path: String) {
            let children = (element.children ?? []).compactMap { $0 as? XMLElement }
            for child in children {
                let childPath = "\(path)/{\(child.uri ?? "")}\(child.localName ?? "")"
                if (child.children ?? []).contains(where: { $0 is XMLElement }) {
                    walk(child, path: childPath)
                } else {
                    lines.append("\(childPath) = \(child.stringValue ?? "")")
                }
            }
        }
        return try withExtendedLifetime(document) {
            let root = try #require(document.rootElement())
            let top = try #require(find(root), "no {\(namespace)}\(localName)")
            walk(top, path: "")
            return lines
        }
    }

    @Test("File then RetrieveReturn over TLS: the return comes back as filed, with its submission key, XSD-valid")
    func fileThenRetrieve() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            let key = try #require(try await sandbox.result(file, token: token).submissionKey)

            let response = try await sandbox.send(Self.retrieve(), authorization: "Bearer \(token)")
            #expect(response.status == .ok)
            let body = Data(response.bodyBytes)
            let path = SandboxStrictSOAPTests.responsePath("RetrieveReturn", IRDNamespace.returnsService)
            #expect(
                sandbox.server.router.schemas.validate(body, childOf: path)
                    == .valid(QualifiedName(IRDNamespace.returnCommon, "retrieveReturnResponse"), line: 1))
            let parsed = try GatewayResponseParser.parse(body)
            #expect(parsed.action == GatewayOperation.retrieveReturn.responseAction)
            guard case .result(let result) = parsed.content else { throw HarnessError("expected a result, got \(parsed.content)") }
            #expect(result.isSuccess)
            #expect(result.responseElement == "retrieveReturnResponse")
            guard case .eiFile(let filed) = try Sandbox.example("ird.ei.file", "three-employees") else { throw HarnessError("not a file") }
            // Every field as filed, in the filed order, after the submission key IRD assigned.
            let filedFields = try Self.leaves(file.body, under: "formFields", namespace: IRDNamespace.returnCommon)
            let answered = try Self.leaves(body, under: "formFields", namespace: IRDNamespace.returnEI)
            #expect(answered == ["/{\(IRDNamespace.returnEI)}submissionKey = \(key)"] + filedFields)
            func filedTotal(_ name: String) -> String? {
                filedFields.first { $0.hasPrefix("/{\(IRDNamespace.returnEI)}\(name) = ") }?.components(separatedBy: " = ").last
            }
            #expect(filedTotal("totalGrossEarnings") != nil)
            #expect(
                result.retrievedReturns == [
                    RetrievedReturn(
                        isNilReturn: false, submissionKey: key, payDayDate: filed.payDayDate.value,
                        lineReferences: (filed.lines ?? []).map { $0.referenceId ?? "" },
                        totalGrossEarnings: filedTotal("totalGrossEarnings"), totalPAYE: filedTotal("totalPAYESchedularTaxDeductions"))
                ])
            #expect(filedFields.count > 40)

            let statistics = sandbox.server.router.currentStatistics
            #expect(statistics.callsByAction["RetrieveReturn"] == 1)
            #expect(statistics.filingsStored == 1)
        }
    }

    @Test("the response has the envelope, wrappers, status message and typed responseBody of IRD's RetrieveReturn sample")
    func matchesIRDRetrieveReturnSample() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            _ = try await sandbox.result(sandbox.envelope("ird.ei.file", "nil-return"), token: token)
            let nilRequest = try Self.retrieveNilReturn()
            let response = try await sandbox.send(nilRequest, authorization: "Bearer \(token)")
            let answered = String(decoding: response.bodyBytes, as: UTF8.self)
            // IRD publishes its RetrieveReturn response for GST (v1 namespaces): the same envelope down to formFields,
            // whose content is the return type's own. Compared with the namespaces of the EI v2 generation.
            let sample = try Self.fixture("body-gst-retrievereturn-response.xml")
                .replacingOccurrences(of: "GWS:types/ReturnGST.v1", with: "GWS:types/ReturnEI.v2")
                .replacingOccurrences(of: "GWS:types/ReturnCommon.v1", with: "GWS:types/ReturnCommon.v2")
                .replacingOccurrences(of: "GWS:types/Common.v1", with: "GWS:types/Common.v2")
            func upToFormFields(_ xml: String) throws -> [String] {
                var kept: [String] = []
                var formFieldsDepth: Int?
                for line in try SandboxStrictSOAPTests.shape(xml) {
                    let depth = Int(line.prefix { $0 != " " }) ?? 0
                    if let limit = formFieldsDepth, depth > limit { continue }
                    formFieldsDepth = line.contains("}formFields ") ? depth : formFieldsDepth
                    kept.append(line)
                }
                return kept
            }
            #expect(try upToFormFields(answered) == upToFormFields(sample))
            #expect(answered.contains("<isNilReturn>true</isNilReturn>"))
        }
    }

    /// RetrieveReturn for the `nil-return` example's payday.
    static func retrieveNilReturn() throws -> SOAPEnvelope {
        guard case .eiFile(let filed) = try Sandbox.example("ird.ei.file", "nil-return") else { throw HarnessError("not a file") }
        let status = EIStatusPayload(
            employerIrdNumber: filed.employerIrdNumber, accountType: filed.accountType, payDayDate: filed.payDayDate,
            periodEndDate: filed.periodEndDate)
        return try builder.retrieveReturn(status)
    }

    @Test("several returns for a payday come back in several bodies; a submission key selects one")
    func severalReturns() async throws {
        try await Sandbox.run({ $0.filings.duplicatePolicy = .accept }) { sandbox in
            let token = try await sandbox.grant().access
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            let first = try #require(try await sandbox.result(file, token: token).submissionKey)
            let changed = String(decoding: file.body, as: UTF8.self)
                .replacingOccurrences(of: "<ei:hoursPaid>80.00<", with: "<ei:hoursPaid>81.00<")
            let second = try #require(try await sandbox.result(file, token: token, body: Data(changed.utf8)).submissionKey)
            let all = try await sandbox.result(Self.retrieve(), token: token)
            #expect(all.retrievedReturns.map(\.submissionKey) == [first, second])
            let one = try await sandbox.result(Self.retrieve(submissionKey: second), token: token)
            #expect(one.retrievedReturns.map(\.submissionKey) == [second])
            let response = try await sandbox.send(Self.retrieve(submissionKey: second), authorization: "Bearer \(token)")
            #expect(String(decoding: response.bodyBytes, as: UTF8.self).contains("<r:hoursPaid>81.00</r:hoursPaid>"))
            #expect(try await sandbox.result(Self.retrieve(submissionKey: second + 1000), token: token).firstError?.statusCode == 103)
        }
    }

    @Test("a payday without a return is 103 with no body; with --no-return-status expected it is 0 with no body")
    func noReturn() async throws {
        for answer in NoReturnAnswer.allCases {
            try await Sandbox.run({ $0.filings.noReturnAnswer = answer }) { sandbox in
                let token = try await sandbox.grant().access
                let response = try await sandbox.send(Self.retrieve(), authorization: "Bearer \(token)")
                let body = Data(response.bodyBytes)
                let path = SandboxStrictSOAPTests.responsePath("RetrieveReturn", IRDNamespace.returnsService)
                #expect(
                    sandbox.server.router.schemas.validate(body, childOf: path)
                        == .valid(QualifiedName(IRDNamespace.returnCommon, "retrieveReturnResponse"), line: 1))
                let result = try await sandbox.result(Self.retrieve(), token: token)
                #expect(result.retrievedReturns.isEmpty)
                #expect(!String(decoding: body, as: UTF8.self).contains("responseBody"))
                switch answer {
                case .noReturnFound:
                    #expect(result.statusMessages == [StatusMessage(statusCode: 103, errorMessage: "No return found")])
                    #expect(sandbox.server.router.currentStatistics.statusCodes["103"] == 2)
                case .expected:
                    #expect(result.isSuccess)
                }
            }
        }
    }

    @Test("a schema-invalid request is 21 (IRD's own v1 sample at the v2 service included), and a missing payday too")
    func schemaInvalid() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            _ = try await sandbox.result(sandbox.envelope("ird.ei.file", "three-employees"), token: token)
            let envelope = try Self.retrieve()
            let valid = String(decoding: envelope.body, as: UTF8.self)
            let noPayday = try SandboxStrictSOAPTests.breaking(valid, #"<ei:payDayDate>[^<]*</ei:payDayDate>"#, "")
            let unknown = try SandboxStrictSOAPTests.breaking(valid, #"(</ei:payDayDate>)"#, "$1<ei:everything>true</ei:everything>")
            for body in [noPayday, unknown, try Self.fixture("body-ei-retrievereturn-request.xml")] {
                let result = try await sandbox.result(envelope, token: token, body: Data(body.utf8))
                #expect(result.firstError?.statusCode == 21)
                #expect(result.firstError?.errorMessage.hasPrefix(SandboxStrictSOAPTests.failedValidationPrefix) == true)
                #expect(result.retrievedReturns.isEmpty)
            }
            #expect(sandbox.server.router.currentStatistics.schemaRejections == 3)
            #expect(try await sandbox.result(envelope, token: token).retrievedReturns.count == 1)
        }
    }

    @Test("RetrieveReturn takes OAuth only, as RetrieveStatus: none or an M2M JWT is 2, an unknown token 1, another employer 3")
    func authentication() async throws {
        try await Sandbox.run { sandbox in
            let envelope = try Self.retrieve()
            func code(_ authorization: String?) async throws -> Int? {
                let response = try await sandbox.send(envelope, authorization: authorization)
                guard case .result(let result) = try GatewayResponseParser.parse(Data(response.bodyBytes)).content else { return nil }
                return result.firstError?.statusCode
            }
            #expect(try await code(nil) == 2)
            #expect(try await code("eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJ0dWt1In0.c2lnbmF0dXJl") == 2)
            #expect(try await code("Bearer not-a-token") == 1)
            let url = "https://127.0.0.1:\(sandbox.addresses.mutualTLSPort)/sandbox/grant"
            let json = "{\"client_id\":\"\(Sandbox.clientID)\",\"tenants\":[\"t\"],\"employers\":[\"136410132\"]}"
            let granted = try await sandbox.mutualTLS.post(url: url, body: Array(json.utf8))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(granted.bodyBytes)) as? [String: Any])
            let other = try #require(object["access_token"] as? String)
            #expect(try await code("Bearer \(other)") == 3)
            #expect(sandbox.server.router.currentStatistics.callsByAction["RetrieveReturn"] == 4)
        }
    }
}
