extension GatewayTransport {
    /// How the transport connects: TLS identity and trust, timeouts, pool sizes, body limits.
    public struct Configuration: Sendable {
        /// TLS settings.
        public struct TLS: Sendable {
            /// Which certificate authorities the transport trusts for the gateway's server certificate.
            public struct TrustRoots: Sendable, Hashable, CustomStringConvertible {
                private enum Base: Sendable, Hashable {
                    case system
                    case caBundle(path: String)
                }
                private let base: Base

                /// The operating system's trust store (what IRD's public servers need).
                public static let system = TrustRoots(base: .system)

                /// The CA certificates in a PEM file (one or more `BEGIN CERTIFICATE` blocks), instead of the system
                /// store; for the sandbox and tests.
                public static func caBundle(path: String) -> TrustRoots { TrustRoots(base: .caBundle(path: path)) }

                /// The PEM file for ``caBundle(path:)``, `nil` for ``system``.
                public var caBundlePath: String? {
                    if case .caBundle(let path) = self.base { return path }
                    return nil
                }

                /// `system` or `ca-bundle:<path>`.
                public var description: String {
                    switch self.base {
                    case .system: "system"
                    case .caBundle(let path): "ca-bundle:\(path)"
                    }
                }
            }

            /// The lowest TLS version the transport will negotiate.
            public struct MinimumVersion: Sendable, Hashable, CustomStringConvertible {
                private enum Base: Sendable, Hashable {
                    case tls12
                    case tls13
                }
                private let base: Base

                /// TLS 1.2, which IRD requires at minimum.
                public static let tls12 = MinimumVersion(base: .tls12)
                /// TLS 1.3 only.
                public static let tls13 = MinimumVersion(base: .tls13)

                var isTLS13: Bool { self.base == .tls13 }

                /// `TLSv1.2` or `TLSv1.3`.
                public var description: String { self.isTLS13 ? "TLSv1.3" : "TLSv1.2" }
            }

            /// The service provider's client identity for mutual TLS, as two PEM files.
            public struct ClientIdentity: Sendable, Hashable {
                /// A PEM file with the client certificate first, followed by any intermediate CA certificates.
                public var certificateChainPath: String
                /// A PEM file with the unencrypted private key of the first certificate (PKCS#8,
                /// PKCS#1 RSA or SEC1 EC PEM blocks).
                public var privateKeyPath: String

                /// Creates a client identity from two PEM files.
                public init(certificateChainPath: String, privateKeyPath: String) {
                    self.certificateChainPath = certificateChainPath
                    self.privateKeyPath = privateKeyPath
                }
            }

            /// The client certificate and key for mutual TLS; `nil` for one-way TLS. Defaults to `nil`.
            public var clientIdentity: ClientIdentity?
            /// Which CAs to trust for the server certificate. Defaults to ``TrustRoots/system``.
            public var trustRoots: TrustRoots
            /// The lowest TLS version negotiated. Defaults to ``MinimumVersion/tls12``.
            public var minimumVersion: MinimumVersion
            /// How long closing a connection waits for the peer's TLS close_notify before dropping the socket. Bounds
            /// how long ``GatewayTransport/shutdown()`` takes when the gateway has stopped answering on a connection.
            /// Defaults to 1 second.
            public var closeNotifyTimeout: Duration

            /// Creates TLS settings.
            public init(
                clientIdentity: ClientIdentity? = nil,
                trustRoots: TrustRoots = .system,
                minimumVersion: MinimumVersion = .tls12,
                closeNotifyTimeout: Duration = .seconds(1)
            ) {
                self.clientIdentity = clientIdentity
                self.trustRoots = trustRoots
                self.minimumVersion = minimumVersion
                self.closeNotifyTimeout = closeNotifyTimeout
            }
        }

        /// Timeouts.
        public struct Timeouts: Sendable {
            /// How long a new connection (TCP connect plus TLS handshake) may take. Defaults to 10 seconds.
            public var connect: Duration
            /// The per-call deadline when the caller gives none: from the start of the call to the last byte of the
            /// response. Defaults to 60 seconds (IRD's gateway timeout; see gateway notes §4, unverified).
            public var request: Duration

            /// Creates timeouts.
            public init(connect: Duration = .seconds(10), request: Duration = .seconds(60)) {
                self.connect = connect
                self.request = request
            }
        }

        /// The connection pool. Connections are kept open and reused between calls to the same host.
        public struct ConnectionPool: Sendable {
            /// The most connections kept per host (a soft limit; more are opened while all are busy only if requests
            /// are pinned to an event loop, which this transport never does). Defaults to 8.
            public var maximumConnectionsPerHost: Int
            /// How long an unused connection stays open. Defaults to 60 seconds.
            public var idleTimeout: Duration
            /// Whether the HTTP client retries failed connection attempts (with back-off) until the connect timeout,
            /// instead of failing the call at the first failure. Defaults to `false`: a refused connection or a TLS
            /// rejection fails the call at once, and the job's own retry policy decides what happens next.
            public var retryConnectionEstablishment: Bool

            /// Creates pool settings.
            public init(
                maximumConnectionsPerHost: Int = 8, idleTimeout: Duration = .seconds(60), retryConnectionEstablishment: Bool = false
            ) {
                self.maximumConnectionsPerHost = maximumConnectionsPerHost
                self.idleTimeout = idleTimeout
                self.retryConnectionEstablishment = retryConnectionEstablishment
            }
        }

        /// TLS settings. Defaults to one-way TLS against the system trust store, TLS 1.2 minimum.
        public var tls: TLS
        /// Timeouts. Defaults to a 10-second connect timeout and a 60-second per-call deadline.
        public var timeouts: Timeouts
        /// Connection pool settings. Defaults to 8 connections per host, 60 seconds idle.
        public var connectionPool: ConnectionPool
        /// The largest request body the transport will send; larger ones fail with
        /// ``TransportError/Code/bodyTooLarge`` before anything is sent. Defaults to 64 MiB.
        public var maximumRequestBodySize: Int
        /// The largest response body the transport will read; larger ones fail with
        /// ``TransportError/Code/bodyTooLarge`` (outcome unknown). Defaults to 16 MiB.
        public var maximumResponseBodySize: Int

        /// Creates a configuration.
        public init(
            tls: TLS = TLS(),
            timeouts: Timeouts = Timeouts(),
            connectionPool: ConnectionPool = ConnectionPool(),
            maximumRequestBodySize: Int = 64 << 20,
            maximumResponseBodySize: Int = 16 << 20
        ) {
            self.tls = tls
            self.timeouts = timeouts
            self.connectionPool = connectionPool
            self.maximumRequestBodySize = maximumRequestBodySize
            self.maximumResponseBodySize = maximumResponseBodySize
        }

        /// A configuration for an endpoint: its profile decides whether the client identity is required.
        ///
        /// - Parameters:
        ///   - endpoint: The endpoint the transport will call.
        ///   - clientIdentity: The service provider's certificate chain and key; required for the cloud profile,
        ///     must be `nil` for the desktop profile (one-way TLS never presents a client certificate).
        ///   - trustRoots: Which CAs to trust. Defaults to the system store.
        /// - Throws: ``TransportError/Code/invalidConfiguration`` when the identity does not fit the profile.
        public init(
            for endpoint: GatewayEndpoint,
            clientIdentity: TLS.ClientIdentity?,
            trustRoots: TLS.TrustRoots = .system
        ) throws(TransportError) {
            switch (endpoint.requiresClientCertificate, clientIdentity) {
            case (true, nil):
                throw TransportError(
                    .invalidConfiguration, "the \(endpoint.profile) profile needs a client certificate and key",
                    requestMayHaveReachedGateway: false, endpoint: endpoint.baseURL)
            case (false, .some):
                throw TransportError(
                    .invalidConfiguration, "the \(endpoint.profile) profile uses one-way TLS: give no client certificate",
                    requestMayHaveReachedGateway: false, endpoint: endpoint.baseURL)
            default:
                self.init(tls: TLS(clientIdentity: clientIdentity, trustRoots: trustRoots))
            }
        }
    }
}
