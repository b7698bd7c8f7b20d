import Foundation
import Logging
import PostgresNIO
import Testing
import TukuPostgres
import TukuTestSupport

/// `sslmode` and `sslrootcert` with libpq's meanings, and plain text to another host only when asked for.
@Suite("Database TLS policy")
struct DatabaseTLSPolicyTests {
    static func policy(_ host: String, _ query: String = "") throws -> DatabaseTLSPolicy {
        let items = URLComponents(string: "postgres://u@h/db?\(query)")?.queryItems ?? []
        return try DatabaseTLSPolicy(host: host, queryItems: items)
    }

    @Test("without sslmode a loopback host is plain text and any other host requires a verified certificate")
    func defaults() throws {
        #expect(try Self.policy("127.0.0.1").mode == .disable)
        #expect(try Self.policy("localhost").mode == .disable)
        #expect(try Self.policy("::1").mode == .disable)
        #expect(try Self.policy("db.internal").mode == .verifyFull)
        #expect(try Self.policy("10.0.0.7").mode == .verifyFull)
        #expect(try !Self.policy("db.internal").allowsPlainText)
    }

    @Test("prefer and allow, which fall back to plain text silently, are refused for another host")
    func preferRefusedRemotely() throws {
        #expect(throws: QueueError.self) { try Self.policy("db.internal", "sslmode=prefer") }
        #expect(throws: QueueError.self) { try Self.policy("db.internal", "sslmode=allow") }
        #expect(try Self.policy("127.0.0.1", "sslmode=prefer").mode == .prefer)
    }

    @Test("sslmode=disable is plain text anywhere, because it was asked for")
    func disableAsked() throws {
        #expect(try Self.policy("db.internal", "sslmode=disable").mode == .disable)
    }

    @Test("require with an sslrootcert verifies the chain, as libpq does; an unknown mode or unreadable root file is refused")
    func requireWithRoot() throws {
        #expect(try Self.policy("db.internal", "sslmode=require").mode == .require)
        #expect(try Self.policy("db.internal", "sslmode=require&sslrootcert=/etc/hostname").mode == .verifyCA)
        #expect(try Self.policy("db.internal", "sslmode=verify-full&sslrootcert=system").rootCertificatePath == nil)
        #expect(throws: QueueError.self) { try Self.policy("db.internal", "sslmode=verify-everything") }
        #expect(throws: QueueError.self) { try Self.policy("db.internal", "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem") }
    }

    @Test("loopback is 127.0.0.0/8, ::1 and localhost only")
    func loopback() {
        #expect(DatabaseTLSPolicy.isLoopback("127.9.8.7"))
        #expect(DatabaseTLSPolicy.isLoopback("[::1]"))
        #expect(!DatabaseTLSPolicy.isLoopback("127.example.com"))
        #expect(!DatabaseTLSPolicy.isLoopback("128.0.0.1"))
        #expect(!DatabaseTLSPolicy.isLoopback("localhost.evil.example"))
    }
}

/// The same policy against the test PostgreSQL with TLS switched on (by its superuser, over the local socket),
/// serving first a certificate for 127.0.0.1 and then one for another host name.
@Suite("Database TLS against a real server", .serialized)
struct DatabaseTLSServerTests {
    /// Runs SQL as the cluster's superuser over the Unix socket in `TUKU_PG_DIR`.
    static func superuser(_ sql: String) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let directory = environment["TUKU_PG_DIR"], let port = environment["PGPORT"] else {
            throw TestSupportError("TUKU_PG_DIR and PGPORT are not set: run the tests with scripts/test")
        }
        // The other suites share the server and may hold every connection slot for a moment ("too many clients"):
        // a few tries, and psql's own message if they all fail.
        var message = ""
        for attempt in 1...5 {
            let process = Process()
            let asRoot = getuid() == 0
            process.executableURL = URL(fileURLWithPath: asRoot ? "/usr/sbin/runuser" : "/usr/bin/env")
            process.arguments = (asRoot ? ["-u", "postgres", "--"] : []) + [
                "psql", "-q", "-X", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", port, "-U", "postgres", "-d", "postgres",
                "-c", sql,
            ]
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let output = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if process.terminationStatus == 0 { return }
            message = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if attempt < 5 { try await Task.sleep(for: .seconds(1)) }
        }
        throw TestSupportError("psql as the superuser failed: \(sql): \(message)")
    }

    /// Installs `certificate`/`key` as the server's TLS identity and turns TLS on (a reload, no restart).
    static func serve(_ certificates: TestCertificates, certificate: String, key: String) async throws {
        let directory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["TUKU_PG_DIR"]!).appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (source, target) in [(certificate, "server.crt"), (key, "server.key")] {
            let destination = directory.appendingPathComponent(target)
            try? FileManager.default.removeItem(at: destination)
            try FileManager.default.copyItem(atPath: certificates.path(source), toPath: destination.path)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination.path)
            if getuid() == 0 {
                try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: destination.path)
            }
        }
        if getuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path)
        }
        try await Self.superuser("ALTER SYSTEM SET ssl_cert_file = '\(directory.path)/server.crt'")
        try await Self.superuser("ALTER SYSTEM SET ssl_key_file = '\(directory.path)/server.key'")
        try await Self.superuser("ALTER SYSTEM SET ssl = on")
        try await Self.superuser("SELECT pg_reload_conf()")
        // The postmaster rereads its configuration asynchronously.
        try await Task.sleep(for: .seconds(1))
    }

    /// Whether a connection made from the test server's URL with `host` and `query` is encrypted; throws when it
    /// cannot be made (within 10 s).
    static func connectsEncrypted(host: String, query: String) async throws -> Bool {
        var components = URLComponents(string: try TestDatabase.serverURL())!
        components.host = host
        components.query = query
        let configuration = try PostgresClient.Configuration(url: components.string!)
        return try await TestDatabase.withClient(configuration) { client in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    let rows = try await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: Logger(label: "tls"))
                    for try await ssl in rows.decode(Bool.self) { return ssl }
                    return false
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    throw TestSupportError("no connection within 10 s")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
    }

    @Test("verify-full connects over TLS to a server whose certificate names the host and whose CA is the sslrootcert; another CA or another name is refused")
    func verification() async throws {
        let certificates = try TestCertificates.make()
        let ca = certificates.path("ca.pem")
        try await Self.serve(certificates, certificate: "server.pem", key: "server.key")
        #expect(try await Self.connectsEncrypted(host: "127.0.0.1", query: "sslmode=verify-full&sslrootcert=\(ca)"))
        #expect(try await Self.connectsEncrypted(host: "localhost", query: "sslmode=verify-full&sslrootcert=\(ca)"))
        // prefer takes TLS when the server offers it; the loopback default stays plain text.
        #expect(try await Self.connectsEncrypted(host: "127.0.0.1", query: "sslmode=prefer"))
        #expect(try await !Self.connectsEncrypted(host: "127.0.0.1", query: ""))
        await #expect(throws: (any Error).self) {
            _ = try await Self.connectsEncrypted(
                host: "127.0.0.1", query: "sslmode=verify-ca&sslrootcert=\(certificates.path("other-ca.pem"))")
        }
        // A certificate for another host: the chain is good (verify-ca connects), the name is not (verify-full refuses).
        try await Self.serve(certificates, certificate: "wronghost-server.pem", key: "wronghost-server.key")
        #expect(try await Self.connectsEncrypted(host: "127.0.0.1", query: "sslmode=verify-ca&sslrootcert=\(ca)"))
        await #expect(throws: (any Error).self) {
            _ = try await Self.connectsEncrypted(host: "127.0.0.1", query: "sslmode=verify-full&sslrootcert=\(ca)")
        }
        // The rest of the suite shares this server: TLS off again.
        try await Self.superuser("ALTER SYSTEM RESET ssl")
        try await Self.superuser("SELECT pg_reload_conf()")
    }
}
