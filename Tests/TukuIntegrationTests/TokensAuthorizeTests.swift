import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
import NIOSSL
import PostgresNIO
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `tuku tokens authorize` as a process against a `tuku sandbox` process, with the browser step answered by a
/// scripted HTTP client that follows the authorize URL and then the redirect to Tuku's loopback listener.
@Suite("tuku tokens authorize: IRD's authorisation-code flow from the command line")
struct TokensAuthorizeTests {
    static let certificates = Result { try TestCertificates.make() }

    /// A browser stand-in: trusts the sandbox's CA, never follows redirects by itself.
    struct ScriptedBrowser {
        let client: HTTPClient

        init(caPath: String) {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caPath)
            self.client = HTTPClient(configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow))
        }

        func get(_ url: String) async throws -> (status: HTTPResponseStatus, location: String?, body: String) {
            let response = try await self.client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (response.status, response.headers.first(name: "Location"), String(buffer: body))
        }
    }

    /// A TCP port free on 127.0.0.1 a moment ago (for the redirect URI registered with the sandbox, which IRD
    /// registers with a fixed port).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw TestSupportError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The authorize URL the process printed.
    static func authorizeURL(printedBy process: TukuProcess) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let line = process.log.split(separator: "\n").first(where: { $0.contains("/oauth/authorize?") }) {
                return line.trimmingCharacters(in: .whitespaces)
            }
            guard process.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("tuku tokens authorize printed no authorize URL; log:\n\(process.log)")
    }

    /// Runs a sandbox registering `redirectURI` for `tuku-test`, and `tuku tokens authorize` against it.
    static func withAuthorize(
        extraArguments: [String] = [],
        _ body: @Sendable (PostgresClient, SandboxProcess, TukuProcess, String, String, ScriptedBrowser) async throws -> Void
    ) async throws {
        let certificates = try Self.certificates.get()
        try await TestDatabase.withFresh { client, database in
            let redirectURI = "http://127.0.0.1:\(try Self.freePort())/callback"
            let sandbox = try await SandboxProcess(certificates: certificates, arguments: ["--redirect-uri", "tuku-test=\(redirectURI)"])
            let key = TokenCipher.generateKey()
            let browser = ScriptedBrowser(caPath: certificates.path("ca.pem"))
            do {
                let tuku = try TukuProcess(
                    [
                        "tokens", "authorize", "--name", "payroll-admin", "--tenant", "acme", "--tenant", "kiwi", "--redirect-uri", redirectURI,
                        "--oauth-authorize-url", "https://\(sandbox.oneWayTLSAddress)/oauth/authorize", "--log-level", "warning",
                    ] + extraArguments,
                    databaseURL: database.url, environment: sandbox.workerEnvironment(tokenKey: key))
                try await body(client, sandbox, tuku, redirectURI, key, browser)
            } catch {
                try? await browser.client.shutdown()
                try? await sandbox.stop()
                throw error
            }
            try await browser.client.shutdown()
            try await sandbox.stop()
        }
    }

    @Test("the browser follows the authorize URL; Tuku gets the code on its loopback listener, checks state, exchanges it with the PKCE verifier and stores a set that decrypts and refreshes")
    func authorizeStoresAWorkingSet() async throws {
        try await Self.withAuthorize { client, sandbox, tuku, redirectURI, key, browser in
            let url = try await Self.authorizeURL(printedBy: tuku)
            let query = Dictionary(
                (URLComponents(string: url)?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
            #expect(url.hasPrefix("https://\(sandbox.oneWayTLSAddress)/oauth/authorize?"))
            #expect(query["response_type"] == "code")
            #expect(query["client_id"] == "tuku-test")
            #expect(query["redirect_uri"] == redirectURI)
            #expect(query["scope"] == "MYIR.Services")
            #expect(query["code_challenge_method"] == "S256")
            #expect(query["code_challenge"]?.count == 43)
            let state = try #require(query["state"])
            #expect(state.count == 64 && state.allSatisfy(\.isHexDigit))

            // The browser step: IRD redirects to the registered loopback URI with the code and the state.
            let authorize = try await browser.get(url)
            #expect(authorize.status == .found)
            let location = try #require(authorize.location)
            #expect(location.hasPrefix(redirectURI + "?code="))
            #expect(location.hasSuffix("&state=\(state)"))
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
            let landing = try await browser.get(location)
            #expect(landing.status == .ok)
            #expect(landing.body.contains("Tuku received the authorisation"))

            #expect(try await tuku.waitForExit(timeout: .seconds(30)) == 0, "\(tuku.log)")
            let log = tuku.log
            #expect(log.contains("Stored token set payroll-admin for acme, kiwi"))
            #expect(log.contains("refresh token: yes"))
            #expect(!log.contains(code))

            // The code was exchanged once: the sandbox saw one token call and it succeeded.
            let tokenCalls = try sandbox.arrivals().filter { $0["action"] as? String == "oauth.token" }
            #expect(tokenCalls.count == 1)
            #expect(tokenCalls.first?["status"] as? Int == 200)

            // The stored set decrypts, works and refreshes through Tuku's own token client.
            let certificates = try Self.certificates.get()
            let transport = try GatewayTransport(
                configuration: .init(
                    tls: .init(
                        clientIdentity: .init(certificateChainPath: certificates.path("client.pem"), privateKeyPath: certificates.path("client.key")),
                        trustRoots: .caBundle(path: certificates.path("ca.pem")))),
                logger: .test())
            do {
                let refresher = OAuthTokenClient(
                    tokenURL: "https://\(sandbox.mutualTLSAddress)/oauth/token", clientID: "tuku-test", clientSecret: Secret("test-secret"),
                    transport: transport, logger: .test())
                let store = TokenStore(client: client, cipher: try TokenCipher(base64: key), logger: .test())
                let stored = try await store.accessToken(forTenant: "kiwi", gateway: .ird, refresher: refresher)
                #expect(!log.contains(stored.accessToken.value))
                #expect(try await Self.isActive(stored.accessToken, sandbox: sandbox, transport: transport))
                let refreshed = try await store.accessToken(forTenant: "acme", gateway: .ird, refresher: refresher, replacingGeneration: stored.generation)
                #expect(refreshed.generation > stored.generation)
                #expect(refreshed.accessToken != stored.accessToken)
                #expect(try await Self.isActive(refreshed.accessToken, sandbox: sandbox, transport: transport))
                let refreshCalls = try sandbox.arrivals().filter { $0["action"] as? String == "oauth.token" }
                #expect(refreshCalls.count == 2 && refreshCalls.allSatisfy { $0["status"] as? Int == 200 })
            } catch {
                try? await transport.shutdown()
                throw error
            }
            try await transport.shutdown()
        }
    }

    @Test("a redirect whose state is not the one Tuku sent is not used: nothing is exchanged or stored")
    func forgedStateIsRefused() async throws {
        try await Self.withAuthorize { client, sandbox, tuku, _, _, browser in
            let url = try await Self.authorizeURL(printedBy: tuku)
            let location = try #require(try await browser.get(url).location)
            let state = try #require(location.split(separator: "&state=").last)
            let forged = location.replacingOccurrences(of: "&state=\(state)", with: "&state=\(String(state.reversed()))")
            _ = try await browser.get(forged)
            #expect(try await tuku.waitForExit(timeout: .seconds(30)) != 0)
            #expect(tuku.log.contains("state"))
            #expect(try sandbox.arrivals().filter { $0["action"] as? String == "oauth.token" }.isEmpty)
            #expect(try await client.scalar("SELECT count(*) FROM tuku.oauth_tokens", as: Int.self) == 0)
        }
    }

    @Test("a denied consent ends the command with IRD's error and stores nothing")
    func deniedConsent() async throws {
        try await Self.withAuthorize { client, sandbox, tuku, _, _, browser in
            let url = try await Self.authorizeURL(printedBy: tuku)
            let location = try #require(try await browser.get(url + "&consent=deny").location)
            #expect(location.contains("error=access_denied"))
            _ = try await browser.get(location)
            #expect(try await tuku.waitForExit(timeout: .seconds(30)) != 0)
            #expect(tuku.log.contains("access_denied"))
            #expect(try await client.scalar("SELECT count(*) FROM tuku.oauth_tokens", as: Int.self) == 0)
        }
    }

    @Test("without a redirect before the deadline the command stops and says so")
    func deadline() async throws {
        try await Self.withAuthorize(extraArguments: ["--timeout", "1"]) { client, _, tuku, _, _, _ in
            _ = try await Self.authorizeURL(printedBy: tuku)
            #expect(try await tuku.waitForExit(timeout: .seconds(20)) != 0)
            #expect(tuku.log.contains("no redirect reached"))
            #expect(try await client.scalar("SELECT count(*) FROM tuku.oauth_tokens", as: Int.self) == 0)
        }
    }

    /// Asks the sandbox's introspection endpoint whether `token` is active for `tuku-test`.
    static func isActive(_ token: Secret, sandbox: SandboxProcess, transport: GatewayTransport) async throws -> Bool {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Authorization", value: "Basic " + Data("tuku-test:test-secret".utf8).base64EncodedString())
        let body = "token=" + (token.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let response = try await transport.post(
            url: "https://\(sandbox.mutualTLSAddress)/oauth/introspect", body: Array(body.utf8), headers: headers)
        let object = try JSONSerialization.jsonObject(with: Data(response.bodyBytes)) as? [String: Any]
        return object?["active"] as? Bool == true
    }
}
