import Logging
import PostgresNIO

/// The server settings Tuku's delivery promise rests on (`docs/queue.md`, "Durability"), as a session sees them.
///
/// A job is filed exactly once only if what the database acknowledged as committed is still there after a crash:
/// a claim, a pacing confirmation and an ack must survive `pg_ctl restart -m immediate`, a power cut or a
/// failover. That needs `fsync = on` (commits reach the disk), `synchronous_commit` other than `off` (a commit
/// returns only once its WAL is flushed) and `full_page_writes = on` (a torn page can be repaired after a
/// crash). Surviving a failover also needs synchronous replication to the standby that takes over
/// (`synchronous_standby_names`), which one session cannot check for the whole cluster and is reported as read.
public struct DatabaseSettings: Sendable, Hashable, CustomStringConvertible {
    /// `fsync`.
    public var fsync: String
    /// `synchronous_commit`.
    public var synchronousCommit: String
    /// `full_page_writes`.
    public var fullPageWrites: String
    /// `shared_buffers`, for benchmark reports.
    public var sharedBuffers: String
    /// `synchronous_standby_names` (empty when no standby must confirm a commit).
    public var synchronousStandbyNames: String

    /// Settings as read (tests and tools may build them).
    public init(fsync: String, synchronousCommit: String, fullPageWrites: String, sharedBuffers: String, synchronousStandbyNames: String) {
        self.fsync = fsync
        self.synchronousCommit = synchronousCommit
        self.fullPageWrites = fullPageWrites
        self.sharedBuffers = sharedBuffers
        self.synchronousStandbyNames = synchronousStandbyNames
    }

    /// Whether a commit this session is told of survives a crash of this server.
    public var isDurable: Bool { self.problems.isEmpty }

    /// Why commits may be lost in a crash, one phrase per setting; empty when durable.
    public var problems: [String] {
        var problems: [String] = []
        if self.fsync != "on" { problems.append("fsync is \(self.fsync): commits may never reach the disk") }
        if self.synchronousCommit == "off" {
            problems.append("synchronous_commit is off: a commit returns before its WAL is on disk")
        }
        if self.fullPageWrites != "on" {
            problems.append("full_page_writes is \(self.fullPageWrites): a page torn by a crash cannot be repaired")
        }
        return problems
    }

    /// `fsync=on synchronous_commit=on full_page_writes=on shared_buffers=128MB`.
    public var description: String {
        "fsync=\(self.fsync) synchronous_commit=\(self.synchronousCommit) full_page_writes=\(self.fullPageWrites) "
            + "shared_buffers=\(self.sharedBuffers)"
    }

    /// Reads the settings through `client`, within ``DatabaseDeadline/defaultTimeout``.
    public static func read(from client: PostgresClient, logger: Logger) async throws -> DatabaseSettings {
        try await DatabaseDeadline.run("settings read") {
            let rows = try await client.query(
                """
                SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'),
                       current_setting('shared_buffers'), current_setting('synchronous_standby_names')
                """, logger: logger)
            for try await (fsync, commit, pages, buffers, standbys) in rows.decode((String, String, String, String, String).self) {
                return DatabaseSettings(
                    fsync: fsync, synchronousCommit: commit, fullPageWrites: pages, sharedBuffers: buffers,
                    synchronousStandbyNames: standbys)
            }
            throw QueueError(.queryFailed, "reading the server's settings returned no row")
        }
    }
}
