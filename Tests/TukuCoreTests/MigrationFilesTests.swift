import Testing

@testable import TukuPostgres

@Suite("Migration files")
struct MigrationFilesTests {
    @Test("the embedded migrations are numbered from 1 without gaps, each with an up and a down")
    func bundled() {
        let versions = Migration.bundled.map(\.version)
        #expect(!versions.isEmpty)
        #expect(versions == Array(1...versions.count))
        for migration in Migration.bundled {
            #expect(!migration.up.isEmpty && !migration.down.isEmpty)
        }
    }

    @Test("a migration without its down file is refused")
    func missingDown() {
        #expect(throws: QueueError.self) {
            try Migration.parse(files: [("migrations/0001_a.up.sql", "SELECT 1")])
        }
    }

    @Test("files are paired by version and name, other folders ignored")
    func pairing() throws {
        let parsed = try Migration.parse(files: [
            ("migrations/0002_b.down.sql", "d2"), ("migrations/0001_a.up.sql", "u1"),
            ("migrations/0002_b.up.sql", "u2"), ("migrations/0001_a.down.sql", "d1"), ("dashboards/x.sql", "v"),
        ])
        #expect(parsed.map(\.version) == [1, 2])
        #expect(parsed.map(\.name) == ["a", "b"])
        #expect(parsed[1].up == "u2" && parsed[1].down == "d2")
    }
}
