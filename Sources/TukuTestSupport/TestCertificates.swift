import Foundation

/// Throwaway certificates made at test time by `scripts/lib/certs.sh` (never committed).
public struct TestCertificates: Sendable {
    /// The folder holding `ca.pem`, `server.pem`/`.key`, `client.pem`/`.key`, `other-*.pem` and the JWT certificates.
    public let directory: URL

    public func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

    /// Makes a fresh set in a temporary folder.
    public static func make() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-certs-\(UUID().uuidString)")
        let script = Self.repositoryRoot.appendingPathComponent("scripts/lib/certs.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "source \"$0\" && tuku_make_certs \"$1\"", script, directory.path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError("scripts/lib/certs.sh failed with status \(process.terminationStatus) (is openssl installed?)")
        }
        return TestCertificates(directory: directory)
    }

    /// The repository root, found from this source file's path.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
