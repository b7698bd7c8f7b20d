import Foundation
import Logging
import Testing

@testable import TukuGateway

@Suite("Transport start-up checks of PEM files")
struct TransportConfigurationTests {
    private func makeTransport(_ tls: GatewayTransport.Configuration.TLS) throws(TransportError) -> GatewayTransport {
        try GatewayTransport(configuration: .init(tls: tls), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    private func expectInvalid(_ tls: GatewayTransport.Configuration.TLS, mentioning fragment: String) throws {
        let error = #expect(throws: TransportError.self) { try self.makeTransport(tls) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.requestMayHaveReachedGateway == false)
        #expect(error?.description.contains(fragment) == true, "\(error?.description ?? "")")
        // No PEM content, of any file, ever appears in the description.
        #expect(error?.description.contains("-----BEGIN") == false)
        #expect(error?.description.contains("MII") == false)
    }

    @Test("a loaded identity reports the client certificate's expiry")
    func loadsIdentity() async throws {
        let transport = try makeTransport(
            .init(clientIdentity: identity("client"), trustRoots: .caBundle(path: TestCertificates.path("ca.pem"))))
        let expiry = try #require(transport.clientCertificateNotValidAfter)
        #expect(expiry > Date().addingTimeInterval(29 * 86_400))
        #expect(expiry < Date().addingTimeInterval(31 * 86_400))
        try await transport.shutdown()
    }

    @Test("a missing certificate file is named in the error")
    func missingFile() throws {
        try expectInvalid(
            .init(
                clientIdentity: .init(
                    certificateChainPath: "/nonexistent/tuku-client.pem", privateKeyPath: TestCertificates.path("client.key"))),
            mentioning: "/nonexistent/tuku-client.pem")
    }

    @Test("a private key that belongs to another certificate is refused at start-up")
    func mismatchedKey() throws {
        try expectInvalid(
            .init(
                clientIdentity: .init(
                    certificateChainPath: TestCertificates.path("client.pem"), privateKeyPath: TestCertificates.path("server.key"))),
            mentioning: "does not belong")
    }

    @Test("a key file given as the certificate chain is refused, without echoing the key")
    func keyAsCertificate() throws {
        try expectInvalid(
            .init(
                clientIdentity: .init(
                    certificateChainPath: TestCertificates.path("client.key"), privateKeyPath: TestCertificates.path("client.key"))),
            mentioning: "client certificate chain")
    }

    @Test("a certificate given as the private key is refused, without echoing it")
    func certificateAsKey() throws {
        try expectInvalid(
            .init(
                clientIdentity: .init(
                    certificateChainPath: TestCertificates.path("client.pem"), privateKeyPath: TestCertificates.path("client.pem"))),
            mentioning: "client private key")
    }

    @Test("an encrypted private key is refused with a clear message instead of a passphrase prompt")
    func encryptedKey() throws {
        let encrypted = try TestCertificates.directory() + "/client-encrypted.key"
        let result = try Shell.run([
            "openssl", "pkcs8", "-topk8", "-in", TestCertificates.path("client.key"), "-out", encrypted, "-passout", "pass:tuku-secret",
        ])
        #expect(result.status == 0)
        try expectInvalid(
            .init(clientIdentity: .init(certificateChainPath: TestCertificates.path("client.pem"), privateKeyPath: encrypted)),
            mentioning: "encrypted")
    }

    @Test("a CA bundle that is not PEM is refused")
    func badCABundle() throws {
        try expectInvalid(.init(trustRoots: .caBundle(path: TestCertificates.path("ca.key"))), mentioning: "CA bundle")
    }

    @Test("out-of-range numbers are refused")
    func badNumbers() throws {
        var configuration = GatewayTransport.Configuration()
        configuration.connectionPool.maximumConnectionsPerHost = 0
        let error = #expect(throws: TransportError.self) {
            try GatewayTransport(configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }
        #expect(error?.code == .invalidConfiguration)
    }
}
