/// The sandbox's HMRC personality: HMRC's VAT (MTD) API 1.0 and its OAuth token endpoint, on the one-way TLS
/// listener. Off (every HMRC route answers 404) until at least one application is registered.
public struct HMRCConfiguration: Sendable {
    /// The registered HMRC applications (client id, secret, and the redirect URIs `GET /oauth/authorize` accepts for
    /// each). Defaults to none: the personality is off.
    public var applications: [RegisteredClient]
    /// How long an access token is valid. Defaults to 4 hours (HMRC's `expires_in: 14400`).
    public var accessTokenLifetime: Duration
    /// How long after the user's authorisation refresh tokens keep working. Defaults to 18 months (548 days).
    public var refreshLifetime: Duration
    /// How long an authorization code from `/sandbox/hmrc/grant` is valid. Defaults to 10 minutes.
    public var authorizationCodeLifetime: Duration
    /// Requests per second per application; `nil` for none. Defaults to 3 (HMRC's standard limit).
    public var rate: Double?
    /// A path prefix under which the VAT routes have "moved": a request to `<prefix>/organisations/vat/…` is
    /// answered 308 with `Location: /organisations/vat/…`. Defaults to `nil` (no moved routes).
    public var movedPrefix: String?
    /// Whether VAT calls must carry valid fraud prevention headers (``HMRCFraudPreventionCheck``); refused with 400
    /// `INVALID_FRAUD_PREVENTION_HEADERS` otherwise. Defaults to `true`.
    public var checksFraudPreventionHeaders: Bool

    /// Creates a configuration with the defaults above.
    public init(applications: [RegisteredClient] = []) {
        self.applications = applications
        self.accessTokenLifetime = .seconds(14_400)
        self.refreshLifetime = .seconds(548 * 86_400)
        self.authorizationCodeLifetime = .seconds(600)
        self.rate = 3
        self.movedPrefix = nil
        self.checksFraudPreventionHeaders = true
    }

    /// Whether the personality is on.
    public var isEnabled: Bool { !applications.isEmpty }
}
