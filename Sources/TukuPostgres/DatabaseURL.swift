import Foundation
import PostgresNIO

extension PostgresClient.Configuration {
    /// Reads a `postgres://user:password@host:port/database?sslmode=...` URL.
    ///
    /// `sslmode=disable` (or no `sslmode`) connects in plain text, as on loopback; `require` uses TLS with
    /// the system's trust roots. The password never appears in errors.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw QueueError(.invalidDatabaseURL, "expected postgres://user:password@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw QueueError(.invalidDatabaseURL, "the URL names no user")
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let database = components.path.isEmpty ? user : String(components.path.dropFirst())
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw QueueError(.invalidDatabaseURL, "unsupported sslmode '\(sslMode)'")
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.removingPercentEncoding ?? database,
            tls: tls
        )
    }
}
