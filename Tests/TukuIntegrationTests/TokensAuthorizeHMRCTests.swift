import Foundation
import Logging
import NIOHTTP1
import PostgresNIO
import Testing
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres
import TukuTestSupport

/// `tuku tokens authorize --authority hmrc` as a process against a `tuku sandbox` process's HMRC personality, the
/// browser step answered by a scripted client that follows the authorize URL and the redirect to Tuku's listener.
@Suite("tuku tokens authorize --authority hmrc: HMRC's consent from the command line")
struct TokensAuthorizeHMRCTests {
    static let applicationID = "hmrc-app"
    static let applicationSecret = "hmrc-app-secret"
    static let vrn = "123456789"

    static func withAuthorize(
        extraArguments: [String] = [],
        _ body:
            @Sendable (PostgresClient, SandboxProcess, TukuProcess, String, String, TokensAuthorizeTests.ScriptedBrowser) async throws ->
            Void
    ) async throws {
        let certificates = try TokensAuthorizeTests.certificates.get()
        try await TestDatabase.withFresh { client, database in
            let redirectURI = "http://127.0.0.1:\(try TokensAuthorizeTests.freePort())/hmrc-callback"
            let sandbox = try await SandboxProcess(
                certificates: certificates,
                arguments: [
                    "--hmrc-client", "\(Self.applicationID):\(Self.applicationSecret)", "--hmrc-redirect-uri",
                    "\(Self.applicationID)=\(redirectURI)",
                    "--hmrc-rate", "0", "--hmrc-no-fraud-headers",
                ])
            let key = TokenCipher.generateKey()
            let browser = TokensAuthorizeTests.ScriptedBrowser(caPath: certificates.path("ca.pem"))
            do {
                let tuku = try TukuProcess(
                    [
                        "tokens", "authorize", "--authority", "hmrc", "--name", "vat-agent", "--tenant", "acme", "--redirect-uri",
                        redirectURI,
                        "--sandbox-vrn", Self.vrn, "--log-level", "warning",
                    ] + extraArguments,
                    databaseURL: database.url,
                    environment: [
                        "TUKU_HMRC": "sandbox", "TUKU_HMRC_URL": "https://\(sandbox.oneWayTLSAddress)",
                        "TUKU_HMRC_CLIENT_ID": Self.applicationID,
                        "TUKU_HMRC_CLIENT_SECRET": Self.applicationSecret, "TUKU_HMRC_TLS_CA": certificates.path("ca.pem"),
                        "TUKU_TOKEN_KEY": key,
                    ])
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

    @Test(
        "the browser follows HMRC's authorize URL (read:vat write:vat, state, the sandbox's vrn); Tuku checks the state, exchanges the code with the HMRC application's credentials and stores an hmrc set that works and refreshes"
    )
    func authorizeStoresAWorkingHMRCSet() async throws {
        try await Self.withAuthorize { client, sandbox, tuku, redirectURI, key, browser in
            let url = try await TokensAuthorizeTests.authorizeURL(printedBy: tuku)
            let query = Dictionary(
                (URLComponents(string: url)?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
            #expect(url.hasPrefix("https://\(sandbox.oneWayTLSAddress)/oauth/authorize?"))
            #expect(query["response_type"] == "code")
            #expect(query["client_id"] == Self.applicationID)
            #expect(query["redirect_uri"] == redirectURI)
            #expect(query["scope"] == "read:vat write:vat")
            #expect(query["vrn"] == Self.vrn)
            let state = try #require(query["state"])
            #expect(state.count == 64)

            let authorize = try await browser.get(url)
            #expect(authorize.status == .found)
            let location = try #require(authorize.location)
            #expect(location.hasPrefix(redirectURI + "?code="))
            let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
            let landing = try await browser.get(location)
            #expect(landing.status == .ok)

            #expect(try await tuku.waitForExit(timeout: .seconds(30)) == 0, "\(tuku.log)")
            let log = tuku.log
            #expect(log.contains("Stored hmrc token set vat-agent for acme"))
            #expect(log.contains("refresh token: yes"))
            #expect(!log.contains(code) && !log.contains(Self.applicationSecret))
            #expect(try await client.scalar("SELECT gateway FROM tuku.oauth_tokens", as: String.self) == "hmrc")
            let tokenCalls = try sandbox.arrivals().filter { $0["action"] as? String == "hmrc.oauth.token" }
            #expect(tokenCalls.map { $0["status"] as? Int } == [200])

            // The stored set decrypts, acts for the consented VRN, and refreshes through Tuku's HMRC token client.
            let certificates = try TokensAuthorizeTests.certificates.get()
            let transport = try GatewayTransport(
                configuration: .init(tls: .init(trustRoots: .caBundle(path: certificates.path("ca.pem")))), logger: .test())
            do {
                let refresher = HMRCTokenClient(
                    baseURL: "https://\(sandbox.oneWayTLSAddress)", clientID: Self.applicationID,
                    clientSecret: Secret(Self.applicationSecret),
                    transport: transport, logger: .test())
                let store = TokenStore(client: client, cipher: try TokenCipher(base64: key), logger: .test())
                let stored = try await store.accessToken(forTenant: "acme", gateway: .hmrc, refresher: refresher)
                #expect(!log.contains(stored.accessToken.value))
                #expect(try await Self.vatStatus(stored.accessToken, vrn: Self.vrn, sandbox: sandbox, transport: transport) != 401)
                #expect(try await Self.vatStatus(stored.accessToken, vrn: "987654321", sandbox: sandbox, transport: transport) == 403)
                let refreshed = try await store.accessToken(
                    forTenant: "acme", gateway: .hmrc, refresher: refresher, replacingGeneration: stored.generation)
                #expect(refreshed.generation > stored.generation)
                #expect(try await Self.vatStatus(refreshed.accessToken, vrn: Self.vrn, sandbox: sandbox, transport: transport) != 401)
            } catch {
                try? await transport.shutdown()
                throw error
            }
            try await transport.shutdown()
        }
    }

    @Test("a forged state is not used and a denied consent stores nothing")
    func forgedStateAndDenial() async throws {
        try await Self.withAuthorize { client, sandbox, tuku, _, _, browser in
            let url = try await TokensAuthorizeTests.authorizeURL(printedBy: tuku)
            let location = try #require(try await browser.get(url).location)
            let state = try #require(location.split(separator: "&state=").last)
            _ = try await browser.get(location.replacingOccurrences(of: "&state=\(state)", with: "&state=\(String(state.reversed()))"))
            #expect(try await tuku.waitForExit(timeout: .seconds(30)) != 0)
            #expect(tuku.log.contains("state"))
            #expect(try sandbox.arrivals().filter { $0["action"] as? String == "hmrc.oauth.token" }.isEmpty)
            #expect(try await client.scalar("SELECT count(*) FROM tuku.oauth_tokens", as: Int.self) == 0)
        }
        try await Self.withAuthorize { client, _, tuku, _, _, browser in
            let url = try await TokensAuthorizeTests.authorizeURL(printedBy: tuku)
            let location = try #require(try await browser.get(url + "&consent=deny").location)
            #expect(location.contains("error=access_denied"))
            _ = try await browser.get(location)
            #expect(try await tuku.waitForExit(timeout: .seconds(30)) != 0)
            #expect(tuku.log.contains("access_denied"))
            #expect(try await client.scalar("SELECT count(*) FROM tuku.oauth_tokens", as: Int.self) == 0)
        }
    }

    @Test("production refuses --hmrc-tls-ca without --allow-gateway-overrides, before any URL is printed")
    func productionOverrideRefused() async throws {
        let certificates = try TokensAuthorizeTests.certificates.get()
        let tuku = try TukuProcess(
            ["tokens", "authorize", "--authority", "hmrc", "--name", "n", "--tenant", "t", "--redirect-uri", "http://127.0.0.1:1/cb"],
            databaseURL: "postgres://nobody@127.0.0.1:1/none",
            environment: [
                "TUKU_HMRC": "production", "TUKU_HMRC_CLIENT_ID": "id", "TUKU_HMRC_CLIENT_SECRET": "s",
                "TUKU_HMRC_TLS_CA": certificates.path("ca.pem"), "TUKU_TOKEN_KEY": TokenCipher.generateKey(),
            ])
        #expect(try await tuku.waitForExit(timeout: .seconds(30)) != 0)
        #expect(tuku.log.contains("--hmrc-tls-ca"))
        #expect(!tuku.log.contains("/oauth/authorize?"))
    }

    @Test("tuku sandbox refuses an --hmrc-redirect-uri for an application it does not register, or one that is not an absolute URI")
    func sandboxRedirectURIFlag() async throws {
        let certificates = try TokensAuthorizeTests.certificates.get()
        for (option, message) in [
            ("other-app=http://127.0.0.1:8766/cb", "--hmrc-redirect-uri names other-app"), ("hmrc-app=/relative", "not an absolute URI"),
        ] {
            let sandbox = try TukuProcess(
                [
                    "sandbox", "--mtls-port", "0", "--tls-port", "0", "--cert", certificates.path("server.pem"), "--key",
                    certificates.path("server.key"), "--ca", certificates.path("ca.pem"), "--client", "tuku-test:test-secret",
                    "--hmrc-client", "hmrc-app:hmrc-secret", "--hmrc-redirect-uri", option,
                ], databaseURL: "")
            #expect(try await sandbox.waitForExit(timeout: .seconds(30)) != 0)
            #expect(sandbox.log.contains(message), "\(sandbox.log)")
        }
    }

    static func vatStatus(_ token: Secret, vrn: String, sandbox: SandboxProcess, transport: GatewayTransport) async throws -> Int {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/vnd.hmrc.1.0+json")
        headers.add(name: "Authorization", value: "Bearer \(token.value)")
        let response = try await transport.send(
            .GET, url: "https://\(sandbox.oneWayTLSAddress)/organisations/vat/\(vrn)/obligations?status=O", body: nil, headers: headers)
        return Int(response.status.code)
    }
}
