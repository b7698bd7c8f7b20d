extension SandboxServer {
    /// Everything the sandbox needs: addresses, TLS files, clients, limits, faults and logging.
    public struct Configuration: Sendable {
        /// The server's TLS identity and the CA whose client certificates the mutual-TLS listener accepts.
        public struct TLS: Sendable, Hashable {
            /// The server certificate chain (PEM).
            public var certificatePath: String
            /// The server's unencrypted private key (PEM).
            public var privateKeyPath: String
            /// The CA certificates (PEM) that client certificates must chain to.
            public var clientCAPath: String

            /// Creates TLS settings.
            public init(certificatePath: String, privateKeyPath: String, clientCAPath: String) {
                self.certificatePath = certificatePath
                self.privateKeyPath = privateKeyPath
                self.clientCAPath = clientCAPath
            }
        }

        /// The host to bind. Defaults to `127.0.0.1`.
        public var host: String
        /// The mutual-TLS port; 0 for an ephemeral port. Defaults to 4046 (IRD's cloud port).
        public var mutualTLSPort: Int
        /// The one-way TLS port; 0 for an ephemeral port. Defaults to 4043.
        public var oneWayTLSPort: Int
        /// TLS files.
        public var tls: TLS
        /// OAuth clients and token lifetimes.
        public var oauth: OAuthAuthority.Configuration
        /// PEM files of registered M2M JWT signing certificates. Defaults to none.
        public var m2mCertificatePaths: [String]
        /// Whether the payday-filing services accept M2M JWTs. IRD's take OAuth only, so a call with an M2M JWT is
        /// answered with status 2; `true` is a leniency for testing the M2M verifier. Defaults to `false`.
        public var acceptsM2MOnPaydayFiling: Bool
        /// Per-client limits. Defaults to none.
        public var limits: ClientLimiter.Configuration
        /// Faults to inject. Defaults to none.
        public var faults: FaultPlan
        /// How long the `slow` fault holds an answer back. Defaults to 75 seconds (longer than Tuku's 60-second
        /// call deadline).
        public var slowDelay: Duration
        /// The `Retry-After` of injected 429 and 503 answers. Defaults to 1 second.
        public var faultRetryAfter: Duration
        /// Duplicate handling and processing times.
        public var filings: FilingRegistry.Configuration
        /// The HMRC personality (VAT (MTD) API on the one-way TLS listener). Defaults to off (no applications).
        public var hmrc: HMRCConfiguration
        /// The arrivals log (JSON Lines), if any. Defaults to `nil`.
        public var arrivalsPath: String?
        /// How long requests in flight may take to finish after shutdown begins. Defaults to 5 seconds.
        public var shutdownGracePeriod: Duration
        /// The largest request body accepted. Defaults to 64 MiB.
        public var maximumRequestBodySize: Int
        /// Whether `POST /sandbox/grant` (which mints token sets with no consent and no client secret) answers peers
        /// other than loopback. Defaults to `false`: only this machine may mint tokens, wherever the sandbox binds.
        public var grantsToRemotePeers: Bool

        /// Creates a configuration with the defaults above.
        public init(tls: TLS, oauth: OAuthAuthority.Configuration) {
            self.host = "127.0.0.1"
            self.mutualTLSPort = 4046
            self.oneWayTLSPort = 4043
            self.tls = tls
            self.oauth = oauth
            self.m2mCertificatePaths = []
            self.acceptsM2MOnPaydayFiling = false
            self.limits = ClientLimiter.Configuration()
            self.faults = .none
            self.slowDelay = .seconds(75)
            self.faultRetryAfter = .seconds(1)
            self.filings = FilingRegistry.Configuration()
            self.hmrc = HMRCConfiguration()
            self.arrivalsPath = nil
            self.shutdownGracePeriod = .seconds(5)
            self.maximumRequestBodySize = 64 << 20
            self.grantsToRemotePeers = false
        }
    }
}
