import Foundation

/// Throwaway certificates made once per test process by `scripts/lib/certs.sh` into a temporary directory, removed at
/// exit. Nothing here is committed.
enum TestCertificates {
    private static let generated: Result<String, any Error> = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-certs-\(UUID().uuidString)").path
        do {
            _ = try Shell.scriptFunction("certs.sh", "tuku_make_certs", [directory])
            atexit {
                if case .success(let directory) = TestCertificates.generated {
                    try? FileManager.default.removeItem(atPath: directory)
                }
            }
            return .success(directory)
        } catch {
            return .failure(error)
        }
    }()

    /// The directory with the certificates and keys (see `scripts/lib/certs.sh` for the file names).
    static func directory() throws -> String {
        try self.generated.get()
    }

    /// The path of one generated file, such as `client.pem`.
    static func path(_ name: String) throws -> String {
        try self.directory() + "/" + name
    }

    /// The text of one generated file.
    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: self.path(name), encoding: .utf8)
    }
}
