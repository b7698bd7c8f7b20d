import Foundation
import Testing
import TukuGateway
import TukuIRD
import TukuSandbox

@Suite("Sandbox: TLS listeners, filing and status")
struct SandboxFilingTests {
    @Test("the mutual-TLS listener refuses a client without a certificate, and one from another CA")
    func mutualTLSRequired() async throws {
        try await Sandbox.run { sandbox in
            let envelope = try sandbox.envelope("ird.ei.status", "by-payday")
            let url = "https://127.0.0.1:\(sandbox.addresses.mutualTLSPort)/gateway/gws/returns/"
            await #expect(throws: TransportError.self) {
                _ = try await sandbox.oneWayTLS.post(url: url, body: Array(envelope.body), headers: ["Content-Type": envelope.contentType])
            }
            let untrusted = try GatewayTransport(
                configuration: .init(
                    tls: .init(
                        clientIdentity: .init(
                            certificateChainPath: sandbox.certificates.path("other-client.pem"),
                            privateKeyPath: sandbox.certificates.path("other-client.key")),
                        trustRoots: .caBundle(path: sandbox.certificates.path("ca.pem")))),
                logger: Sandbox.quietLogger)
            await #expect(throws: TransportError.self) {
                _ = try await untrusted.post(url: url, body: Array(envelope.body), headers: ["Content-Type": envelope.contentType])
            }
            try await untrusted.shutdown()
            // The one-way listener serves the same routes without a client certificate.
            let token = try await sandbox.grant().access
            let status = try await sandbox.result(envelope, token: token, listener: .oneWayTLS)
            #expect(status.firstError?.statusCode == 103)  // served and authenticated; no return held
        }
    }

    @Test("File succeeds with a gatewayId and submissionKey; the same File again is code 160; RetrieveStatus sees it")
    func fileThenDuplicateThenStatus() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            let first = try await sandbox.result(file, token: token)
            #expect(first.responseElement == "fileResponse")
            #expect(first.isSuccess)
            let gatewayId = try #require(first.gatewayId)
            #expect(gatewayId.count == 16 && gatewayId.split(separator: " ").count == 4)
            let key = try #require(first.submissionKey)

            let again = try await sandbox.result(file, token: token)
            #expect(again.firstError?.statusCode == 160)
            #expect(again.gatewayId == nil)

            let status = try await sandbox.result(sandbox.envelope("ird.ei.status", "by-payday"), token: token)
            #expect(status.isSuccess)
            #expect(status.returnStatuses.map(\.submissionKey) == [key])
            #expect(status.returnStatuses.first?.code == "SUB")
            #expect(sandbox.server.router.filings.count == 1)

            // Nothing filed for another employer: IRD's 103 "No return found".
            let nilReturn = try sandbox.envelope("ird.ei.file", "nil-return")
            let statusXML = String(decoding: try sandbox.envelope("ird.ei.status", "by-payday").body, as: UTF8.self)
                .replacingOccurrences(of: ">049091850<", with: ">136410132<")
            let other = try await sandbox.result(sandbox.envelope("ird.ei.status", "by-payday"), token: token, body: Data(statusXML.utf8))
            #expect(other.firstError == StatusMessage(statusCode: 103, errorMessage: "No return found") && other.returnStatuses.isEmpty)
            #expect(try await sandbox.result(nilReturn, token: token).isSuccess)
        }
    }

    @Test("a different original return for a filed payday is code 107, or is stored and counted with the accept policy")
    func duplicateReturn() async throws {
        for policy in DuplicatePolicy.allCases {
            try await Sandbox.run({ $0.filings.duplicatePolicy = policy }) { sandbox in
                let token = try await sandbox.grant().access
                let file = try sandbox.envelope("ird.ei.file", "three-employees")
                #expect(try await sandbox.result(file, token: token).isSuccess)
                let changed = String(decoding: file.body, as: UTF8.self).replacingOccurrences(
                    of: "<ei:hoursPaid>80.00<", with: "<ei:hoursPaid>81.00<")
                let second = try await sandbox.result(file, token: token, body: Data(changed.utf8))
                let statistics = sandbox.server.router.currentStatistics
                switch policy {
                case .reject:
                    #expect(second.firstError?.statusCode == 107)
                    #expect(statistics.duplicateFilings == 0 && statistics.duplicatesRefused == 1 && statistics.filingsStored == 1)
                case .accept:
                    #expect(second.isSuccess)
                    #expect(statistics.duplicateFilings == 1 && statistics.filingsStored == 2)
                }
            }
        }
    }

    @Test("a bad employee IRD number is code 134, a bad employer identifier code 4, and nothing is stored")
    func irdNumbers() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            let text = String(decoding: file.body, as: UTF8.self)
            let badEmployee = text.replacingOccurrences(of: "<ei:irdNumber>136410132<", with: "<ei:irdNumber>136410133<")
            #expect(badEmployee != text)
            let employee = try await sandbox.result(file, token: token, body: Data(badEmployee.utf8))
            #expect(employee.firstError?.statusCode == 134)
            #expect(employee.firstError?.errorMessage == "Invalid employee IRD number")

            let badEmployer = text.replacingOccurrences(of: ">049091850<", with: ">049091851<")
            let employer = try await sandbox.result(file, token: token, body: Data(badEmployer.utf8))
            #expect(employer.firstError?.statusCode == 4)  // EI build pack §5.1: an invalid identifier value
            #expect(sandbox.server.router.filings.count == 0)
        }
    }

    @Test("an unknown, expired or missing bearer token is IRD code 1 (or 2 when missing) in the operation's shape")
    func bearerTokens() async throws {
        try await Sandbox.run { sandbox in
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            let unknown = try await sandbox.result(file, token: "not-a-token")
            #expect(unknown.responseElement == "fileResponse" && unknown.firstError?.statusCode == 1)

            let shortLived = try await sandbox.grant(expiresIn: 0.3).access
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await sandbox.result(file, token: shortLived).firstError?.statusCode == 1)

            let missing = try await sandbox.send(file, authorization: nil)
            guard case .result(let result) = try GatewayResponseParser.parse(Data(missing.bodyBytes)).content else {
                Issue.record("expected an IRD response")
                return
            }
            #expect(result.firstError?.statusCode == 2)
            #expect(sandbox.server.router.filings.count == 0)
        }
    }

    @Test("Employment service calls are checked and answered in the employmentResponse shape")
    func employment() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            let create = try sandbox.envelope("ird.ed.create", "new-employee")
            let ok = try await sandbox.result(create, token: token)
            #expect(ok.responseElement == "employmentResponse" && ok.isSuccess)
            let bad = String(decoding: create.body, as: UTF8.self).replacingOccurrences(
                of: "<ed:employeeIRD>119098882<", with: "<ed:employeeIRD>119098883<")
            #expect(try await sandbox.result(create, token: token, body: Data(bad.utf8)).firstError?.statusCode == 121)
            // A File action sent to the Employment service is not one of its operations: a SOAP fault.
            let file = try sandbox.envelope("ird.ei.file", "three-employees")
            var headers: [(String, String)] = [("Content-Type", file.contentType), ("Authorization", "Bearer \(token)")]
            headers.append(("Accept", "*/*"))
            let response = try await sandbox.mutualTLS.post(
                url: try sandbox.url(.employment), body: Array(file.body), headers: .init(headers))
            guard case .fault(let fault) = try GatewayResponseParser.parse(Data(response.bodyBytes)).content else {
                Issue.record("expected a SOAP fault")
                return
            }
            #expect(response.status == .internalServerError)
            #expect(fault.subcodes.first?.localName == "ActionNotSupported")
        }
    }
    @Test("a Create sent again for a current employment is 106; Terminate ends it (again is fine, before the start is 107); then the employee may start again")
    func employmentRelationships() async throws {
        try await Sandbox.run { sandbox in
            let token = try await sandbox.grant().access
            func terminate(finish: String, start: String?) throws -> SOAPEnvelope {
                let startKey = start.map { ",\"employmentStartDate\":\"\($0)\"" } ?? ""
                let json = """
                    {"employerIrdNumber":"49-091-850","employmentFinishDate":"\(finish)",
                     "employeeIdentifier":{"employeeIrdNumber":"119-098-882","employeeNameOnEILine":"Ngaio Pōhatu"\(startKey)}}
                    """
                return try sandbox.envelopes.envelope(for: try IRDJobPayload.decodeValidated(kind: "ird.ed.terminate", from: Data(json.utf8)))
            }
            let create = try sandbox.envelope("ird.ed.create", "new-employee")
            #expect(try await sandbox.result(create, token: token).isSuccess)
            let again = try await sandbox.result(create, token: token)
            #expect(again.firstError?.statusCode == 106)
            #expect(sandbox.server.router.employments.count == 1)

            // The example starts on 2025-06-02. Tuku itself refuses a finish before a start it is given, so the
            // identifier leaves the start out and the sandbox finds the relationship by the employee.
            #expect(try await sandbox.result(try terminate(finish: "2025-05-30", start: nil), token: token).firstError?.statusCode == 107)
            #expect(try await sandbox.result(try terminate(finish: "2025-09-30", start: "2025-06-02"), token: token).isSuccess)
            #expect(try await sandbox.result(try terminate(finish: "2025-09-30", start: "2025-06-02"), token: token).isSuccess)

            // Still employed on 2025-09-01 (the day the old employment ends is 09-30): 106. From 2025-10-06: a new one.
            var rehire = try #require(try JSONSerialization.jsonObject(
                with: Data(contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("jobs/ird.ed.create/examples/new-employee.json")))
                as? [String: Any])
            rehire["employmentStartDate"] = "2025-09-01"
            let overlapping = try sandbox.envelopes.envelope(
                for: try IRDJobPayload.decodeValidated(kind: "ird.ed.create", from: try JSONSerialization.data(withJSONObject: rehire)))
            #expect(try await sandbox.result(overlapping, token: token).firstError?.statusCode == 106)
            rehire["employmentStartDate"] = "2025-10-06"
            let later = try sandbox.envelopes.envelope(
                for: try IRDJobPayload.decodeValidated(kind: "ird.ed.create", from: try JSONSerialization.data(withJSONObject: rehire)))
            #expect(try await sandbox.result(later, token: token).isSuccess)

            #expect(sandbox.server.router.employments.count == 2)
            let statistics = sandbox.server.router.currentStatistics
            #expect(statistics.employmentsCreated == 2)
            #expect(statistics.employmentCreatesRefused == 2)
            #expect(statistics.statusCodes["107"] == 1)
        }
    }
}
