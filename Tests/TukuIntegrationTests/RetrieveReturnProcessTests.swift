import Foundation
import NIOHTTP1
import Testing
import TukuGateway
import TukuTestSupport

/// RetrieveReturn end to end between processes: `tuku render` builds the calls, a `tuku sandbox` process answers them
/// over mutual TLS, and `tuku decode` reads the answer.
@Suite("RetrieveReturn against a tuku sandbox process")
struct RetrieveReturnProcessTests {
    static let certificates = Result { try TestCertificates.make() }

    /// Runs `tuku ARGUMENTS`; (standard output, standard error), failing on a non-zero exit.
    static func tuku(_ arguments: [String]) throws -> (Data, String) {
        let process = Process()
        process.executableURL = try TukuProcess.executableURL()
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSupportError("tuku \(arguments.first ?? "") failed: \(err)") }
        return (out, err)
    }

    static func example(_ kind: String, _ name: String) -> String {
        TestCertificates.repositoryRoot.appendingPathComponent("jobs/\(kind)/examples/\(name).json").path
    }

    @Test("before filing 103; after tuku render's File, tuku render's RetrieveReturn gets the return as filed; arrivals and stats count it")
    func roundTrip() async throws {
        let certificates = try Self.certificates.get()
        let sandbox = try await SandboxProcess(certificates: certificates)
        let transport = try GatewayTransport(
            configuration: .init(
                tls: .init(
                    clientIdentity: .init(
                        certificateChainPath: certificates.path("client.pem"), privateKeyPath: certificates.path("client.key")),
                    trustRoots: .caBundle(path: certificates.path("ca.pem")))),
            logger: .test())
        do {
            let grant = try JSONSerialization.jsonObject(with: sandbox.grant(tenants: ["acme"])) as? [String: Any]
            let token = try #require(grant?["access_token"] as? String)
            /// Sends what `tuku render` printed, with the Content-Type it named on standard error.
            func send(_ rendered: (Data, String)) async throws -> Data {
                let contentType = try #require(
                    rendered.1.split(separator: "\n").first { $0.hasPrefix("Content-Type: ") }?.dropFirst("Content-Type: ".count))
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: String(contentType))
                headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await transport.post(
                    url: "https://\(sandbox.mutualTLSAddress)/gateway/gws/returns/", body: Array(rendered.0), headers: headers,
                    timeout: .seconds(30))
                #expect(response.status == .ok)
                return Data(response.bodyBytes)
            }
            func result(_ body: Data) throws -> GatewayResult {
                guard case .result(let result) = try GatewayResponseParser.parse(body).content else {
                    throw TestSupportError("not an IRD response document")
                }
                return result
            }
            let retrieve = try Self.tuku(
                ["render", "--operation", "RetrieveReturn", "ird.ei.status", Self.example("ird.ei.status", "by-payday")])
            let file = try Self.tuku(["render", "ird.ei.file", Self.example("ird.ei.file", "three-employees")])

            let before = try result(try await send(retrieve))
            #expect(before.statusMessages == [StatusMessage(statusCode: 103, errorMessage: "No return found")])
            let key = try #require(try result(try await send(file)).submissionKey)
            let answer = try await send(retrieve)
            let after = try result(answer)
            #expect(after.isSuccess)
            let filedText = String(decoding: file.0, as: UTF8.self)
            let references = try NSRegularExpression(pattern: "<ei:referenceId>([^<]*)</ei:referenceId>")
                .matches(in: filedText, range: NSRange(filedText.startIndex..., in: filedText))
                .compactMap { Range($0.range(at: 1), in: filedText).map { String(filedText[$0]) } }
            #expect(references.count == 3)
            #expect(after.retrievedReturns.map(\.submissionKey) == [key])
            #expect(after.retrievedReturns.first?.lineReferences == references)

            let saved = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-retrieve-\(UUID().uuidString).xml")
            try answer.write(to: saved)
            defer { try? FileManager.default.removeItem(at: saved) }
            let decoded = String(decoding: try Self.tuku(["decode", saved.path]).0, as: UTF8.self)
            #expect(decoded.contains("return          key \(key) payday 2025-05-16 nil false lines 3"), "\(decoded)")
            #expect(decoded.contains("outcome         succeeded"))

            let retrievals = try sandbox.arrivals().filter { $0["action"] as? String == "RetrieveReturn" }
            #expect(retrievals.map { $0["statusCode"] as? Int } == [103, 0])
            #expect(retrievals.allSatisfy { $0["status"] as? Int == 200 && $0["listener"] as? String == "mtls" })
            let statistics = try sandbox.statistics()
            #expect((statistics["callsByAction"] as? [String: Any])?["RetrieveReturn"] as? Int == 2)
            #expect((statistics["statusCodes"] as? [String: Any])?["103"] as? Int == 1)
        } catch {
            try? await transport.shutdown()
            try? await sandbox.stop()
            throw error
        }
        try await transport.shutdown()
        try await sandbox.stop()
    }
}
