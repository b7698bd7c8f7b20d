import Foundation

/// A `tuku sandbox` child process on ephemeral ports, with its arrival log, for tests that run real worker
/// processes against the real sandbox.
public final class SandboxProcess: @unchecked Sendable {  // Process is not Sendable; used from one test task.
    public let process: TukuProcess
    public let mutualTLSAddress: String
    public let oneWayTLSAddress: String
    public let arrivalsURL: URL
    public let certificates: TestCertificates

    /// Starts the sandbox with OAuth client `tuku-test:test-secret` and the given extra arguments (rate, faults…).
    public init(certificates: TestCertificates, arguments: [String] = []) async throws {
        self.certificates = certificates
        self.arrivalsURL = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-arrivals-\(UUID().uuidString).jsonl")
        self.process = try TukuProcess(
            [
                "sandbox", "--mtls-port", "0", "--tls-port", "0", "--cert", certificates.path("server.pem"),
                "--key", certificates.path("server.key"), "--ca", certificates.path("ca.pem"),
                "--client", "tuku-test:test-secret", "--arrivals", self.arrivalsURL.path, "--log-level", "warning",
            ] + arguments,
            databaseURL: "")
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let line = self.process.log.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                let fields = Dictionary(uniqueKeysWithValues: line.split(separator: " ").dropFirst().compactMap { field -> (String, String)? in
                    let parts = field.split(separator: "=", maxSplits: 1)
                    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                })
                self.mutualTLSAddress = fields["mtls"] ?? ""
                self.oneWayTLSAddress = fields["tls"] ?? ""
                return
            }
            guard ContinuousClock.now < deadline, self.process.process.isRunning else {
                throw TestSupportError("tuku sandbox did not start; log:\n\(self.process.log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The environment a `tuku worker` needs to file through this sandbox.
    public func workerEnvironment(tokenKey: String) -> [String: String] {
        [
            "TUKU_GATEWAY": "sandbox", "TUKU_GATEWAY_URL": "https://\(self.mutualTLSAddress)/gateway/",
            "TUKU_TLS_CERT": self.certificates.path("client.pem"), "TUKU_TLS_KEY": self.certificates.path("client.key"),
            "TUKU_TLS_CA": self.certificates.path("ca.pem"), "TUKU_OAUTH_TOKEN_URL": "https://\(self.mutualTLSAddress)/oauth/token",
            "TUKU_OAUTH_CLIENT_ID": "tuku-test", "TUKU_OAUTH_CLIENT_SECRET": "test-secret", "TUKU_TOKEN_KEY": tokenKey,
        ]
    }

    /// Every arrival logged so far, oldest first.
    public func arrivals() throws -> [[String: Any]] {
        guard let text = try? String(contentsOf: self.arrivalsURL, encoding: .utf8) else { return [] }
        let rows = try text.split(separator: "\n").map { line -> [String: Any] in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw TestSupportError("an arrival line is not a JSON object: \(line)")
            }
            return object
        }
        return rows.sorted { ($0["at"] as? String ?? "") < ($1["at"] as? String ?? "") }
    }

    /// `GET /sandbox/stats` as JSON, fetched with curl over one-way TLS.
    public func statistics() throws -> [String: Any] {
        let output = try Self.curl(["--cacert", self.certificates.path("ca.pem"), "https://\(self.oneWayTLSAddress)/sandbox/stats"])
        return (try JSONSerialization.jsonObject(with: output) as? [String: Any]) ?? [:]
    }

    /// A token response from `POST /sandbox/grant` for `tenants`.
    public func grant(tenants: [String]) throws -> Data {
        let body = try JSONSerialization.data(withJSONObject: ["client_id": "tuku-test", "tenants": tenants])
        return try Self.curl([
            "--cacert", self.certificates.path("ca.pem"), "-H", "Content-Type: application/json", "--data-binary",
            String(decoding: body, as: UTF8.self), "https://\(self.oneWayTLSAddress)/sandbox/grant",
        ])
    }

    public func stop() async throws {
        self.process.signal(SIGTERM)
        _ = try await self.process.waitForExit(timeout: .seconds(30))
    }

    private static func curl(_ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--fail"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSupportError("curl \(arguments.last ?? "") failed") }
        return data
    }

    deinit {
        try? FileManager.default.removeItem(at: self.arrivalsURL)
    }
}
