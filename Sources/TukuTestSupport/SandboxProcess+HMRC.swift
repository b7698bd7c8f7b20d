import Foundation

extension SandboxProcess {
    /// The HMRC application the sandbox registers when started with ``hmrcArguments``.
    public static let hmrcClientID = "tuku-hmrc-test"
    public static let hmrcClientSecret = "hmrc-test-secret"

    /// Arguments that turn on the sandbox's HMRC personality with the test application.
    public static var hmrcArguments: [String] { ["--hmrc-client", "\(hmrcClientID):\(hmrcClientSecret)"] }

    /// The environment a `tuku worker` needs to file HMRC kinds through this sandbox (with IRD's as well).
    public func hmrcWorkerEnvironment(tokenKey: String) -> [String: String] {
        self.workerEnvironment(tokenKey: tokenKey).merging([
            "TUKU_HMRC": "sandbox", "TUKU_HMRC_URL": "https://\(self.oneWayTLSAddress)",
            "TUKU_HMRC_CLIENT_ID": Self.hmrcClientID, "TUKU_HMRC_CLIENT_SECRET": Self.hmrcClientSecret,
            "TUKU_HMRC_TLS_CA": self.certificates.path("ca.pem"), "TUKU_HMRC_VENDOR_PUBLIC_IP": "203.0.113.6",
        ]) { $1 }
    }

    /// An HMRC token response for `vrns`: a code from `POST /sandbox/hmrc/grant`, exchanged at `POST /oauth/token`.
    public func hmrcGrant(vrns: [String]) throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: ["client_id": Self.hmrcClientID, "vrns": vrns])
        let granted = try Self.curlJSON([
            "--cacert", self.certificates.path("ca.pem"), "-H", "Content-Type: application/json", "--data-binary",
            String(decoding: body, as: UTF8.self), "https://\(self.oneWayTLSAddress)/sandbox/hmrc/grant",
        ])
        guard let code = granted["code"] as? String else { throw TestSupportError("no code from /sandbox/hmrc/grant: \(granted)") }
        return try Self.curlJSON([
            "--cacert", self.certificates.path("ca.pem"), "--data-urlencode", "grant_type=authorization_code",
            "--data-urlencode", "code=\(code)", "--data-urlencode", "client_id=\(Self.hmrcClientID)",
            "--data-urlencode", "client_secret=\(Self.hmrcClientSecret)", "https://\(self.oneWayTLSAddress)/oauth/token",
        ])
    }

    private static func curlJSON(_ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--fail-with-body", "--max-time", "30"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard process.terminationStatus == 0, let object else {
            throw TestSupportError("curl \(arguments.last ?? "") failed: \(String(decoding: data, as: UTF8.self))")
        }
        return object
    }
}
