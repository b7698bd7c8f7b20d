import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TukuSandbox

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run Tuku's emulation of IRD's gateway (mutual and one-way TLS, OAuth, SOAP filing, limits, faults), and of HMRC's VAT API with --hmrc-client.",
        discussion: """
            Prints `listening mtls=HOST:PORT tls=HOST:PORT` on standard output once both listeners are bound, and a \
            `stopped calls=… filings=… duplicate_filings=… duplicates_refused=… employments=… employment_creates_refused=… \
            schema_rejections=… hmrc_returns=… hmrc_duplicate_submissions=…` line on SIGTERM/SIGINT.
            Strict by default: every SOAP body is validated against IRD's XSDs (status 21), RetrieveStatus and RetrieveReturn answer 103 \
            for a payday without a return, and payday filing refuses M2M JWTs (status 2).
            Routes: POST /gateway/gws/returns/ and /gateway/gws/employment/v2/ (also /gateway2/…), \
            GET /oauth/authorize, POST /oauth/token, /oauth/introspect and /oauth/revoke, POST /sandbox/grant, \
            GET /sandbox/stats.
            Faults: 429, 503, 504-after-store, reset, slow, malformed, html, stall.
            """
    )

    @Option(help: "Host to bind.") var host = "127.0.0.1"
    @Option(name: .customLong("mtls-port"), help: "Mutual-TLS port (0 = ephemeral).") var mutualTLSPort = 4046
    @Option(name: .customLong("tls-port"), help: "One-way TLS port (0 = ephemeral).") var oneWayTLSPort = 4043
    @Option(help: "Server certificate chain PEM.") var cert: String
    @Option(help: "Server private key PEM (unencrypted).") var key: String
    @Option(help: "CA PEM whose client certificates the mutual-TLS listener accepts.") var ca: String

    @Option(
        name: .customLong("client"),
        help: ArgumentHelp("A cloud OAuth client (gets refresh tokens) as ID:SECRET (repeatable).", valueName: "id:secret"))
    var clients: [String] = []
    @Option(
        name: .customLong("native-client"),
        help: ArgumentHelp("A native (desktop) OAuth client, which IRD gives no refresh token, as ID:SECRET (repeatable).", valueName: "id:secret"))
    var nativeClients: [String] = []
    @Option(
        name: .customLong("redirect-uri"),
        help: ArgumentHelp(
            "A redirect URI registered for a client, matched exactly by /oauth/authorize (repeatable). A client without one cannot use /oauth/authorize.",
            valueName: "id=uri"))
    var redirectURIs: [String] = []
    @Option(
        name: .customLong("clients"),
        help: "JSON file: [{\"client_id\", \"client_secret\", \"type\"?: \"normal\"|\"native\", \"redirect_uris\"?}].")
    var clientsFile: String?
    @Option(name: .customLong("access-token-ttl"), help: "Access token lifetime in seconds.") var accessTokenTTL: Double = 28800
    @Option(name: .customLong("refresh-token-ttl"), help: "Refresh token lifetime in seconds.") var refreshTokenTTL: Double = 31_536_000
    @Option(name: .customLong("m2m-cert"), help: "A registered M2M JWT signing certificate PEM (repeatable).")
    var m2mCertificates: [String] = []

    @Option(help: "Requests per second per client (0 = unlimited).") var rate: Double = 0
    @Option(name: .customLong("max-concurrency"), help: "Calls in flight per client (0 = unlimited).") var maximumConcurrency = 0

    @Option(
        help: "Fault rates, e.g. 429:0.05,503:0.05,504-after-store:0.05,reset:0.02,slow:0.01,malformed:0.01,html:0.01,stall:0.01.")
    var faults: String?
    @Option(name: .customLong("fault-script"), help: "File with one fault per line (ok = none) for successive SOAP calls.")
    var faultScript: String?
    @Option(help: "Seed of the fault generator.") var seed: UInt64 = 1
    @Option(name: .customLong("slow-delay"), help: "Seconds the slow fault holds an answer back (and stall the connection).")
    var slowDelay: Double = 75
    @Option(name: .customLong("fault-retry-after"), help: "Retry-After seconds of injected 429 and 503 answers.") var faultRetryAfter:
        Double = 1

    @Option(help: "A second original return for a filed payday: reject (code 107) or accept (counted as a duplicate filing).")
    var duplicates: String = DuplicatePolicy.reject.rawValue
    @Option(
        name: .customLong("processing-delay"),
        help: "Seconds a stored return shows as Submitted before Ontime-processed (or Late-processed).")
    var processingDelay: Double = 5
    @Option(
        name: .customLong("no-return-status"),
        help: """
            RetrieveStatus and RetrieveReturn for a payday without a return: 103 (IRD's No return found) or expected \
            (RetrieveStatus: status EXP, no key; RetrieveReturn: 0, no body).
            """)
    var noReturnStatus: String = NoReturnAnswer.noReturnFound.rawValue
    @Flag(
        name: .customLong("accept-m2m-payday-filing"),
        help: "Leniency for tests: accept M2M JWTs on payday filing (IRD accepts OAuth only; default: status 2).")
    var acceptM2MPaydayFiling = false
    @Flag(
        name: .customLong("allow-remote-grant"),
        help: "Let POST /sandbox/grant and /sandbox/hmrc/grant (tokens without consent) answer peers other than loopback. Off by default.")
    var allowRemoteGrant = false
    @Option(
        name: .customLong("hmrc-client"),
        help: ArgumentHelp(
            "An HMRC application as ID:SECRET (repeatable): turns on the HMRC VAT (MTD) personality on the one-way TLS listener.",
            valueName: "id:secret"))
    var hmrcClients: [String] = []
    @Option(
        name: .customLong("hmrc-redirect-uri"),
        help: ArgumentHelp(
            "A redirect URI registered for an HMRC application, matched exactly by HMRC's GET /oauth/authorize (repeatable).",
            valueName: "id=uri"))
    var hmrcRedirectURIs: [String] = []
    @Option(name: .customLong("hmrc-access-token-ttl"), help: "HMRC access token lifetime in seconds.") var hmrcAccessTokenTTL: Double = 14_400
    @Option(name: .customLong("hmrc-refresh-ttl"), help: "Seconds after an HMRC authorisation that refreshing stops (18 months).")
    var hmrcRefreshTTL: Double = 548 * 86_400
    @Option(name: .customLong("hmrc-rate"), help: "HMRC requests per second per application (0 = unlimited).") var hmrcRate: Double = 3
    @Option(name: .customLong("hmrc-moved-prefix"), help: "Answer 308 to <prefix>/organisations/vat/... with Location /organisations/vat/...")
    var hmrcMovedPrefix: String?
    @Flag(name: .customLong("hmrc-no-fraud-headers"), help: "Do not check HMRC's fraud prevention headers on VAT calls.")
    var hmrcNoFraudHeaders = false
    @Option(help: "Append one JSON line per request to this file.") var arrivals: String?
    @Option(name: .customLong("shutdown-grace"), help: "Seconds requests in flight may take to finish after SIGTERM.")
    var shutdownGrace: Double = 5
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .notice

    func validate() throws {
        guard rate >= 0, maximumConcurrency >= 0 else { throw ValidationError("--rate and --max-concurrency must not be negative") }
        guard accessTokenTTL > 0, refreshTokenTTL > 0, slowDelay >= 0, faultRetryAfter >= 0, processingDelay >= 0, shutdownGrace >= 0 else {
            throw ValidationError("durations must not be negative (token lifetimes must be positive)")
        }
        guard hmrcAccessTokenTTL > 0, hmrcRefreshTTL > 0, hmrcRate >= 0 else {
            throw ValidationError("HMRC token lifetimes must be positive and --hmrc-rate must not be negative")
        }
        guard DuplicatePolicy(rawValue: duplicates) != nil else { throw ValidationError("--duplicates must be reject or accept") }
        guard NoReturnAnswer(rawValue: noReturnStatus) != nil else { throw ValidationError("--no-return-status must be 103 or expected") }
        guard !clients.isEmpty || !nativeClients.isEmpty || clientsFile != nil else {
            throw ValidationError("register at least one OAuth client: --client ID:SECRET, --native-client ID:SECRET or --clients FILE")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "tuku.sandbox")
        var registered = try clients.map { option in try RegisteredClient(option: option) }
        registered += try nativeClients.map { option in try RegisteredClient(option: option, kind: .native) }
        if let clientsFile { registered += try RegisteredClient.load(path: clientsFile) }
        registered = try RegisteredClient.registering(redirectURIs: redirectURIs, in: registered)

        var configuration = SandboxServer.Configuration(
            tls: .init(certificatePath: cert, privateKeyPath: key, clientCAPath: ca),
            oauth: .init(
                clients: registered, accessTokenLifetime: Self.duration(accessTokenTTL),
                refreshTokenLifetime: Self.duration(refreshTokenTTL)))
        configuration.host = host
        configuration.grantsToRemotePeers = allowRemoteGrant
        configuration.mutualTLSPort = mutualTLSPort
        configuration.oneWayTLSPort = oneWayTLSPort
        configuration.m2mCertificatePaths = m2mCertificates
        configuration.acceptsM2MOnPaydayFiling = acceptM2MPaydayFiling
        configuration.limits = .init(rate: rate > 0 ? rate : nil, maximumConcurrency: maximumConcurrency > 0 ? maximumConcurrency : nil)
        var plan = FaultPlan(seed: seed)
        if let faults { plan.rates = try FaultPlan.parseRates(faults) }
        if let faultScript {
            guard let text = try? String(contentsOfFile: faultScript, encoding: .utf8) else {
                throw ValidationError("cannot read the fault script \(faultScript)")
            }
            plan.script = try FaultPlan.parseScript(text)
        }
        configuration.faults = plan
        configuration.slowDelay = Self.duration(slowDelay)
        configuration.faultRetryAfter = Self.duration(faultRetryAfter)
        configuration.filings = .init(
            duplicatePolicy: DuplicatePolicy(rawValue: duplicates) ?? .reject, processingDelay: Self.duration(processingDelay),
            noReturnAnswer: NoReturnAnswer(rawValue: noReturnStatus) ?? .noReturnFound)
        var hmrc = HMRCConfiguration(
            applications: try RegisteredClient.registering(
                redirectURIs: hmrcRedirectURIs, in: try hmrcClients.map { option in try RegisteredClient(option: option) },
                option: "--hmrc-redirect-uri"))
        hmrc.accessTokenLifetime = Self.duration(hmrcAccessTokenTTL)
        hmrc.refreshLifetime = Self.duration(hmrcRefreshTTL)
        hmrc.rate = hmrcRate > 0 ? hmrcRate : nil
        hmrc.movedPrefix = hmrcMovedPrefix
        hmrc.checksFraudPreventionHeaders = !hmrcNoFraudHeaders
        configuration.hmrc = hmrc
        configuration.arrivalsPath = arrivals
        configuration.shutdownGracePeriod = Self.duration(shutdownGrace)

        let server = try await SandboxServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                // Announce the ports once both listeners are bound; a failed bind surfaces through group.run().
                if let addresses = try? await server.addresses() {
                    Self.writeLine(addresses.description)
                }
            }
            try await tasks.waitForAll()
        }
        Self.writeLine("stopped \(server.router.currentStatistics.summaryLine)")
    }

    /// Writes a line to standard output at once (a pipe would otherwise hold it in a block buffer).
    private static func writeLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private static func duration(_ seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
