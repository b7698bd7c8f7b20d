import Foundation
import NIOHTTP1

/// Checks HMRC's fraud prevention headers the way HMRC's Test Fraud Prevention Headers API does, for the two
/// connection methods Tuku uses: `WEB_APP_VIA_SERVER` (a server filing for users of an upstream web app) and
/// `BATCH_PROCESS_DIRECT` (a process with no user). Every required header must be present and well formed:
/// percent-encoded `key=value` lists where the specification says so, IP addresses, ports, UUIDs, UTC offsets and
/// `yyyy-MM-ddThh:mm:ss.sssZ` timestamps. Other connection methods are not checked.
public enum HMRCFraudPreventionCheck {
    /// One problem: the header and what is wrong with it.
    public struct Problem: Sendable, Hashable {
        /// The header, e.g. `Gov-Client-Public-IP`.
        public var header: String
        /// `MISSING_HEADER` or `INVALID_HEADER`.
        public var code: String
        /// What is wrong.
        public var message: String
    }

    private enum Format {
        case connectionMethod, text, publicIP, timestamp, port, uuid, timezone, keyValues, multiFactor, screens, windowSize,
            localIPs, macAddresses, forwarded, userAgent
    }

    private static let webAppViaServer: [(String, Format)] = [
        ("Gov-Client-Connection-Method", .connectionMethod), ("Gov-Client-Browser-JS-User-Agent", .text),
        ("Gov-Client-Device-ID", .uuid), ("Gov-Client-Multi-Factor", .multiFactor), ("Gov-Client-Public-IP", .publicIP),
        ("Gov-Client-Public-IP-Timestamp", .timestamp), ("Gov-Client-Public-Port", .port), ("Gov-Client-Screens", .screens),
        ("Gov-Client-Timezone", .timezone), ("Gov-Client-User-IDs", .keyValues), ("Gov-Client-Window-Size", .windowSize),
        ("Gov-Vendor-Forwarded", .forwarded), ("Gov-Vendor-License-IDs", .keyValues), ("Gov-Vendor-Product-Name", .text),
        ("Gov-Vendor-Public-IP", .publicIP), ("Gov-Vendor-Version", .keyValues),
    ]

    private static let batchProcessDirect: [(String, Format)] = [
        ("Gov-Client-Connection-Method", .connectionMethod), ("Gov-Client-Device-ID", .uuid), ("Gov-Client-Local-IPs", .localIPs),
        ("Gov-Client-Local-IPs-Timestamp", .timestamp), ("Gov-Client-MAC-Addresses", .macAddresses),
        ("Gov-Client-Timezone", .timezone), ("Gov-Client-User-Agent", .userAgent), ("Gov-Client-User-IDs", .keyValues),
        ("Gov-Vendor-License-IDs", .keyValues), ("Gov-Vendor-Product-Name", .text), ("Gov-Vendor-Version", .keyValues),
    ]

    /// The connection methods HMRC defines (others are invalid).
    static let connectionMethods: Set<String> = [
        "MOBILE_APP_DIRECT", "DESKTOP_APP_DIRECT", "MOBILE_APP_VIA_SERVER", "DESKTOP_APP_VIA_SERVER", "WEB_APP_VIA_SERVER",
        "BATCH_PROCESS_DIRECT", "OTHER_DIRECT", "OTHER_VIA_SERVER",
    ]

    /// The problems with the request's headers; empty when they pass (or the method is one not checked).
    public static func problems(_ headers: HTTPHeaders) -> [Problem] {
        guard let method = headers.first(name: "Gov-Client-Connection-Method") else {
            return [Problem(header: "Gov-Client-Connection-Method", code: "MISSING_HEADER", message: "the header is missing")]
        }
        let required: [(String, Format)]
        switch method {
        case "WEB_APP_VIA_SERVER": required = webAppViaServer
        case "BATCH_PROCESS_DIRECT": required = batchProcessDirect
        case _ where connectionMethods.contains(method): return []
        default:
            return [Problem(header: "Gov-Client-Connection-Method", code: "INVALID_HEADER", message: "unknown connection method")]
        }
        var problems: [Problem] = []
        for (name, format) in required {
            guard let value = headers.first(name: name), !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                problems.append(Problem(header: name, code: "MISSING_HEADER", message: "the header is missing or empty"))
                continue
            }
            if let reason = check(value, format, headers: headers) {
                problems.append(Problem(header: name, code: "INVALID_HEADER", message: reason))
            }
        }
        return problems
    }

    private static func check(_ value: String, _ format: Format, headers: HTTPHeaders) -> String? {
        switch format {
        case .connectionMethod, .text:
            return nil
        case .publicIP:
            guard let kind = ipKind(value) else { return "not an IP address" }
            return kind == .publicAddress ? nil : "a private, loopback or link-local address is not a public IP"
        case .timestamp:
            return value.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"#, options: .regularExpression) == nil
                ? "not a UTC timestamp yyyy-MM-ddThh:mm:ss.sssZ" : nil
        case .port:
            guard let port = Int(value), (1...65535).contains(port) else { return "not a port number 1-65535" }
            return nil
        case .uuid:
            return UUID(uuidString: value) == nil ? "not a UUID" : nil
        case .timezone:
            return value.range(of: #"^UTC[+-](0[0-9]|1[0-4]):[0-5][0-9]$"#, options: .regularExpression) == nil
                ? "not a UTC offset UTC±hh:mm" : nil
        case .keyValues:
            return keyValues(value) == nil ? "not a percent-encoded key=value list" : nil
        case .userAgent:
            guard let pairs = keyValues(value) else { return "not a percent-encoded key=value list" }
            let keys = Set(pairs.map(\.0))
            let expected: Set<String> = ["os-family", "os-version", "device-manufacturer", "device-model"]
            return expected.isSubset(of: keys) ? nil : "needs os-family, os-version, device-manufacturer and device-model"
        case .multiFactor:
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let pairs = keyValues(String(item)) else { return "not a list of percent-encoded key=value lists" }
                let map = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
                guard let type = map["type"], ["TOTP", "AUTH_CODE", "OTHER"].contains(type), let stamp = map["timestamp"],
                    stamp.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}Z$"#, options: .regularExpression) != nil,
                    let reference = map["unique-reference"], !reference.isEmpty
                else { return "each factor needs type (TOTP, AUTH_CODE or OTHER), timestamp (yyyy-MM-ddThh:mmZ) and unique-reference" }
            }
            return nil
        case .screens:
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let pairs = keyValues(String(item)) else { return "not a list of percent-encoded key=value lists" }
                let map = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
                guard let width = map["width"].flatMap(Int.init), width > 0, let height = map["height"].flatMap(Int.init), height > 0,
                    map["scaling-factor"].flatMap(Double.init) != nil, map["colour-depth"].flatMap(Int.init) != nil
                else { return "each screen needs width, height, scaling-factor and colour-depth" }
            }
            return nil
        case .windowSize:
            guard let pairs = keyValues(value) else { return "not a percent-encoded key=value list" }
            let map = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
            guard let width = map["width"].flatMap(Int.init), width > 0, let height = map["height"].flatMap(Int.init), height > 0 else {
                return "needs width and height in pixels"
            }
            return nil
        case .localIPs:
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let decoded = percentDecoded(String(item)), ipKind(decoded) != nil else { return "not a list of percent-encoded IP addresses" }
            }
            return nil
        case .macAddresses:
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let decoded = percentDecoded(String(item)),
                    decoded.range(of: #"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$"#, options: .regularExpression) != nil
                else { return "not a list of percent-encoded MAC addresses" }
            }
            return nil
        case .forwarded:
            var first = true
            for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let pairs = keyValues(String(item)) else { return "not a list of by=…&for=… hops" }
                let map = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
                guard let by = map["by"], ipKind(by) != nil, let forAddress = map["for"], ipKind(forAddress) != nil else {
                    return "each hop needs by and for IP addresses"
                }
                // Specification 3.3: the first hop is the vendor's own server, so its `by` is Gov-Vendor-Public-IP.
                if first, let vendor = headers.first(name: "Gov-Vendor-Public-IP"), vendor != by {
                    return "the first hop's by must be Gov-Vendor-Public-IP"
                }
                first = false
            }
            return nil
        }
    }

    /// `key=value&key=value`, keys and values percent-encoded (unreserved characters and `%HH` only), decoded.
    static func keyValues(_ text: String) -> [(String, String)]? {
        var result: [(String, String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: false) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let key = percentDecoded(String(parts[0])),
                let value = percentDecoded(String(parts[1]))
            else { return nil }
            result.append((key, value))
        }
        return result.isEmpty ? nil : result
    }

    /// Decodes text made only of unreserved characters and `%HH` escapes; `nil` for anything else.
    static func percentDecoded(_ text: String) -> String? {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
        guard text.allSatisfy({ unreserved.contains($0) }) else { return nil }
        return text.removingPercentEncoding
    }

    private enum IPKind { case publicAddress, privateAddress }

    private static func ipKind(_ text: String) -> IPKind? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let octets = text.split(separator: ".").compactMap { Int($0) }
            guard octets.count == 4 else { return nil }
            let isPrivate =
                octets[0] == 10 || octets[0] == 127 || octets[0] == 0 || (octets[0] == 172 && (16...31).contains(octets[1]))
                || (octets[0] == 192 && octets[1] == 168) || (octets[0] == 169 && octets[1] == 254)
            return isPrivate ? .privateAddress : .publicAddress
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let lowered = text.lowercased()
            let isPrivate = lowered == "::1" || lowered == "::" || lowered.hasPrefix("fe80:") || lowered.hasPrefix("fc") || lowered.hasPrefix("fd")
            return isPrivate ? .privateAddress : .publicAddress
        }
        return nil
    }
}
