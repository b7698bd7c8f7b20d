import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a short-lived command and waits for it by polling `waitpid` on its own pid.
///
/// The restart test ran its shell with `system()`, which blocks SIGCHLD in its thread while it waits; in the same
/// test process a certificate-generating Foundation `Process` then waited forever beside its exited (zombie) child,
/// probably because its SIGCHLD went to that thread. Polling the pid needs no signal and reaps only this child.
public enum ChildProcess {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `arguments` (the first looked up on PATH) with standard input and error on /dev/null and standard output
    /// written to `standardOutput`, and returns its exit status (128 + n when killed by signal n). Cancelling the
    /// calling task terminates the child, reaps it and throws `CancellationError`.
    public static func run(_ arguments: [String], standardOutput: String) async throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
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
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                kill(pid, SIGTERM)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                throw CancellationError()
            }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
