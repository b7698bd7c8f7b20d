/// Which of the sandbox's two listeners a request came in on. A closed set, as IRD's two profiles are.
public enum SandboxListener: String, Sendable, Hashable, CaseIterable {
    /// Mutual TLS (IRD's cloud endpoint, port 4046): a client certificate from the sandbox CA is required.
    case mutualTLS = "mtls"
    /// One-way TLS (IRD's desktop endpoint, port 443).
    case oneWayTLS = "tls"
}
