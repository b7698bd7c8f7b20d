import Foundation

/// A `tuku` child process, for tests that need a real worker process to kill or stop.
public final class TukuProcess: @unchecked Sendable {  // Process is not Sendable; this wrapper is used from one test task.
    public let process: Process
    public let logURL: URL

    /// The built `tuku` executable: `$TUKU_BIN`, or the one beside the running test bundle.
    public static func executableURL() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TUKU_BIN"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("tuku")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw TestSupportError("cannot find the tuku executable: build it (swift build) or set TUKU_BIN")
    }

    /// Starts `tuku ARGUMENTS` with `TUKU_DATABASE_URL` set; output goes to a temporary log file.
    public init(_ arguments: [String], databaseURL: String, environment extra: [String: String] = [:]) throws {
        self.process = Process()
        self.process.executableURL = try Self.executableURL()
        self.process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TUKU_DATABASE_URL"] = databaseURL
        environment.merge(extra) { _, new in new }
        self.process.environment = environment
        self.logURL = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-test-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: self.logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: self.logURL)
        self.process.standardOutput = log
        self.process.standardError = log
        try self.process.run()
    }

    public func signal(_ signal: Int32) {
        kill(self.process.processIdentifier, signal)
    }

    /// Waits for the process to exit (up to `timeout`) and returns its exit status.
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now >= deadline {
                self.process.terminate()
                throw TestSupportError("tuku \(self.process.arguments ?? []) did not exit within \(timeout); log:\n\(self.log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return self.process.terminationStatus
    }

    public var log: String {
        (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? ""
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: self.logURL)
    }
}
