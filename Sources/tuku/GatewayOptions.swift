import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres

/// Where and how to reach the tax gateway. Every option also reads an environment variable, so that
/// deployments keep certificates, keys and secrets out of command lines.
struct GatewayOptions: ParsableArguments {
    @Option(
        name: .customLong("gateway"),
        help: ArgumentHelp(
            "production, test, or sandbox (needs --gateway-url). Without it the worker runs only local kinds ($TUKU_GATEWAY).",
            valueName: "environment"))
    var environment: String?

    @Option(name: .customLong("gateway-url"), help: "Base URL of the gateway, e.g. https://127.0.0.1:4046/gateway/ ($TUKU_GATEWAY_URL).")
    var baseURL: String?

    @Option(name: .customLong("gateway-profile"), help: "cloud (mutual TLS, 4046) or desktop (one-way TLS, 443) ($TUKU_GATEWAY_PROFILE).")
    var profile: String?

    @Option(name: .customLong("tls-cert"), help: "Client certificate chain PEM, for the cloud profile ($TUKU_TLS_CERT).")
    var certificatePath: String?

    @Option(name: .customLong("tls-key"), help: "Client private key PEM ($TUKU_TLS_KEY).")
    var keyPath: String?

    @Option(name: .customLong("tls-ca"), help: "CA bundle PEM to trust instead of the system roots ($TUKU_TLS_CA).")
    var caPath: String?

    @Option(
        name: .customLong("oauth-token-url"),
        help: "The OAuth token endpoint ($TUKU_OAUTH_TOKEN_URL; defaults to IRD's for production and test).")
    var tokenURL: String?

    @Option(
        name: .customLong("oauth-client-id"),
        help:
            "The OAuth client id ($TUKU_OAUTH_CLIENT_ID). The secret comes from $TUKU_OAUTH_CLIENT_SECRET_FILE or $TUKU_OAUTH_CLIENT_SECRET."
    )
    var clientID: String?

    @Flag(
        name: .customLong("allow-gateway-overrides"),
        help:
            "Let --oauth-token-url and --tls-ca (or their variables) apply to --gateway production; logged at start ($TUKU_ALLOW_GATEWAY_OVERRIDES=1)."
    )
    var allowOverrides = false

    @Option(
        name: .customLong("gateway-timeout"),
        help: "Per-call timeout in seconds for every gateway kind, instead of each kind's own (jobs/<kind>/kind.json).")
    var timeoutSeconds: Double?

    @Option(name: .customLong("software-provider"), help: "softwareProviderData/softwareProvider sent to IRD ($TUKU_SOFTWARE_PROVIDER).")
    var softwareProvider: String?

    private func value(_ option: String?, _ variable: String) -> String? { EnvironmentValues.value(option, variable) }

    /// The OAuth client id from the option or `TUKU_OAUTH_CLIENT_ID`.
    var clientIDValue: String? { self.value(self.clientID, "TUKU_OAUTH_CLIENT_ID") }

    var isConfigured: Bool { self.value(self.environment, "TUKU_GATEWAY") != nil }

    func endpoint() throws -> GatewayEndpoint {
        let profileName = self.value(self.profile, "TUKU_GATEWAY_PROFILE") ?? "cloud"
        guard let profile = GatewayEndpoint.Profile(rawValue: profileName) else {
            // Never a silent fallback: a mistyped "desktop" would otherwise send mutual-TLS calls to the cloud endpoint.
            throw ValidationError("unknown gateway profile '\(profileName)': use cloud or desktop")
        }
        switch self.value(self.environment, "TUKU_GATEWAY") {
        case "production": return .production(profile)
        case "test": return .test(profile)
        case "sandbox":
            guard let url = self.value(self.baseURL, "TUKU_GATEWAY_URL") else {
                throw ValidationError("--gateway sandbox needs --gateway-url")
            }
            return try GatewayEndpoint.sandbox(baseURL: url, profile: profile)
        case let other:
            throw ValidationError("unknown gateway environment '\(other ?? "")': use production, test or sandbox")
        }
    }

    func transportConfiguration(profile: GatewayEndpoint.Profile) throws -> GatewayTransport.Configuration {
        var tls = GatewayTransport.Configuration.TLS()
        if let ca = self.value(self.caPath, "TUKU_TLS_CA") { tls.trustRoots = .caBundle(path: ca) }
        if profile == .cloud {
            guard let certificate = self.value(self.certificatePath, "TUKU_TLS_CERT"), let key = self.value(self.keyPath, "TUKU_TLS_KEY")
            else {
                throw ValidationError("the cloud profile needs the provider's client certificate: --tls-cert and --tls-key")
            }
            tls.clientIdentity = .init(certificateChainPath: certificate, privateKeyPath: key)
        }
        var configuration = GatewayTransport.Configuration(tls: tls)
        configuration.timeouts.request = .seconds(60)
        return configuration
    }

    func oauthTokenURL(for endpoint: GatewayEndpoint) throws -> String {
        if let url = self.value(self.tokenURL, "TUKU_OAUTH_TOKEN_URL") { return url }
        switch endpoint.environment {
        case .production: return "https://services.ird.govt.nz/gateway3/oauth/token"
        case .test: return "https://test5.services.ird.govt.nz/gateway3/oauth/token"
        default: throw ValidationError("the sandbox needs --oauth-token-url")
        }
    }

    func clientSecret() throws -> Secret { try EnvironmentValues.secret("TUKU_OAUTH_CLIENT_SECRET", what: "OAuth client secret") }

    func envelopeConfiguration() -> SOAPEnvelopeBuilder.Configuration {
        SOAPEnvelopeBuilder.Configuration(
            softwareProvider: self.value(self.softwareProvider, "TUKU_SOFTWARE_PROVIDER") ?? "Tuku",
            softwarePlatform: "Linux", softwareRelease: Tuku.version)
    }

    /// The endpoint overrides given (option or variable), by the option's name.
    private var overrides: [String] {
        var given: [String] = []
        if self.value(self.tokenURL, "TUKU_OAUTH_TOKEN_URL") != nil { given.append("--oauth-token-url") }
        if self.value(self.caPath, "TUKU_TLS_CA") != nil { given.append("--tls-ca") }
        return given
    }

    /// Whether `--allow-gateway-overrides` (or `TUKU_ALLOW_GATEWAY_OVERRIDES=1`) was given; it covers HMRC's too.
    var overridesAllowed: Bool {
        self.allowOverrides || ProcessInfo.processInfo.environment["TUKU_ALLOW_GATEWAY_OVERRIDES"] == "1"
    }

    /// Refuses the sandbox's endpoint overrides on the production gateway unless they were allowed explicitly: a
    /// leftover staging variable would otherwise send the client secret and a single-use refresh token to another
    /// host. Allowed overrides are logged.
    func checkOverrides(for endpoint: GatewayEndpoint, logger: Logger) throws {
        let overrides = self.overrides
        guard endpoint.environment != .sandbox, endpoint.environment != .test, !overrides.isEmpty else { return }
        guard self.overridesAllowed else {
            throw ValidationError(
                "\(overrides.joined(separator: " and ")) (or its TUKU_ variable) would redirect the production gateway's credentials; unset it, or pass --allow-gateway-overrides if that is intended"
            )
        }
        logger.warning(
            "Endpoint overrides in force for the production gateway",
            metadata: ["gateway.overrides": "\(overrides.joined(separator: ","))"])
    }

    /// The transport and filing dependencies, when the gateway is configured.
    ///
    /// - Parameter connectionsPerHost: the transport's pool size, when the caller knows how many calls it may have
    ///   in flight (a worker's concurrency); otherwise the transport's default.
    func filingDependencies(
        client: PostgresClient, logger: Logger, connectionsPerHost: Int? = nil
    ) throws -> (GatewayTransport, IRDFilingHandler.Dependencies)? {
        guard self.isConfigured else { return nil }
        let endpoint = try self.endpoint()
        try self.checkOverrides(for: endpoint, logger: logger)
        var transportConfiguration = try self.transportConfiguration(profile: endpoint.profile)
        if let connectionsPerHost {
            transportConfiguration.connectionPool.maximumConnectionsPerHost = max(
                connectionsPerHost, transportConfiguration.connectionPool.maximumConnectionsPerHost)
        }
        let transport = try GatewayTransport(configuration: transportConfiguration, logger: logger)
        guard let clientID = self.value(self.clientID, "TUKU_OAUTH_CLIENT_ID") else {
            throw ValidationError("no OAuth client id: --oauth-client-id or TUKU_OAUTH_CLIENT_ID")
        }
        let refresher = OAuthTokenClient(
            tokenURL: try self.oauthTokenURL(for: endpoint), clientID: clientID, clientSecret: try self.clientSecret(),
            transport: transport, logger: logger)
        let tokens = TokenStore(client: client, cipher: try TokenCipher.fromEnvironment(), logger: logger)
        return (
            transport,
            IRDFilingHandler.Dependencies(
                endpoint: endpoint, transport: transport, tokens: tokens, refreshers: [.ird: refresher],
                envelopes: SOAPEnvelopeBuilder(configuration: self.envelopeConfiguration()),
                limiter: RateLimiter(client: client, logger: logger))
        )
    }
}
