import Foundation
import PostgresNIO

extension PostgresClient.Configuration {
    /// Reads a `postgres://user:password@host:port/database?sslmode=...&sslrootcert=...` URL.
    ///
    /// `sslmode` and `sslrootcert` keep libpq's meanings (``DatabaseTLSPolicy``); without `sslmode`, a loopback
    /// host is plain text and any other host `verify-full`, and plain text to another host must be asked for with
    /// `sslmode=disable`. The password never appears in errors.
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
        let tls = try DatabaseTLSPolicy(host: host, queryItems: components.queryItems ?? []).tls()
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

/// Where a command finds its database URL: `--database-url`, then `--database-url-file`, then the environment's
/// `TUKU_DATABASE_URL`, then `TUKU_DATABASE_URL_FILE` (a file holding the URL, such as a mounted secret, so that
/// the password stays out of the process's arguments and environment).
public enum DatabaseURLSource {
    /// The URL from the first source given. A file's surrounding whitespace is ignored.
    public static func resolve(url: String?, file: String?, environment: [String: String]) throws -> String {
        if let url, !url.isEmpty { return url }
        if let file, !file.isEmpty { return try Self.read(file) }
        if let url = environment["TUKU_DATABASE_URL"], !url.isEmpty { return url }
        if let file = environment["TUKU_DATABASE_URL_FILE"], !file.isEmpty { return try Self.read(file) }
        throw QueueError(
            .invalidDatabaseURL,
            "no database: pass --database-url or --database-url-file, or set TUKU_DATABASE_URL or TUKU_DATABASE_URL_FILE")
    }

    private static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QueueError(.invalidDatabaseURL, "cannot read the database URL file \(path)")
        }
        let url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.isEmpty else { throw QueueError(.invalidDatabaseURL, "the database URL file \(path) is empty") }
        return url
    }
}
