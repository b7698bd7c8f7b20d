import ArgumentParser
import Foundation
import TukuPostgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the migrations in sql/migrations (embedded in this binary).",
        discussion: """
            Each migration runs in its own transaction and is recorded in tuku.schema_migrations; an advisory \
            lock keeps two migrators from clashing. Running it twice is a no-op.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Apply up to this version only.")
    var to: Int?

    @Option(name: .customLong("down-to"), help: "Revert applied migrations newer than this version (0 reverts all).")
    var downTo: Int?

    @Flag(help: "List the migrations and whether each is applied; change nothing.")
    var status = false

    func run() async throws {
        try await self.database.withClient(label: "tuku.migrate", maximumConnections: 2) { client, logger in
            let migrator = Migrator(client: client, logger: logger)
            if self.status {
                for entry in try await migrator.status() {
                    let applied = entry.appliedAt.map { "applied \($0.formatted(.iso8601))" } ?? "pending"
                    print("\(entry.migration.fileStem)  \(applied)")
                }
            } else if let downTo = self.downTo {
                let reverted = try await migrator.rollback(to: downTo)
                print(reverted.isEmpty ? "Nothing to revert." : "Reverted \(reverted.map { $0.fileStem }.joined(separator: ", ")).")
            } else {
                let applied = try await migrator.migrate(to: self.to)
                print(applied.isEmpty ? "Up to date." : "Applied \(applied.map { $0.fileStem }.joined(separator: ", ")).")
            }
        }
    }
}

extension Migration {
    /// `0001_queue`, as the files are named.
    var fileStem: String { String(format: "%04d_%@", self.version, self.name) }
}
