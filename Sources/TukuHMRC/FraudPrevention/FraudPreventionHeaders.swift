import Foundation
import NIOHTTP1
import TukuCore

/// Builds HMRC's fraud prevention headers for one call, from the job's client values and Tuku's own vendor values.
///
/// The headers and formats are those of HMRC's specification (v3.3) for the two connection methods Tuku uses:
/// `WEB_APP_VIA_SERVER` (client values captured upstream in the user's session) and `BATCH_PROCESS_DIRECT` (no
/// user: the values describe the filing process, from ``Configuration/batchProcess``). Keys and values of
/// `key=value` lists are percent-encoded, separators (`=`, `&`, `,`) are not. A missing or malformed client value is a
/// `JobError` naming the header (`fraud_header_missing`, `fraud_header_invalid`), so the job is rejected before any call.
public struct FraudPreventionHeaders: Sendable {
    /// Tuku's own (vendor) values.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The values of the process itself, for `BATCH_PROCESS_DIRECT` (read from the host by the caller).
        public struct BatchProcess: Sendable, Hashable, Codable {
            /// `Gov-Client-Device-ID`: a UUID persisted for this installation.
            public var deviceID: String
            /// `Gov-Client-Local-IPs`: the host's local addresses.
            public var localIPs: [String]
            /// `Gov-Client-MAC-Addresses`: the host's MAC addresses (`aa:bb:cc:dd:ee:ff`).
            public var macAddresses: [String]
            /// `Gov-Client-Timezone`: `UTC±hh:mm`.
            public var timezone: String
            /// `Gov-Client-User-Agent`: operating system family and version, device manufacturer and model.
            public var osFamily: String
            /// See ``osFamily``.
            public var osVersion: String
            /// See ``osFamily``.
            public var deviceManufacturer: String
            /// See ``osFamily``.
            public var deviceModel: String
            /// `Gov-Client-User-IDs`: e.g. `["os": "tuku"]`, the account the process runs as.
            public var userIDs: [String: String]

            /// Creates the batch values.
            public init(
                deviceID: String, localIPs: [String], macAddresses: [String], timezone: String, osFamily: String, osVersion: String,
                deviceManufacturer: String, deviceModel: String, userIDs: [String: String]
            ) {
                self.deviceID = deviceID
                self.localIPs = localIPs
                self.macAddresses = macAddresses
                self.timezone = timezone
                self.osFamily = osFamily
                self.osVersion = osVersion
                self.deviceManufacturer = deviceManufacturer
                self.deviceModel = deviceModel
                self.userIDs = userIDs
            }
        }

        /// One hop of `Gov-Vendor-Forwarded` after the first: a server that terminates TLS (`by`) and the address
        /// that connected to it (`for`).
        public struct ForwardedHop: Sendable, Hashable, Codable {
            /// The IP address of the server that received the connection.
            public var by: String
            /// The IP address that connected to it.
            public var `for`: String

            /// Creates a hop.
            public init(by: String, for forAddress: String) {
                self.by = by
                self.for = forAddress
            }
        }

        /// `Gov-Vendor-Product-Name`. Defaults to `Tuku`.
        public var productName: String
        /// `Gov-Vendor-Version`: software name → version, for every part of the vendor's software on the path.
        public var versions: [String: String]
        /// `Gov-Vendor-License-IDs`: software name → hashed licence key.
        public var licenseIDs: [String: String]
        /// `Gov-Vendor-Public-IP`: the public address of the server that calls HMRC (`WEB_APP_VIA_SERVER`); also the
        /// first hop's `by` in `Gov-Vendor-Forwarded`. Defaults to `nil` (then only `BATCH_PROCESS_DIRECT` jobs can be sent).
        public var publicIP: String?
        /// The process's own values for `BATCH_PROCESS_DIRECT`. Defaults to `nil` (then only `WEB_APP_VIA_SERVER` jobs).
        public var batchProcess: BatchProcess?
        /// The hops of `Gov-Vendor-Forwarded` after the first (`by` = ``publicIP``, `for` = the client), in order: the
        /// vendor's own TLS-terminating servers behind its public address (a load balancer's backend, say).
        /// Defaults to `nil` (none).
        public var forwardedHops: [ForwardedHop]?

        /// Creates a configuration.
        public init(
            productName: String = "Tuku", versions: [String: String], licenseIDs: [String: String], publicIP: String? = nil,
            batchProcess: BatchProcess? = nil
        ) {
            self.productName = productName
            self.versions = versions
            self.licenseIDs = licenseIDs
            self.publicIP = publicIP
            self.batchProcess = batchProcess
        }
    }

    /// The configuration.
    public let configuration: Configuration

    /// Checks the configuration; throws a `JobError` with code `fraud_vendor_config_invalid` listing every problem.
    public init(configuration: Configuration) throws(JobError) {
        var problems: [JobError.Problem] = []
        func add(_ path: String, _ reason: String) { problems.append(JobError.Problem(path: path, reason: reason)) }
        if configuration.productName.isEmpty { add("productName", "Gov-Vendor-Product-Name: must not be empty") }
        if configuration.versions.isEmpty { add("versions", "Gov-Vendor-Version: at least one software=version pair is required") }
        if configuration.licenseIDs.isEmpty {
            add("licenseIDs", "Gov-Vendor-License-IDs: at least one software=licence pair is required")
        }
        if let ip = configuration.publicIP, let reason = Self.publicIPProblem(ip) { add("publicIP", "Gov-Vendor-Public-IP: \(reason)") }
        for (index, hop) in (configuration.forwardedHops ?? []).enumerated()
        where Self.ipKind(hop.by) == nil || Self.ipKind(hop.for) == nil {
            add("forwardedHops[\(index)]", "Gov-Vendor-Forwarded: each hop needs by and for IP addresses")
        }
        if let batch = configuration.batchProcess {
            if UUID(uuidString: batch.deviceID) == nil { add("batchProcess.deviceID", "Gov-Client-Device-ID: not a UUID") }
            if batch.localIPs.isEmpty || batch.localIPs.contains(where: { Self.ipKind($0) == nil }) {
                add("batchProcess.localIPs", "Gov-Client-Local-IPs: at least one IP address, each valid")
            }
            if batch.macAddresses.isEmpty
                || batch.macAddresses.contains(where: { !Self.matches($0, #"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$"#) })
            {
                add("batchProcess.macAddresses", "Gov-Client-MAC-Addresses: at least one MAC address aa:bb:cc:dd:ee:ff")
            }
            if !Self.matches(batch.timezone, Self.timezonePattern) { add("batchProcess.timezone", "Gov-Client-Timezone: not UTC±hh:mm") }
            if [batch.osFamily, batch.osVersion, batch.deviceManufacturer, batch.deviceModel].contains(where: \.isEmpty) {
                add("batchProcess", "Gov-Client-User-Agent: osFamily, osVersion, deviceManufacturer and deviceModel are required")
            }
            if batch.userIDs.isEmpty { add("batchProcess.userIDs", "Gov-Client-User-IDs: at least one key=value pair is required") }
        }
        guard problems.isEmpty else {
            throw JobError(
                code: "fraud_vendor_config_invalid", message: "the fraud prevention vendor configuration is not usable", problems: problems)
        }
        self.configuration = configuration
    }

    /// The headers for one call, in a fixed order. `now` stamps `Gov-Client-Local-IPs-Timestamp` for
    /// `BATCH_PROCESS_DIRECT` (the local addresses are the configured ones, current when the call is built).
    ///
    /// Throws a `JobError`: `fraud_header_missing` when a required value is absent (every header named in the
    /// problems, with the payload path), `fraud_header_invalid` when values are present but malformed, and
    /// `fraud_vendor_unconfigured` when the configuration has no values for the job's connection method.
    public func headers(for client: FraudPreventionClientValues, now: Date) throws(JobError) -> HTTPHeaders {
        switch client.connectionMethod {
        case .webAppViaServer: return try webAppViaServer(client)
        case .batchProcessDirect: return try batchProcessDirect(now: now)
        }
    }

    // MARK: WEB_APP_VIA_SERVER

    private func webAppViaServer(_ client: FraudPreventionClientValues) throws(JobError) -> HTTPHeaders {
        guard let vendorIP = configuration.publicIP else {
            throw JobError(
                code: "fraud_vendor_unconfigured",
                message: "no Gov-Vendor-Public-IP is configured, so WEB_APP_VIA_SERVER jobs cannot be sent")
        }
        var check = Check()
        let ip = check.value(client.publicIP, "Gov-Client-Public-IP", "publicIP") { Self.publicIPProblem($0) }
        let stamp = check.value(client.publicIPTimestamp, "Gov-Client-Public-IP-Timestamp", "publicIPTimestamp") {
            Self.matches($0, Self.millisecondTimestampPattern) ? nil : "not a UTC timestamp yyyy-MM-ddThh:mm:ss.sssZ"
        }
        let port = check.value(client.publicPort, "Gov-Client-Public-Port", "publicPort") {
            (1...65535).contains($0) ? nil : "not a port number 1-65535"
        }
        let device = check.value(client.deviceID, "Gov-Client-Device-ID", "deviceID") { UUID(uuidString: $0) == nil ? "not a UUID" : nil }
        let users = check.value(client.userIDs, "Gov-Client-User-IDs", "userIDs") { ids in
            ids.isEmpty
                ? "at least one user id is required"
                : ids.contains(where: { $0.key.isEmpty || $0.value.isEmpty }) ? "keys and values must not be empty" : nil
        }
        let zone = check.value(client.timezone, "Gov-Client-Timezone", "timezone") {
            Self.matches($0, Self.timezonePattern) ? nil : "not a UTC offset UTC±hh:mm"
        }
        let screens = check.value(client.screens, "Gov-Client-Screens", "screens") { screens in
            if screens.isEmpty { return "at least one screen is required" }
            for (index, screen) in screens.enumerated() {
                guard let width = screen.width, width > 0, let height = screen.height, height > 0, let scale = screen.scalingFactor,
                    scale > 0, let depth = screen.colourDepth, depth > 0
                else { return "screens[\(index)] needs width, height, scalingFactor and colourDepth, all above zero" }
            }
            return nil
        }
        let window = check.value(client.windowSize, "Gov-Client-Window-Size", "windowSize") {
            guard let width = $0.width, width > 0, let height = $0.height, height > 0 else { return "needs width and height above zero" }
            return nil
        }
        let agent = check.value(client.browserJSUserAgent, "Gov-Client-Browser-JS-User-Agent", "browserJSUserAgent") {
            Self.isVisibleASCII($0) ? nil : "must be printable ASCII, as navigator.userAgent reports it"
        }
        let factors = check.value(client.multiFactor, "Gov-Client-Multi-Factor", "multiFactor") { factors in
            if factors.isEmpty { return "at least one factor is required" }
            for (index, factor) in factors.enumerated() {
                guard let type = factor.type, ["TOTP", "AUTH_CODE", "OTHER"].contains(type) else {
                    return "multiFactor[\(index)].type must be TOTP, AUTH_CODE or OTHER"
                }
                guard let stamp = factor.timestamp, Self.matches(stamp, #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}Z$"#) else {
                    return "multiFactor[\(index)].timestamp must be yyyy-MM-ddThh:mmZ"
                }
                guard let reference = factor.uniqueReference, !reference.isEmpty else {
                    return "multiFactor[\(index)].uniqueReference is required"
                }
            }
            return nil
        }
        try check.finish()
        guard let ip, let stamp, let port, let device, let users, let zone, let screens, let window, let agent, let factors else {
            throw JobError(code: "fraud_header_missing", message: "a fraud prevention value is missing")  // unreachable after finish()
        }
        var headers = HTTPHeaders()
        headers.add(name: "Gov-Client-Connection-Method", value: "WEB_APP_VIA_SERVER")
        headers.add(name: "Gov-Client-Browser-JS-User-Agent", value: agent)
        headers.add(name: "Gov-Client-Device-ID", value: device)
        headers.add(
            name: "Gov-Client-Multi-Factor",
            value: factors.map {
                Self.keyValues([("type", $0.type ?? ""), ("timestamp", $0.timestamp ?? ""), ("unique-reference", $0.uniqueReference ?? "")])
            }.joined(separator: ","))
        headers.add(name: "Gov-Client-Public-IP", value: ip)
        headers.add(name: "Gov-Client-Public-IP-Timestamp", value: stamp)
        headers.add(name: "Gov-Client-Public-Port", value: String(port))
        headers.add(
            name: "Gov-Client-Screens",
            value: screens.map {
                Self.keyValues([
                    ("width", String($0.width ?? 0)), ("height", String($0.height ?? 0)),
                    ("scaling-factor", "\($0.scalingFactor ?? 0)"), ("colour-depth", String($0.colourDepth ?? 0)),
                ])
            }.joined(separator: ","))
        headers.add(name: "Gov-Client-Timezone", value: zone)
        headers.add(name: "Gov-Client-User-IDs", value: Self.keyValues(users.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        headers.add(
            name: "Gov-Client-Window-Size",
            value: Self.keyValues([("width", String(window.width ?? 0)), ("height", String(window.height ?? 0))]))
        // Specification 3.3: the first hop is the vendor's own server, by = Gov-Vendor-Public-IP, for = the client.
        // Later hops (the vendor's servers behind that address) follow, comma-separated.
        let hops = [[("by", vendorIP), ("for", ip)]] + (configuration.forwardedHops ?? []).map { [("by", $0.by), ("for", $0.for)] }
        headers.add(name: "Gov-Vendor-Forwarded", value: hops.map(Self.keyValues).joined(separator: ","))
        addVendor(to: &headers, publicIP: vendorIP)
        return headers
    }

    // MARK: BATCH_PROCESS_DIRECT

    private func batchProcessDirect(now: Date) throws(JobError) -> HTTPHeaders {
        guard let batch = configuration.batchProcess else {
            throw JobError(
                code: "fraud_vendor_unconfigured",
                message: "no batch process values are configured, so BATCH_PROCESS_DIRECT jobs cannot be sent")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Gov-Client-Connection-Method", value: "BATCH_PROCESS_DIRECT")
        headers.add(name: "Gov-Client-Device-ID", value: batch.deviceID)
        headers.add(name: "Gov-Client-Local-IPs", value: batch.localIPs.map(Self.percentEncoded).joined(separator: ","))
        headers.add(name: "Gov-Client-Local-IPs-Timestamp", value: Self.millisecondTimestamp(now))
        headers.add(name: "Gov-Client-MAC-Addresses", value: batch.macAddresses.map(Self.percentEncoded).joined(separator: ","))
        headers.add(name: "Gov-Client-Timezone", value: batch.timezone)
        headers.add(
            name: "Gov-Client-User-Agent",
            value: Self.keyValues([
                ("os-family", batch.osFamily), ("os-version", batch.osVersion), ("device-manufacturer", batch.deviceManufacturer),
                ("device-model", batch.deviceModel),
            ]))
        headers.add(name: "Gov-Client-User-IDs", value: Self.keyValues(batch.userIDs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        addVendor(to: &headers, publicIP: nil)
        return headers
    }

    private func addVendor(to headers: inout HTTPHeaders, publicIP: String?) {
        headers.add(
            name: "Gov-Vendor-License-IDs",
            value: Self.keyValues(configuration.licenseIDs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        headers.add(name: "Gov-Vendor-Product-Name", value: Self.percentEncoded(configuration.productName))
        if let publicIP { headers.add(name: "Gov-Vendor-Public-IP", value: publicIP) }
        headers.add(
            name: "Gov-Vendor-Version", value: Self.keyValues(configuration.versions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    // MARK: Checking

    /// Collects missing and malformed client values.
    private struct Check {
        var missing: [JobError.Problem] = []
        var invalid: [JobError.Problem] = []

        mutating func value<Value>(_ value: Value?, _ header: String, _ key: String, _ problem: (Value) -> String?) -> Value? {
            guard let value else {
                missing.append(JobError.Problem(path: "fraudPrevention.\(key)", reason: "\(header): required for WEB_APP_VIA_SERVER"))
                return nil
            }
            if let reason = problem(value) {
                invalid.append(JobError.Problem(path: "fraudPrevention.\(key)", reason: "\(header): \(reason)"))
                return nil
            }
            return value
        }

        func finish() throws(JobError) {
            if !missing.isEmpty {
                let names = missing.map { String($0.reason.prefix { $0 != ":" }) }.joined(separator: ", ")
                throw JobError(
                    code: "fraud_header_missing", message: "HMRC requires fraud prevention headers this job has no value for: \(names)",
                    problems: missing + invalid)
            }
            if !invalid.isEmpty {
                let names = invalid.map { String($0.reason.prefix { $0 != ":" }) }.joined(separator: ", ")
                throw JobError(
                    code: "fraud_header_invalid", message: "fraud prevention values HMRC would refuse: \(names)", problems: invalid)
            }
        }
    }

    // MARK: Formats

    static let timezonePattern = #"^UTC[+-](0[0-9]|1[0-4]):[0-5][0-9]$"#
    static let millisecondTimestampPattern = #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"#

    /// `key=value&key=value`, every key and value percent-encoded, the separators not.
    public static func keyValues(_ pairs: [(String, String)]) -> String {
        pairs.map { percentEncoded($0.0) + "=" + percentEncoded($0.1) }.joined(separator: "&")
    }

    /// Percent-encodes every UTF-8 byte except RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
    public static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// `yyyy-MM-ddThh:mm:ss.sssZ` in UTC.
    static func millisecondTimestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = milliseconds.quotientAndRemainder(dividingBy: 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds.quotient)))
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        return String(format: "%04d", parts.year ?? 0) + "-" + two(parts.month) + "-" + two(parts.day) + "T" + two(parts.hour) + ":"
            + two(parts.minute) + ":" + two(parts.second) + "." + String(format: "%03d", Int(seconds.remainder)) + "Z"
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    static func isVisibleASCII(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    static func publicIPProblem(_ text: String) -> String? {
        switch ipKind(text) {
        case nil: "not an IP address"
        case .privateAddress?: "a private, loopback or link-local address is not a public IP"
        case .publicAddress?: nil
        }
    }

    enum IPKind { case publicAddress, privateAddress }

    static func ipKind(_ text: String) -> IPKind? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let octets = text.split(separator: ".").compactMap { Int($0) }
            guard octets.count == 4 else { return nil }
            let isPrivate =
                octets[0] == 10 || octets[0] == 127 || octets[0] == 0 || (octets[0] == 172 && (16...31).contains(octets[1]))
                || (octets[0] == 192 && octets[1] == 168) || (octets[0] == 169 && octets[1] == 254)
                || (octets[0] == 100 && (64...127).contains(octets[1]))
            return isPrivate ? .privateAddress : .publicAddress
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let lowered = text.lowercased()
            let isPrivate =
                lowered == "::1" || lowered == "::" || lowered.hasPrefix("fe80:") || lowered.hasPrefix("fc") || lowered.hasPrefix("fd")
            return isPrivate ? .privateAddress : .publicAddress
        }
        return nil
    }
}
