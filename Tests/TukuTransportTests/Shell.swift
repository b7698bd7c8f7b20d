import Foundation

/// Runs a command for test setup and verification (openssl, the cert script, python).
enum Shell {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The repository root, found from this file's path.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `arguments` (the first is looked up on PATH) and waits. Output goes through temporary files so that a
    /// chatty command cannot fill a pipe and hang.
    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let directory = FileManager.default.temporaryDirectory
        let out = directory.appendingPathComponent("tuku-shell-\(UUID().uuidString).out")
        let err = directory.appendingPathComponent("tuku-shell-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs a function from one of the repository's `scripts/lib/*.sh` files and returns its standard output.
    static func scriptFunction(_ library: String, _ function: String, _ arguments: [String]) throws -> String {
        let script = self.repositoryRoot.appendingPathComponent("scripts/lib/\(library)").path
        let result = try self.run(["bash", "-c", "set -e; source \"$0\"; \(function) \"$@\"", script] + arguments)
        guard result.status == 0 else {
            throw Failure(description: "\(function) failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout
    }
}
