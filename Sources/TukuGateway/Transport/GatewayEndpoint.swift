import Foundation

/// Where the gateway is and how to reach it: an environment, a connection profile and a base URL.
///
/// IRD publishes two entry points per environment (Gateway Services "Identity and Access" README, EI build pack
/// §2.4.4): the **cloud** endpoint on port 4046 with mutual TLS (URLs contain `/gateway/`), and the **desktop**
/// endpoint on port 443 with one-way TLS (URLs contain `/gateway2/`). Both need TLS 1.2 or later. Service URLs are the
/// base URL plus a service path, for example `gws/returns/`.
public struct GatewayEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A gateway environment. Open-ended: deployments may name their own (for example a second test host).
    public struct Environment: Sendable, Hashable, CustomStringConvertible {
        /// The environment's name, for logs and metrics.
        public let name: String

        /// Creates an environment with a name of your choice.
        public init(_ name: String) { self.name = name }

        /// IRD production (`services.ird.govt.nz`).
        public static let production = Environment("production")
        /// IRD's test environment for onboarding (`test5.services.ird.govt.nz`).
        public static let test = Environment("test")
        /// Our own emulation of the gateway, or any other URL given explicitly.
        public static let sandbox = Environment("sandbox")

        /// The name.
        public var description: String { self.name }
    }

    /// How the client authenticates the connection. A closed set: IRD offers exactly these two.
    public enum Profile: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Mutual TLS with the service provider's CA-issued certificate, TLS 1.2 minimum, port 4046.
        case cloud
        /// One-way TLS (server certificate only), port 443.
        case desktop

        /// Whether the connection needs the service provider's client certificate.
        public var requiresClientCertificate: Bool { self == .cloud }

        /// The port IRD uses for this profile: 4046 for cloud, 443 for desktop.
        public var defaultPort: Int { self == .cloud ? 4046 : 443 }

        /// `cloud` or `desktop`.
        public var description: String { self.rawValue }
    }

    /// A gateway service, as a path relative to the endpoint's base URL.
    public struct Service: Sendable, Hashable, CustomStringConvertible {
        /// The path relative to the base URL, ending in `/`.
        public let path: String

        /// Creates a service from a relative path such as `gws/returns/`.
        public init(path: String) {
            let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
            self.path = trimmed.hasSuffix("/") ? trimmed : trimmed + "/"
        }

        /// The Returns service (employment information, GST, ...): `gws/returns/`.
        public static let returns = Service(path: "gws/returns/")
        /// The Employment service v2 (employee details): `gws/employment/v2/`.
        public static let employment = Service(path: "gws/employment/v2/")

        /// The path.
        public var description: String { self.path }
    }

    /// The environment.
    public var environment: Environment
    /// The connection profile.
    public var profile: Profile
    /// The base URL, `https`, ending in `/`, for example `https://services.ird.govt.nz:4046/gateway/`.
    public private(set) var baseURL: String

    /// Creates an endpoint from an explicit base URL.
    ///
    /// - Throws: ``TransportError/Code/invalidConfiguration`` when the URL is not an absolute `https` URL with a
    ///   host, or carries credentials, a query or a fragment.
    public init(environment: Environment, profile: Profile, baseURL: String) throws(TransportError) {
        self.environment = environment
        self.profile = profile
        self.baseURL = try Self.validatedBaseURL(baseURL)
    }

    private init(trusted baseURL: String, environment: Environment, profile: Profile) {
        self.environment = environment
        self.profile = profile
        self.baseURL = baseURL
    }

    /// IRD's published base URL for an environment and profile, or `nil` for environments IRD does not run.
    ///
    /// - production: `https://services.ird.govt.nz:4046/gateway/` (cloud), `https://services.ird.govt.nz/gateway2/` (desktop)
    /// - test: `https://test5.services.ird.govt.nz:4046/gateway/` (cloud), `https://test5.services.ird.govt.nz/gateway2/` (desktop)
    public static func publishedBaseURL(environment: Environment, profile: Profile) -> String? {
        let host: String
        switch environment {
        case .production: host = "services.ird.govt.nz"
        case .test: host = "test5.services.ird.govt.nz"
        default: return nil
        }
        switch profile {
        case .cloud: return "https://\(host):4046/gateway/"
        case .desktop: return "https://\(host)/gateway2/"
        }
    }

    /// IRD production with the given profile (defaults to cloud).
    public static func production(_ profile: Profile = .cloud) -> GatewayEndpoint {
        GatewayEndpoint(
            trusted: Self.publishedBaseURL(environment: .production, profile: profile)!, environment: .production, profile: profile)
    }

    /// IRD's test environment (test5) with the given profile (defaults to cloud).
    public static func test(_ profile: Profile = .cloud) -> GatewayEndpoint {
        GatewayEndpoint(trusted: Self.publishedBaseURL(environment: .test, profile: profile)!, environment: .test, profile: profile)
    }

    /// A sandbox (our gateway emulation) at the given base URL.
    ///
    /// - Throws: ``TransportError/Code/invalidConfiguration`` for a URL that is not usable (see ``init(environment:profile:baseURL:)``).
    public static func sandbox(baseURL: String, profile: Profile = .cloud) throws(TransportError) -> GatewayEndpoint {
        try GatewayEndpoint(environment: .sandbox, profile: profile, baseURL: baseURL)
    }

    /// The full URL of a service at this endpoint.
    public func url(for service: Service) -> String {
        self.baseURL + service.path
    }

    /// Whether calls to this endpoint need the service provider's client certificate.
    public var requiresClientCertificate: Bool { self.profile.requiresClientCertificate }

    /// `environment/profile base-url`.
    public var description: String { "\(self.environment)/\(self.profile) \(self.baseURL)" }

    static func validatedBaseURL(_ string: String) throws(TransportError) -> String {
        func invalid(_ why: String) -> TransportError {
            TransportError(.invalidConfiguration, "the gateway base URL \(why)", requestMayHaveReachedGateway: false)
        }
        guard let components = URLComponents(string: string), let scheme = components.scheme else {
            throw invalid("is not an absolute URL")
        }
        guard scheme.lowercased() == "https" else { throw invalid("must use https") }
        guard let host = components.host, !host.isEmpty else { throw invalid("has no host") }
        guard components.user == nil, components.password == nil else { throw invalid("must not contain credentials") }
        guard components.query == nil, components.fragment == nil else { throw invalid("must not have a query or fragment") }
        return string.hasSuffix("/") ? string : string + "/"
    }
}
