/// Where the sandbox listens, once both listeners are bound.
public struct ListeningAddresses: Sendable, Hashable, CustomStringConvertible {
    /// The host the listeners are bound to.
    public var host: String
    /// The mutual-TLS listener's port.
    public var mutualTLSPort: Int
    /// The one-way TLS listener's port.
    public var oneWayTLSPort: Int

    /// Creates addresses.
    public init(host: String, mutualTLSPort: Int, oneWayTLSPort: Int) {
        self.host = host
        self.mutualTLSPort = mutualTLSPort
        self.oneWayTLSPort = oneWayTLSPort
    }

    private var urlHost: String { host.contains(":") ? "[\(host)]" : host }

    /// The gateway base URL on the mutual-TLS listener, e.g. `https://127.0.0.1:4046/gateway/`.
    public var mutualTLSBaseURL: String { "https://\(urlHost):\(mutualTLSPort)/gateway/" }
    /// The gateway base URL on the one-way TLS listener, e.g. `https://127.0.0.1:4043/gateway2/`.
    public var oneWayTLSBaseURL: String { "https://\(urlHost):\(oneWayTLSPort)/gateway2/" }

    /// The machine-readable line the command prints: `listening mtls=HOST:PORT tls=HOST:PORT`.
    public var description: String { "listening mtls=\(urlHost):\(mutualTLSPort) tls=\(urlHost):\(oneWayTLSPort)" }
}
