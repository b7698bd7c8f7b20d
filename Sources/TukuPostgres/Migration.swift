/// One numbered migration: `sql/migrations/NNNN_name.up.sql` and its `.down.sql`.
public struct Migration: Sendable, Hashable {
    /// The number in the file name.
    public var version: Int
    /// The rest of the file name, for example `queue`.
    public var name: String
    /// The SQL that applies it.
    public var up: String
    /// The SQL that reverts it.
    public var down: String

    public init(version: Int, name: String, up: String, down: String) {
        self.version = version
        self.name = name
        self.up = up
        self.down = down
    }

    /// The migrations in `sql/migrations/`, embedded into the binary at build time, in version order.
    public static let bundled: [Migration] = {
        do {
            return try Self.parse(files: EmbeddedSQL.files)
        } catch {
            // The files are part of the build: a malformed set is a programming error caught by the tests.
            fatalError("sql/migrations is malformed: \(error)")
        }
    }()

    /// Pairs `migrations/NNNN_name.up.sql` with `migrations/NNNN_name.down.sql`.
    static func parse(files: [(path: String, contents: String)]) throws -> [Migration] {
        var ups: [Int: (name: String, sql: String)] = [:]
        var downs: [Int: (name: String, sql: String)] = [:]
        for file in files where file.path.hasPrefix("migrations/") {
            let fileName = file.path.dropFirst("migrations/".count)
            let isUp = fileName.hasSuffix(".up.sql")
            guard isUp || fileName.hasSuffix(".down.sql") else {
                throw QueueError(.unknownMigration, "\(file.path) is neither .up.sql nor .down.sql")
            }
            let stem = fileName.dropLast(isUp ? ".up.sql".count : ".down.sql".count)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw QueueError(.unknownMigration, "\(file.path) does not start with a version number and _")
            }
            let name = String(stem[stem.index(after: underscore)...])
            if isUp {
                guard ups.updateValue((name, file.contents), forKey: version) == nil else {
                    throw QueueError(.unknownMigration, "two up migrations have version \(version)")
                }
            } else {
                guard downs.updateValue((name, file.contents), forKey: version) == nil else {
                    throw QueueError(.unknownMigration, "two down migrations have version \(version)")
                }
            }
        }
        return try ups.keys.sorted().map { version in
            let up = ups[version]!
            guard let down = downs[version], down.name == up.name else {
                throw QueueError(.unknownMigration, "migration \(version)_\(up.name) has no matching .down.sql")
            }
            return Migration(version: version, name: up.name, up: up.sql, down: down.sql)
        }
    }
}
