import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TukuGateway
import TukuIRD
import TukuSandbox

/// Throwaway certificates from `scripts/lib/certs.sh`, made once per test process into a temporary directory.
struct TestCertificates: Sendable {
    let directory: String

    func path(_ name: String) -> String { directory + "/" + name }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let shared: Result<TestCertificates, any Error> = Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tuku-sandbox-tests-\(UUID().uuidString)").path
        let script = repositoryRoot.appendingPathComponent("scripts/lib/certs.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "source \"$1\" && tuku_make_certs \"$2\"", "certs", script, directory]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("tuku_make_certs failed (\(process.terminationStatus))") }
        return TestCertificates(directory: directory)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A running sandbox and Tuku's own client pieces pointed at it.
struct Sandbox: Sendable {
    static let clientID = "tuku-test"
    static let clientSecret = "sandbox-test-secret"
    static let redirectURI = "https://localhost/callback"

    let server: SandboxServer
    let addresses: ListeningAddresses
    let certificates: TestCertificates
    /// Tuku's transport with the test client certificate (cloud profile).
    let mutualTLS: GatewayTransport
    /// Tuku's transport without a client certificate (desktop profile).
    let oneWayTLS: GatewayTransport
    let envelopes = SOAPEnvelopeBuilder(configuration: .init(softwareProvider: "Tuku", softwarePlatform: "Linux", softwareRelease: "test"))

    static let quietLogger = Logger(label: "tuku.sandbox.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Starts a sandbox on ephemeral ports, runs `body`, and stops it.
    static func run(
        _ configure: (inout SandboxServer.Configuration) -> Void = { _ in },
        _ body: (Sandbox) async throws -> Void
    ) async throws {
        let certificates = try TestCertificates.shared.get()
        var configuration = SandboxServer.Configuration(
            tls: .init(
                certificatePath: certificates.path("server.pem"), privateKeyPath: certificates.path("server.key"),
                clientCAPath: certificates.path("ca.pem")),
            oauth: .init(clients: [RegisteredClient(id: clientID, secret: clientSecret, redirectURIs: [redirectURI])]))
        configuration.mutualTLSPort = 0
        configuration.oneWayTLSPort = 0
        configuration.shutdownGracePeriod = .milliseconds(200)
        configure(&configuration)
        let server = try await SandboxServer(configuration: configuration, logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let addresses = try await server.addresses()
            let trust = GatewayTransport.Configuration.TLS.TrustRoots.caBundle(path: certificates.path("ca.pem"))
            let mutualTLS = try GatewayTransport(
                configuration: .init(
                    tls: .init(
                        clientIdentity: .init(
                            certificateChainPath: certificates.path("client.pem"), privateKeyPath: certificates.path("client.key")),
                        trustRoots: trust)),
                logger: quietLogger)
            let oneWayTLS = try GatewayTransport(configuration: .init(tls: .init(trustRoots: trust)), logger: quietLogger)
            let sandbox = Sandbox(
                server: server, addresses: addresses, certificates: certificates, mutualTLS: mutualTLS, oneWayTLS: oneWayTLS)
            do {
                try await body(sandbox)
            } catch {
                try? await mutualTLS.shutdown()
                try? await oneWayTLS.shutdown()
                group.cancelAll()
                throw error
            }
            try await mutualTLS.shutdown()
            try await oneWayTLS.shutdown()
            group.cancelAll()
        }
    }

    /// A payload from `jobs/<kind>/examples/<name>.json`.
    static func example(_ kind: String, _ name: String) throws -> IRDJobPayload {
        let url = TestCertificates.repositoryRoot.appendingPathComponent("jobs/\(kind)/examples/\(name).json")
        return try IRDJobPayload.decodeValidated(kind: kind, from: Data(contentsOf: url))
    }

    /// The envelope Tuku sends for an example payload.
    func envelope(_ kind: String, _ name: String) throws -> SOAPEnvelope {
        try envelopes.envelope(for: Self.example(kind, name))
    }

    /// A fresh access token (and refresh token) from `POST /sandbox/grant`.
    func grant(expiresIn seconds: Double? = nil) async throws -> (access: String, refresh: String) {
        var json = "{\"client_id\":\"\(Self.clientID)\",\"tenants\":[\"employer-01\"]"
        if let seconds { json += ",\"expires_in\":\(seconds)" }
        json += "}"
        let response = try await mutualTLS.post(url: "https://127.0.0.1:\(addresses.mutualTLSPort)/sandbox/grant", body: Array(json.utf8))
        guard response.status == .ok,
            let object = try JSONSerialization.jsonObject(with: Data(response.bodyBytes)) as? [String: Any],
            let access = object["access_token"] as? String, let refresh = object["refresh_token"] as? String
        else { throw HarnessError("grant failed: \(response.status)") }
        return (access, refresh)
    }

    /// The URL of a service on a listener.
    func url(_ service: GatewayEndpoint.Service, listener: SandboxListener = .mutualTLS) throws -> String {
        let base = listener == .mutualTLS ? addresses.mutualTLSBaseURL : addresses.oneWayTLSBaseURL
        return try GatewayEndpoint.sandbox(baseURL: base, profile: listener == .mutualTLS ? .cloud : .desktop).url(for: service)
    }

    /// Sends an envelope the way Tuku's filing handler does.
    func send(
        _ envelope: SOAPEnvelope, authorization: String?, body: Data? = nil, listener: SandboxListener = .mutualTLS,
        timeout: Duration? = nil
    ) async throws -> GatewayHTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: envelope.contentType)
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let service: GatewayEndpoint.Service = envelope.operation.serviceNamespace == IRDNamespace.returnsService ? .returns : .employment
        let transport = listener == .mutualTLS ? mutualTLS : oneWayTLS
        return try await transport.post(
            url: try url(service, listener: listener), body: Array(body ?? envelope.body), headers: headers, timeout: timeout)
    }

    /// Sends and parses with Tuku's response parser, expecting an IRD response document.
    func result(
        _ envelope: SOAPEnvelope, token: String, body: Data? = nil, listener: SandboxListener = .mutualTLS
    ) async throws -> GatewayResult {
        let response = try await send(envelope, authorization: "Bearer \(token)", body: body, listener: listener)
        guard response.status == .ok, case .result(let result) = try GatewayResponseParser.parse(Data(response.bodyBytes)).content else {
            throw HarnessError("expected an IRD response document, got \(response)")
        }
        return result
    }
}
