import Foundation

/// An OAuth client registered with the sandbox: its id, its secret and the redirect URIs it may use.
public struct RegisteredClient: Sendable, Hashable, Codable {
    /// The client id.
    public var id: String
    /// The client secret (checked with HTTP Basic authentication at the token endpoint).
    public var secret: String
    /// The redirect URIs the authorize endpoint accepts for this client; empty accepts any.
    public var redirectURIs: [String]

    enum CodingKeys: String, CodingKey {
        case id = "client_id", secret = "client_secret", redirectURIs = "redirect_uris"
    }

    /// Creates a client.
    public init(id: String, secret: String, redirectURIs: [String] = []) {
        self.id = id
        self.secret = secret
        self.redirectURIs = redirectURIs
    }

    /// Decodes `client_id`, `client_secret` and optional `redirect_uris`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.secret = try container.decode(String.self, forKey: .secret)
        self.redirectURIs = try container.decodeIfPresent([String].self, forKey: .redirectURIs) ?? []
    }

    /// Parses `ID:SECRET` (the `--client` option).
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` when either part is empty.
    public init(option: String) throws(SandboxError) {
        let parts = option.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw SandboxError(.invalidConfiguration, "a client must be given as ID:SECRET")
        }
        self.init(id: parts[0], secret: parts[1])
    }

    /// Reads a JSON array of clients (`[{"client_id": …, "client_secret": …, "redirect_uris": […]}]`).
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
                .invalidConfiguration, "the clients file \(path) is not a JSON array of {client_id, client_secret, redirect_uris?}",
                underlying: error)
        }
    }
}
