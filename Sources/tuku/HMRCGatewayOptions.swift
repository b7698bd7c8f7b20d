import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TukuCore
import TukuFiling
import TukuGateway
import TukuHMRC
import TukuPostgres

/// Where and how to reach HMRC's API platform (VAT (MTD) API 1.0). Every option also reads an environment variable,
/// so that deployments keep secrets out of command lines. Off (no `hmrc.*` kind runs) unless `--hmrc` or `TUKU_HMRC`
/// names an environment.
struct HMRCGatewayOptions: ParsableArguments {
    @Option(
        name: .customLong("hmrc"),
        help: ArgumentHelp(
            "HMRC's API platform: production, test, or sandbox (needs --hmrc-url). Off when absent ($TUKU_HMRC).", valueName: "environment")
    )
    var environment: String?

    @Option(
        name: .customLong("hmrc-url"),
        help:
            "Base URL of the API platform: required for sandbox (a Tuku sandbox's one-way TLS listener, e.g. https://127.0.0.1:4443); HMRC's own for test and production ($TUKU_HMRC_URL; production only with --allow-gateway-overrides)."
    )
    var baseURL: String?

    @Option(
        name: .customLong("hmrc-client-id"),
        help:
            "The HMRC application's client id ($TUKU_HMRC_CLIENT_ID). The secret comes from $TUKU_HMRC_CLIENT_SECRET_FILE or $TUKU_HMRC_CLIENT_SECRET."
    )
    var clientID: String?

    @Option(
        name: .customLong("hmrc-tls-ca"),
        help:
            "CA bundle PEM to trust for HMRC instead of the system roots ($TUKU_HMRC_TLS_CA; production only with --allow-gateway-overrides)."
    )
    var caPath: String?

    @Option(name: .customLong("hmrc-vendor-product-name"), help: "Gov-Vendor-Product-Name ($TUKU_HMRC_VENDOR_PRODUCT_NAME; default Tuku).")
    var productName: String?

    @Option(
        name: .customLong("hmrc-vendor-public-ip"),
        help: "Gov-Vendor-Public-IP: this server's public address, needed for WEB_APP_VIA_SERVER jobs ($TUKU_HMRC_VENDOR_PUBLIC_IP).")
    var publicIP: String?

    @Option(
        name: .customLong("hmrc-vendor-forwarded"),
        help: ArgumentHelp(
            "Gov-Vendor-Forwarded hops after the first (which is by=<vendor public IP>&for=<client IP>): this service's TLS-terminating servers behind its public address, comma-separated ($TUKU_HMRC_VENDOR_FORWARDED).",
            valueName: "by=IP&for=IP,…"))
    var forwarded: String?

    @Option(
        name: .customLong("hmrc-vendor-license-ids"),
        help: ArgumentHelp(
            "Gov-Vendor-License-IDs as software=hashed-licence pairs, comma-separated ($TUKU_HMRC_VENDOR_LICENSE_IDS; default tuku=<hash of the client id>).",
            valueName: "name=hash,…"))
    var licenseIDs: String?

    @Option(
        name: .customLong("hmrc-device-id"),
        help:
            "Gov-Client-Device-ID for BATCH_PROCESS_DIRECT jobs, a UUID kept for this installation ($TUKU_HMRC_DEVICE_ID; default derived from /etc/machine-id)."
    )
    var deviceID: String?

    /// Everything an HMRC handler needs, built once per worker.
    struct Setup: Sendable {
        /// The one-way TLS transport to HMRC (the worker closes it on shutdown: ``TransportService``).
        var transport: GatewayTransport
        /// HMRC's token endpoint client (also in the IRD handler's refreshers map, under `.hmrc`).
        var refresher: HMRCTokenClient
        /// The paced call's dependencies: gateway `.hmrc`, the worker's token store and rate limiter.
        var call: PacedGatewayCall.Dependencies
        /// The API platform's base URL, e.g. `https://api.service.hmrc.gov.uk`.
        var baseURL: String
        /// Tuku's vendor values for the fraud prevention headers, checked.
        var fraudPrevention: FraudPreventionHeaders
    }

    private func value(_ option: String?, _ variable: String) -> String? { EnvironmentValues.value(option, variable) }

    /// Whether `--hmrc` (or `TUKU_HMRC`) names an environment.
    var isConfigured: Bool { self.value(self.environment, "TUKU_HMRC") != nil }

    /// The environment's name, checked: production, test or sandbox.
    func environmentName() throws -> String {
        let name = self.value(self.environment, "TUKU_HMRC") ?? ""
        guard ["production", "test", "sandbox"].contains(name) else {
            throw ValidationError("unknown HMRC environment '\(name)': use production, test or sandbox")
        }
        return name
    }

    /// The API platform's base URL: `--hmrc-url` when given (production only once ``checkOverrides(allowed:logger:)``
    /// let it through), else HMRC's own for production and test.
    func baseURLValue() throws -> String {
        let environment = try self.environmentName()
        guard let url = self.value(self.baseURL, "TUKU_HMRC_URL") else {
            switch environment {
            case "production": return HMRCTokenClient.productionBaseURL
            case "test": return HMRCTokenClient.testBaseURL
            default: throw ValidationError("--hmrc sandbox needs --hmrc-url")
            }
        }
        guard let components = URLComponents(string: url), components.scheme == "https", components.host != nil else {
            throw ValidationError("--hmrc-url must be an https URL")
        }
        return url
    }

    /// The HMRC application's client id.
    func clientIDValue() throws -> String {
        guard let id = self.value(self.clientID, "TUKU_HMRC_CLIENT_ID") else {
            throw ValidationError("no HMRC client id: --hmrc-client-id or TUKU_HMRC_CLIENT_ID")
        }
        return id
    }

    /// The HMRC application's client secret, from `TUKU_HMRC_CLIENT_SECRET_FILE` or `TUKU_HMRC_CLIENT_SECRET`.
    func clientSecret() throws -> Secret { try EnvironmentValues.secret("TUKU_HMRC_CLIENT_SECRET", what: "HMRC client secret") }

    /// Refuses `--hmrc-tls-ca` and `--hmrc-url` for production unless overrides are allowed (`--allow-gateway-overrides`,
    /// the rule IRD's endpoint follows): a leftover staging variable would otherwise send the client secret and a
    /// single-use refresh token to another host. Allowed overrides are logged.
    func checkOverrides(allowed: Bool, logger: Logger) throws {
        guard try self.environmentName() == "production" else { return }
        var given: [String] = []
        if self.value(self.caPath, "TUKU_HMRC_TLS_CA") != nil { given.append("--hmrc-tls-ca") }
        if self.value(self.baseURL, "TUKU_HMRC_URL") != nil { given.append("--hmrc-url") }
        guard !given.isEmpty else { return }
        guard allowed else {
            throw ValidationError(
                "\(given.joined(separator: " and ")) (or its TUKU_ variable) would redirect HMRC production credentials; unset it, or pass --allow-gateway-overrides if that is intended"
            )
        }
        logger.warning(
            "Endpoint overrides in force for HMRC production", metadata: ["gateway.overrides": "\(given.joined(separator: ","))"])
    }

    /// The one-way TLS transport configuration (HMRC's platform has no client certificates).
    func transportConfiguration() -> GatewayTransport.Configuration {
        var tls = GatewayTransport.Configuration.TLS()
        if let ca = self.value(self.caPath, "TUKU_HMRC_TLS_CA") { tls.trustRoots = .caBundle(path: ca) }
        var configuration = GatewayTransport.Configuration(tls: tls)
        configuration.timeouts.request = .seconds(60)
        return configuration
    }

    /// Tuku's vendor values for the fraud prevention headers, checked. The `BATCH_PROCESS_DIRECT` values are read
    /// from this host; if they are not usable (no MAC address in a container, say), batch jobs are refused by the
    /// handler (`fraud_vendor_unconfigured`) and a warning names the problems, while `WEB_APP_VIA_SERVER` jobs run.
    func fraudPrevention(clientID: String, logger: Logger) throws -> FraudPreventionHeaders {
        var licenses: [String: String] = [:]
        if let text = self.value(self.licenseIDs, "TUKU_HMRC_VENDOR_LICENSE_IDS") {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--hmrc-vendor-license-ids must be name=hash pairs separated by commas")
                }
                licenses[parts[0]] = parts[1]
            }
        } else {
            // HMRC asks for a hashed licence key per product; Tuku's licence is its HMRC application.
            licenses["tuku"] = HostValues.sha256Hex("tuku:\(clientID)")
        }
        var configuration = FraudPreventionHeaders.Configuration(
            productName: self.value(self.productName, "TUKU_HMRC_VENDOR_PRODUCT_NAME") ?? "Tuku", versions: ["tuku": Tuku.version],
            licenseIDs: licenses, publicIP: self.value(self.publicIP, "TUKU_HMRC_VENDOR_PUBLIC_IP"))
        if let text = self.value(self.forwarded, "TUKU_HMRC_VENDOR_FORWARDED") {
            configuration.forwardedHops = try text.split(separator: ",").map { hop in
                var values: [String: String] = [:]
                for pair in hop.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    if parts.count == 2 { values[parts[0]] = parts[1].removingPercentEncoding ?? parts[1] }
                }
                guard let by = values["by"], let forAddress = values["for"] else {
                    throw ValidationError("--hmrc-vendor-forwarded must be by=IP&for=IP hops separated by commas")
                }
                return .init(by: by, for: forAddress)
            }
        }
        configuration.batchProcess = HostValues.batchProcess(deviceID: self.value(self.deviceID, "TUKU_HMRC_DEVICE_ID"))
        do {
            return try FraudPreventionHeaders(configuration: configuration)
        } catch let error
            where configuration.batchProcess != nil && !(error.problems ?? []).isEmpty
            && (error.problems ?? []).allSatisfy({ $0.path.hasPrefix("batchProcess") })
        {
            logger.warning(
                "This host's values for BATCH_PROCESS_DIRECT fraud prevention headers are not usable; batch HMRC jobs will be rejected",
                metadata: ["hmrc.problems": "\((error.problems ?? []).map(\.reason).joined(separator: "; "))"])
            configuration.batchProcess = nil
            do {
                return try FraudPreventionHeaders(configuration: configuration)
            } catch {
                throw ValidationError(
                    "the HMRC vendor values are not usable: \((error.problems ?? []).map(\.reason).joined(separator: "; "))")
            }
        } catch {
            throw ValidationError("the HMRC vendor values are not usable: \((error.problems ?? []).map(\.reason).joined(separator: "; "))")
        }
    }

    /// Everything the HMRC handler needs, when `--hmrc` is given; `nil` otherwise (an IRD-only worker).
    ///
    /// - Parameters:
    ///   - tokens: The worker's token store (shared with IRD's handler: one cache, one claim discipline).
    ///   - limiter: The worker's fleet-wide rate limiter.
    ///   - allowOverrides: Whether `--allow-gateway-overrides` was given.
    ///   - connectionsPerHost: The transport's pool size (a worker's concurrency).
    func setup(
        tokens: TokenStore, limiter: RateLimiter, allowOverrides: Bool, logger: Logger, connectionsPerHost: Int? = nil
    ) throws -> Setup? {
        guard self.isConfigured else { return nil }
        try self.checkOverrides(allowed: allowOverrides, logger: logger)
        let baseURL = try self.baseURLValue()
        let clientID = try self.clientIDValue()
        let secret = try self.clientSecret()
        let fraudPrevention = try self.fraudPrevention(clientID: clientID, logger: logger)
        var configuration = self.transportConfiguration()
        if let connectionsPerHost {
            configuration.connectionPool.maximumConnectionsPerHost = max(
                connectionsPerHost, configuration.connectionPool.maximumConnectionsPerHost)
        }
        let transport = try GatewayTransport(configuration: configuration, logger: logger)
        let refresher = HMRCTokenClient(baseURL: baseURL, clientID: clientID, clientSecret: secret, transport: transport, logger: logger)
        return Setup(
            transport: transport, refresher: refresher,
            call: PacedGatewayCall.Dependencies(
                gateway: .hmrc, transport: transport, tokens: tokens, refresher: refresher, limiter: limiter),
            baseURL: baseURL, fraudPrevention: fraudPrevention)
    }
}
