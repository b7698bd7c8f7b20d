import Foundation
import NIOSSL
import PostgresNIO

/// How a connection to PostgreSQL is protected, read from a URL's `sslmode` and `sslrootcert` with libpq's
/// meanings, and with a safe default where libpq's is not.
///
/// | `sslmode` | loopback host | any other host |
/// |---|---|---|
/// | absent | `disable` (plain text on this machine) | `verify-full` (libpq would `prefer` both: plain text if the server offers no TLS) |
/// | `disable` | plain text | plain text (asked for explicitly) |
/// | `allow`, `prefer` | TLS if the server offers it, else plain text | refused: it falls back to plain text silently |
/// | `require` | TLS, certificate not checked (checked against `sslrootcert` when one is given, as libpq does) | same |
/// | `verify-ca` | TLS, chain checked against `sslrootcert` (or the system roots) | same |
/// | `verify-full` | `verify-ca` plus the certificate must name the host | same |
///
/// `sslrootcert` is a PEM file of trusted roots (a private CA), or `system` for the system's roots.
public struct DatabaseTLSPolicy: Sendable, Hashable {
    /// What is checked of the server.
    public enum Mode: String, Sendable, Hashable {
        /// Plain text.
        case disable
        /// TLS when the server offers it, plain text otherwise.
        case prefer
        /// TLS, the certificate not checked.
        case require
        /// TLS, the certificate chain checked.
        case verifyCA = "verify-ca"
        /// TLS, the chain checked and the host name matched.
        case verifyFull = "verify-full"
    }

    /// The mode in force.
    public var mode: Mode
    /// A PEM file of trusted roots; `nil` for the system's roots.
    public var rootCertificatePath: String?

    /// Reads the policy for `host` from a URL's query items.
    public init(host: String, queryItems: [URLQueryItem]) throws {
        let requested = queryItems.last { $0.name == "sslmode" }?.value
        let rootCertificate = queryItems.last { $0.name == "sslrootcert" }?.value.flatMap { $0.isEmpty ? nil : $0 }
        self.rootCertificatePath = rootCertificate == "system" ? nil : rootCertificate
        let loopback = Self.isLoopback(host)
        switch requested {
        case nil:
            self.mode = loopback ? .disable : .verifyFull
        case "disable":
            self.mode = .disable
        case "allow", "prefer":
            guard loopback else {
                throw QueueError(
                    .invalidDatabaseURL,
                    "sslmode=\(requested!) falls back to plain text when \(host) offers no TLS; use sslmode=verify-full (or require, verify-ca), or sslmode=disable to accept plain text")
            }
            self.mode = .prefer
        case "require":
            // libpq: with a root certificate file, require verifies the chain as verify-ca does.
            self.mode = rootCertificate == nil ? .require : .verifyCA
        case "verify-ca":
            self.mode = .verifyCA
        case "verify-full":
            self.mode = .verifyFull
        case let other?:
            throw QueueError(
                .invalidDatabaseURL,
                "unsupported sslmode '\(other)' (disable, allow, prefer, require, verify-ca or verify-full)")
        }
        if let path = self.rootCertificatePath, !FileManager.default.isReadableFile(atPath: path) {
            throw QueueError(.invalidDatabaseURL, "cannot read sslrootcert \(path)")
        }
    }

    /// Whether the connection may be made in plain text.
    public var allowsPlainText: Bool { self.mode == .disable || self.mode == .prefer }

    /// PostgresNIO's TLS setting for this policy.
    public func tls() throws -> PostgresClient.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let path = self.rootCertificatePath {
            configuration.trustRoots = .file(path)
        }
        switch self.mode {
        case .disable:
            return .disable
        case .prefer:
            configuration.certificateVerification = .none
            return .prefer(configuration)
        case .require:
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyCA:
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
            return .require(configuration)
        }
    }

    /// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
