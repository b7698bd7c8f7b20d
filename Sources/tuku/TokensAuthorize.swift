import ArgumentParser
import Crypto
import Foundation
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres

/// `tuku tokens authorize`: IRD's authorisation-code flow (Identity and Access build pack §2.1.3) from the command
/// line, with `scope`, a fresh `state` and a PKCE S256 challenge, or with `--authority hmrc` HMRC's (scopes
/// `read:vat write:vat`, a fresh `state`); the set is sealed and stored like `tokens load`, with its gateway.
struct TokensAuthorize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorize",
        abstract:
            "Obtain a token set with IRD's (or, with --authority hmrc, HMRC's) authorisation-code flow and store it sealed, for tenants.",
        discussion: """
            Prints the authorize URL (open it in a browser, log on to myIR and authorise), then receives the code on \
            the loopback redirect URI (http://127.0.0.1:PORT/PATH, registered with IRD with that port) or, with \
            --paste or any other redirect URI, reads the URL the browser was redirected to from standard input. It \
            checks the state, exchanges the code (with the PKCE verifier) at the token endpoint using the client \
            id and secret, and stores the set with the TUKU_TOKEN_KEY(_FILE) key. Tokens are never printed. \
            With --authority hmrc it runs HMRC's flow instead: the authorize and token endpoints under the HMRC base \
            URL (--hmrc production|test|sandbox, --hmrc-url for the sandbox), scopes read:vat write:vat, the HMRC \
            client id and secret (--hmrc-client-id, TUKU_HMRC_CLIENT_SECRET(_FILE)), and the set is stored for the \
            hmrc gateway. The user signs in with Government Gateway and grants Tuku access to their VAT records.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var gateway: GatewayOptions
    @OptionGroup var hmrc: HMRCGatewayOptions
    @Option(
        help: ArgumentHelp(
            "Whose consent flow to run: ird (the IRD environment named by --gateway) or hmrc (HMRC's, by --hmrc).", valueName: "ird|hmrc"))
    var authority: TaxGateway = .ird
    @Option(
        name: .customLong("sandbox-vrn"),
        help:
            "With --authority hmrc --hmrc sandbox: a VAT registration number the sandbox's consent covers (repeatable; a sandbox extension)."
    )
    var sandboxVRNs: [String] = []
    @Option(help: "A name for the token set, e.g. the myIR user it belongs to.") var name: String
    @Option(name: .customLong("tenant"), help: "A tenant this set may act for (repeat for several).") var tenants: [String]
    @Option(name: .customLong("redirect-uri"), help: "The redirect URI registered for the client, e.g. http://127.0.0.1:8765/callback.")
    var redirectURI: String
    @Option(
        name: .customLong("oauth-authorize-url"),
        help:
            "The authorize endpoint ($TUKU_OAUTH_AUTHORIZE_URL; defaults to IRD's for production and test, and to the token URL's sibling /authorize for the sandbox)."
    )
    var authorizeURL: String?
    @Flag(help: "Read the redirected URL from standard input instead of listening on the loopback redirect URI.") var paste = false
    @Flag(help: "Also open the authorize URL with xdg-open.") var open = false
    @Option(help: "Seconds to wait for the redirect.") var timeout: Double = 300

    func validate() throws {
        guard !self.tenants.isEmpty else { throw ValidationError("give at least one --tenant") }
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if self.authority == .hmrc, self.authorizeURL != nil {
            throw ValidationError("--oauth-authorize-url is IRD's: HMRC's authorize endpoint is under the HMRC base URL")
        }
        if !self.sandboxVRNs.isEmpty, self.authority != .hmrc {
            throw ValidationError("--sandbox-vrn is for --authority hmrc with --hmrc sandbox")
        }
        guard let components = URLComponents(string: self.redirectURI), components.scheme != nil, components.host != nil,
            components.fragment == nil
        else { throw ValidationError("--redirect-uri must be an absolute URI without a fragment") }
    }

    func run() async throws {
        let logger = self.database.makeLogger("tuku.tokens")
        let cipher = try TokenCipher.fromEnvironment()
        if self.authority == .hmrc {
            try await self.runHMRC(cipher: cipher, logger: logger)
            return
        }
        guard self.gateway.isConfigured else { throw ValidationError("name the gateway: --gateway (or TUKU_GATEWAY)") }
        let endpoint = try self.gateway.endpoint()
        let tokenURL = try self.gateway.oauthTokenURL(for: endpoint)
        let authorizeURL = try self.authorizeEndpoint(environment: endpoint.environment, tokenURL: tokenURL)
        guard let clientID = self.gateway.clientIDValue else {
            throw ValidationError("no OAuth client id: --oauth-client-id or TUKU_OAUTH_CLIENT_ID")
        }
        let secret = try self.gateway.clientSecret()

        let request = AuthorizationRequest()
        let url = request.url(authorizeURL: authorizeURL, clientID: clientID, redirectURI: self.redirectURI)
        let code = try await self.receiveCode(
            for: request, url: url, instruction: "Open this URL in a browser, log on to myIR and authorise Tuku:")

        let transport = try GatewayTransport(
            configuration: try self.gateway.transportConfiguration(profile: endpoint.profile), logger: logger)
        let tokens: TokenSet
        do {
            tokens = try await OAuthTokenClient(
                tokenURL: tokenURL, clientID: clientID, clientSecret: secret, transport: transport, logger: logger
            ).exchange(code: code, redirectURI: self.redirectURI, codeVerifier: request.verifier)
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
        try await self.store(tokens, gateway: .ird, cipher: cipher)
    }

    /// Seals and stores an authorised set for `gateway` under `--name` for the tenants, and says so without
    /// showing a token.
    func store(_ tokens: TokenSet, gateway: TaxGateway, cipher: TokenCipher) async throws {
        try await self.database.withClient(label: "tuku.tokens", maximumConnections: 1) { client, logger in
            try await TokenStore(client: client, cipher: cipher, logger: logger).store(
                name: self.name, gateway: gateway, tokens: tokens, tenants: self.tenants)
        }
        let refresh = tokens.refreshToken != nil ? "yes" : gateway == .ird ? "none (desktop client)" : "none"
        print(
            "Stored \(gateway == .ird ? "" : "\(gateway.rawValue) ")token set \(self.name) for \(self.tenants.joined(separator: ", ")) "
                + "(expires \(tokens.expiresAt.formatted(.iso8601)), refresh token: \(refresh), key \(cipher.keyID)).")
    }

    /// Prints the authorize URL, waits for the redirect (loopback listener or pasted URL) and returns its code.
    func receiveCode(for request: AuthorizationRequest, url: String, instruction: String) async throws -> Secret {
        let listener = self.paste ? nil : TokensRedirectListener(redirectURI: self.redirectURI)
        let server = try await listener?.bind()
        Self.say(instruction)
        Self.say("  \(url)")
        if self.open { Self.openInBrowser(url) }

        let query: [(String, String)]
        if let listener, let server {
            Self.say("Waiting up to \(Int(self.timeout)) s for the redirect to \(self.redirectURI) …")
            query = try await listener.waitForRedirect(on: server, deadline: .milliseconds(Int64(self.timeout * 1000)))
        } else {
            Self.say("Paste the URL the browser was redirected to, then press Enter:")
            guard let line = readLine(strippingNewline: true) else {
                throw TokensAuthorizeError(.noCode, "no redirect URL on standard input")
            }
            let text = line.trimmingCharacters(in: .whitespaces)
            query = Self.formItems(text.firstIndex(of: "?").map { String(text[text.index(after: $0)...]) } ?? text)
        }
        return try request.code(fromRedirect: query)
    }

    private func authorizeEndpoint(environment: GatewayEndpoint.Environment, tokenURL: String) throws -> String {
        if let url = self.authorizeURL, !url.isEmpty { return url }
        if let url = ProcessInfo.processInfo.environment["TUKU_OAUTH_AUTHORIZE_URL"], !url.isEmpty { return url }
        switch environment {
        case .production: return "https://services.ird.govt.nz/gateway3/oauth/authorize"
        case .test: return "https://test5.services.ird.govt.nz/gateway3/oauth/authorize"
        default:
            guard tokenURL.hasSuffix("/token") else { throw ValidationError("the sandbox needs --oauth-authorize-url") }
            return String(tokenURL.dropLast("token".count)) + "authorize"
        }
    }

    /// A line on standard output, at once (a pipe would otherwise hold it in a block buffer).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private static func openInBrowser(_ url: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["xdg-open", url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        if (try? process.run()) == nil { say("(could not run xdg-open: open the URL yourself)") }
    }

    /// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
    static func formItems(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let name = parts.first, !name.isEmpty else { return nil }
            return (name, parts.count > 1 ? parts[1] : "")
        }
    }
}

extension TokensAuthorize {
    /// One authorization request: a fresh `state` and PKCE verifier, the URL that carries them, and the check of the
    /// redirect that answers it.
    struct AuthorizationRequest {
        /// 64 hex digits: within IRD's `state` rules (under 200 characters of `a-z A-Z 0-9 - . ? , : / \ + = $ #`).
        let state: String
        /// 64 characters of the PKCE alphabet (RFC 7636 §4.1: 43 to 128 of `A-Z a-z 0-9 - . _ ~`).
        let verifier: Secret

        init() {
            var generator = SystemRandomNumberGenerator()
            self.state = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            self.verifier = Secret(Self.base64URL(Data((0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) })))
        }

        /// `BASE64URL(SHA256(verifier))`, the S256 challenge.
        var challenge: String { Self.base64URL(Data(SHA256.hash(data: Data(self.verifier.value.utf8)))) }

        /// The authorize URL: `response_type=code`, the client, the redirect URI, the scope (IRD's `MYIR.Services` by
        /// default), the state, the S256 challenge when `pkce` (IRD's flow; HMRC's runs without), and any `extra`
        /// parameters (the sandbox's `vrn=` extension).
        func url(
            authorizeURL: String, clientID: String, redirectURI: String, scope: String = "MYIR.Services", pkce: Bool = true,
            extra: [(String, String)] = []
        ) -> String {
            var parameters = [
                ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI), ("scope", scope), ("state", self.state),
            ]
            if pkce { parameters += [("code_challenge", self.challenge), ("code_challenge_method", "S256")] }
            parameters += extra
            var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            allowed.insert(charactersIn: "-._~")
            let query = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }
            return authorizeURL + (authorizeURL.contains("?") ? "&" : "?") + query.joined(separator: "&")
        }

        /// The code of a redirect that answers this request.
        ///
        /// - Throws: ``TokensAuthorizeError`` when the state is missing or another's (checked first: an error
        ///   redirect with a forged state is not believed either), the server answered `error=…`, or there is no code.
        func code(fromRedirect query: [(String, String)]) throws -> Secret {
            let values = Dictionary(query, uniquingKeysWith: { first, _ in first })
            guard let state = values["state"], state == self.state else {
                throw TokensAuthorizeError(.stateMismatch, "the redirect's state is not the one this run sent: not using it")
            }
            if let error = values["error"] {
                let description = values["error_description"].map { ": \($0)" } ?? ""
                throw TokensAuthorizeError(.refused, "the authorization server answered \(error)\(description)")
            }
            guard let code = values["code"], !code.isEmpty else { throw TokensAuthorizeError(.noCode, "the redirect holds no code") }
            return Secret(code)
        }

        private static func base64URL(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
    }
}
