import Logging
import PostgresNIO
import Testing
import TukuPostgres
import TukuTestSupport

@Suite("Migrations against PostgreSQL")
struct MigrationTests {
    let logger = Logger.test()

    @Test("migrate twice is a no-op, and up → down → up round-trips")
    func idempotentAndReversible() async throws {
        try await TestDatabase.withFresh(migrate: false) { client, _ in
            let migrator = Migrator(client: client, logger: self.logger)
            let first = try await migrator.migrate()
            #expect(first.map(\.version) == Migration.bundled.map(\.version))
            #expect(try await migrator.migrate().isEmpty)
            #expect(try await client.scalar("SELECT to_regclass('tuku.jobs') IS NOT NULL", as: Bool.self))

            let reverted = try await migrator.rollback(to: 0)
            #expect(reverted.map(\.version) == Migration.bundled.map(\.version).reversed())
            #expect(try await client.scalar("SELECT to_regclass('tuku.jobs') IS NULL", as: Bool.self))
            #expect(
                try await client.scalar("SELECT count(*)::int8 FROM pg_proc WHERE pronamespace = 'tuku'::regnamespace", as: Int64.self) == 0
            )

            #expect(try await migrator.migrate().count == Migration.bundled.count)
            let status = try await migrator.status()
            #expect(status.allSatisfy { $0.appliedAt != nil })
        }
    }

    @Test("two migrators started at once do not clash: one applies, the other finds nothing to do")
    func concurrentMigrators() async throws {
        try await TestDatabase.withFresh(migrate: false) { client, database in
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await TestDatabase.withClient(database.configuration) { other in
                            try await Migrator(client: other, logger: self.logger).migrate().count
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(applied.sorted() == [0, 0, 0, Migration.bundled.count])
            #expect(
                try await client.scalar("SELECT count(*)::int8 FROM tuku.schema_migrations", as: Int64.self)
                    == Int64(Migration.bundled.count))
        }
    }

    @Test("a database with a migration this binary does not know is refused")
    func unknownVersion() async throws {
        try await TestDatabase.withFresh { client, _ in
            try await client.execute("INSERT INTO tuku.schema_migrations (version, name) VALUES (9999, 'from_the_future')")
            await #expect(throws: QueueError.self) { try await Migrator(client: client, logger: self.logger).migrate() }
        }
    }
}
