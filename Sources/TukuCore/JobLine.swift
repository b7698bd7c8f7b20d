import Foundation

/// One line of a JSON Lines file for `tuku enqueue`: a job to insert.
///
/// Keys mirror `tuku.jobs` columns: `kind` and `tenant` (required strings), `payload` (required JSON
/// object), and optional `idempotency_key`, `priority` (0–1000, lower first), `run_at` (RFC 3339) and
/// `max_attempts` (≥ 1). Optional keys left out take the table's defaults.
///
/// The payload is not re-encoded here: the line's own text goes to PostgreSQL, which extracts `payload`
/// exactly as written (so amounts such as `1234.50` keep every digit).
public struct JobLine: Sendable, Hashable {
    public var kind: String
    public var tenant: String
    public var idempotencyKey: String?
    public var priority: Int?
    public var runAt: Date?
    public var maxAttempts: Int?
    /// The line's JSON text.
    public var json: String

    /// Parses and checks one line; the error lists every problem found.
    public static func parse(_ line: String) throws(JobError) -> JobLine {
        // Fast path for well-formed lines: one strict decode. Anything it refuses goes through the
        // field-by-field check below, which names every problem.
        if let fields = try? Self.decoder.decode(WellFormed.self, from: Data(line.utf8)), !line.contains("\\u0000") {
            var runAt: Date?
            if let text = fields.runAt {
                runAt = Self.parseTimestamp(text)
            }
            if runAt != nil || fields.runAt == nil {
                return JobLine(
                    kind: fields.kind, tenant: fields.tenant, idempotencyKey: fields.idempotencyKey,
                    priority: fields.priority, runAt: runAt, maxAttempts: fields.maxAttempts, json: line
                )
            }
        }
        return try Self.parseReportingProblems(line)
    }

    private static let decoder = JSONDecoder()

    /// A line with every field present having the right type and range; decoding throws otherwise.
    private struct WellFormed: Decodable {
        var kind: String
        var tenant: String
        var idempotencyKey: String?
        var priority: Int?
        var runAt: String?
        var maxAttempts: Int?

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
            static let kind = Key(stringValue: "kind")
            static let tenant = Key(stringValue: "tenant")
            static let payload = Key(stringValue: "payload")
            static let idempotencyKey = Key(stringValue: "idempotency_key")
            static let priority = Key(stringValue: "priority")
            static let runAt = Key(stringValue: "run_at")
            static let maxAttempts = Key(stringValue: "max_attempts")
            static let known: Set<String> = ["kind", "tenant", "payload", "idempotency_key", "priority", "run_at", "max_attempts"]
        }

        struct Refused: Error {}

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            guard container.allKeys.allSatisfy({ Key.known.contains($0.stringValue) }) else { throw Refused() }
            self.kind = try container.decode(String.self, forKey: .kind)
            self.tenant = try container.decode(String.self, forKey: .tenant)
            _ = try container.nestedContainer(keyedBy: Key.self, forKey: .payload)
            self.idempotencyKey = try container.decodeIfPresent(String.self, forKey: .idempotencyKey)
            self.priority = try container.decodeIfPresent(Int.self, forKey: .priority)
            self.runAt = try container.decodeIfPresent(String.self, forKey: .runAt)
            self.maxAttempts = try container.decodeIfPresent(Int.self, forKey: .maxAttempts)
            guard JobLine.isKindName(self.kind), !self.tenant.isEmpty, self.idempotencyKey?.isEmpty != true,
                (0...1000).contains(self.priority ?? 0), (1...1000).contains(self.maxAttempts ?? 1)
            else { throw Refused() }
        }
    }

    private static func parseReportingProblems(_ line: String) throws(JobError) -> JobLine {
        var problems: [JobError.Problem] = []
        let fields: [String: JSONValue]
        do {
            fields = try JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8))
        } catch {
            if (try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))) != nil {
                throw JobError(code: "line_not_object", message: "the line must be a JSON object")
            }
            if let tooDeep = JSONNesting.tooDeep(JSONNesting.depth(of: line.utf8), what: "the line") {
                throw JobError(code: "line_too_deep", message: tooDeep)
            }
            throw JobError(code: "line_not_json", message: "the line is not valid JSON")
        }
        if line.contains("\\u0000") {
            problems.append(.init(path: "payload", reason: "contains \\u0000, which PostgreSQL jsonb cannot store"))
        }
        func requiredString(_ key: String) -> String {
            switch fields[key] {
            case .string(let value) where !value.isEmpty: return value
            case nil: problems.append(.init(path: key, reason: "is required"))
            default: problems.append(.init(path: key, reason: "must be a non-empty string"))
            }
            return ""
        }
        func optionalInteger(_ key: String, in range: ClosedRange<Int>) -> Int? {
            switch fields[key] {
            case nil, .null: return nil
            case .integer(let value) where range.contains(value): return value
            default:
                problems.append(.init(path: key, reason: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
                return nil
            }
        }
        let kind = requiredString("kind")
        if !kind.isEmpty, !JobLine.isKindName(kind) {
            problems.append(.init(path: "kind", reason: JobLine.kindNameRule))
        }
        let tenant = requiredString("tenant")
        switch fields["payload"] {
        case .object: break
        case nil: problems.append(.init(path: "payload", reason: "is required"))
        default: problems.append(.init(path: "payload", reason: "must be a JSON object"))
        }
        var idempotencyKey: String?
        switch fields["idempotency_key"] {
        case nil, .null: break
        case .string(let value) where !value.isEmpty: idempotencyKey = value
        default: problems.append(.init(path: "idempotency_key", reason: "must be a non-empty string"))
        }
        let priority = optionalInteger("priority", in: 0...1000)
        let maxAttempts = optionalInteger("max_attempts", in: 1...1000)
        var runAt: Date?
        switch fields["run_at"] {
        case nil, .null: break
        case .string(let value):
            runAt = Self.parseTimestamp(value)
            if runAt == nil {
                problems.append(.init(path: "run_at", reason: "must be an RFC 3339 timestamp such as 2026-11-25T09:00:00Z"))
            }
        default: problems.append(.init(path: "run_at", reason: "must be an RFC 3339 timestamp string"))
        }
        let known: Set<String> = ["kind", "tenant", "payload", "idempotency_key", "priority", "run_at", "max_attempts"]
        for key in fields.keys.sorted() where !known.contains(key) {
            problems.append(.init(path: key, reason: "is not a known key"))
        }
        guard problems.isEmpty else {
            throw JobError(code: "line_invalid", message: "the line is not a valid job", problems: problems)
        }
        return JobLine(
            kind: kind, tenant: tenant, idempotencyKey: idempotencyKey, priority: priority,
            runAt: runAt, maxAttempts: maxAttempts, json: line
        )
    }

    /// What a kind may look like, as `tuku.jobs`' CHECK `jobs_kind_is_a_name` says: it is logged with every run.
    public static let kindNameRule =
        "must be a name of 1 to 100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"

    /// Whether `kind` satisfies ``kindNameRule`` (the same test as the CHECK `jobs_kind_is_a_name`).
    public static func isKindName(_ kind: String) -> Bool {
        let scalars = Array(kind.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 100 else { return false }
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        return isAlphanumeric(first) && scalars.allSatisfy { isAlphanumeric($0) || ".-_:".unicodeScalars.contains($0) }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }
}
