import Foundation

/// An OAuth client registered with the sandbox: its id, its secret, its type and the redirect URIs it may use.
public struct RegisteredClient: Sendable, Hashable, Codable {
    /// How IRD registered the client (Identity and Access build pack §2.2).
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A cloud ("Normal") client: token responses carry a refresh token.
        case normal
        /// A native (desktop) app: IRD never issues it a refresh token and refuses `grant_type=refresh_token`.
        case native
    }

    /// The client id.
    public var id: String
    /// The client secret (checked with HTTP Basic authentication, or form credentials, at the token endpoint).
    public var secret: String
    /// Normal (cloud) or native (desktop).
    public var kind: Kind
    /// The redirect URIs registered for this client; the authorize endpoint accepts exactly these (IRD does not
    /// accept any-port loopback URIs, §2.2). Empty: the client cannot use the authorize endpoint at all.
    public var redirectURIs: [String]

    enum CodingKeys: String, CodingKey {
        case id = "client_id", secret = "client_secret", kind = "type", redirectURIs = "redirect_uris"
    }

    /// Creates a client.
    public init(id: String, secret: String, kind: Kind = .normal, redirectURIs: [String] = []) {
        self.id = id
        self.secret = secret
        self.kind = kind
        self.redirectURIs = redirectURIs
    }

    /// Decodes `client_id`, `client_secret`, optional `type` (`normal` or `native`) and optional `redirect_uris`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.secret = try container.decode(String.self, forKey: .secret)
        self.kind = try container.decodeIfPresent(Kind.self, forKey: .kind) ?? .normal
        self.redirectURIs = try container.decodeIfPresent([String].self, forKey: .redirectURIs) ?? []
        for uri in redirectURIs {
            guard Self.isAbsoluteURI(uri) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .redirectURIs, in: container, debugDescription: "\(uri) is not an absolute URI without a fragment")
            }
        }
    }

    /// Parses `ID:SECRET` (the `--client` and `--native-client` options).
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` when either part is empty.
    public init(option: String, kind: Kind = .normal) throws(SandboxError) {
        let parts = option.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw SandboxError(.invalidConfiguration, "a client must be given as ID:SECRET")
        }
        self.init(id: parts[0], secret: parts[1], kind: kind)
    }

    /// Adds the `--redirect-uri ID=URI` options (or, named by `option`, `--hmrc-redirect-uri`) to the clients they name.
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` when an option is not `ID=URI`, names no registered
    ///   client, or its URI is not absolute (or has a fragment, which RFC 6749 §3.1.2 forbids).
    public static func registering(
        redirectURIs options: [String], in clients: [RegisteredClient], option name: String = "--redirect-uri"
    ) throws(SandboxError)
        -> [RegisteredClient]
    {
        var clients = clients
        for option in options {
            let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw SandboxError(.invalidConfiguration, "a redirect URI must be given as CLIENT_ID=URI")
            }
            guard Self.isAbsoluteURI(parts[1]) else {
                throw SandboxError(.invalidConfiguration, "the redirect URI \(parts[1]) is not an absolute URI without a fragment")
            }
            let indices = clients.indices.filter { clients[$0].id == parts[0] }
            guard !indices.isEmpty else {
                throw SandboxError(.invalidConfiguration, "\(name) names \(parts[0]), which is not a registered client")
            }
            for index in indices where !clients[index].redirectURIs.contains(parts[1]) {
                clients[index].redirectURIs.append(parts[1])
            }
        }
        return clients
    }

    /// Reads a JSON array of clients (`[{"client_id": …, "client_secret": …, "type": …?, "redirect_uris": […]?}]`).
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` when the file cannot be read or decoded.
    public static func load(path: String) throws(SandboxError) -> [RegisteredClient] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SandboxError(.invalidConfiguration, "cannot read the clients file \(path)")
        }
        do {
            return try JSONDecoder().decode([RegisteredClient].self, from: data)
        } catch {
            throw SandboxError(
                .invalidConfiguration,
                "the clients file \(path) is not a JSON array of {client_id, client_secret, type?, redirect_uris?}",
                underlying: error)
        }
    }

    /// Whether `text` is an absolute URI (scheme and host) without a fragment.
    static func isAbsoluteURI(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme, !scheme.isEmpty,
            let host = components.host, !host.isEmpty
        else { return false }
        return components.fragment == nil
    }
}
