import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a short-lived command and waits for it by polling `waitpid` on its own pid.
///
/// Neither Foundation's `Process.waitUntilExit()` nor `system()` is safe here when both are used in one test process:
/// `system()` blocks SIGCHLD in its thread, so a child's exit signal can go pending there and never reach the
/// SIGCHLD source Foundation waits on, leaving a `Process` "running" forever beside a zombie. Polling the pid needs
/// no signal and reaps only this child.
public enum ChildProcess {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `arguments` (the first looked up on PATH) in `directory`, with standard input from /dev/null and standard
    /// output and error written to the given files, and returns its exit status (128 + n when killed by signal n).
    public static func run(
        _ arguments: [String], directory: String? = nil, standardOutput: String = "/dev/null", standardError: String = "/dev/null"
    ) async throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // posix_spawn_file_actions_addchdir_np is not exported to Swift here: a shell changes directory, then execs.
        let command = directory.map { ["sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", $0] + arguments } ?? arguments
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + command).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "could not start \(arguments.first ?? "a command"): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result == -1 && errno != EINTR {
                throw Failure(description: "waitpid failed for \(arguments.first ?? "a command"): \(String(cString: strerror(errno)))")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
