import Foundation
import PostgresNIO
import Testing
import TukuTestSupport

/// `tuku enqueue` as a producer runs it, against a real database.
@Suite("tuku enqueue --validate and --dry-run")
struct EnqueueCommandTests {
    /// A JSON Lines file: a valid return, a broken employer IRD number, a misspelt key, a noop, an unknown ird.* kind.
    static func mixedFile() throws -> URL {
        let example = try String(
            contentsOf: TestCertificates.repositoryRoot.appendingPathComponent("jobs/ird.ei.file/examples/three-employees.json"),
            encoding: .utf8)
        let payload = example.split(separator: "\n").joined(separator: " ")
        let brokenIRD = payload.replacingOccurrences(of: "\"49-091-850\"", with: "\"49-091-851\"")
        let misspelt = payload.replacingOccurrences(of: "\"kiwisaverDeductions\": \"73.50\"", with: "\"kiwisaverDeduction\": \"73.50\"")
        #expect(brokenIRD != payload && misspelt != payload)
        let lines = [
            #"{"kind": "ird.ei.file", "tenant": "acme", "payload": \#(payload), "idempotency_key": "good"}"#,
            #"{"kind": "ird.ei.file", "tenant": "acme", "payload": \#(brokenIRD), "idempotency_key": "broken-ird"}"#,
            #"{"kind": "ird.ei.file", "tenant": "acme", "payload": \#(misspelt), "idempotency_key": "misspelt"}"#,
            #"{"kind": "noop", "tenant": "acme", "payload": {"delay_ms": 1}}"#,
            #"{"kind": "ird.ei.fiel", "tenant": "acme", "payload": {}}"#,
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-enqueue-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("--validate inserts the good lines and reports every problem of the others by line and path; --dry-run inserts nothing")
    func validateAndDryRun() async throws {
        let file = try Self.mixedFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try await TestDatabase.withFresh { client, database in
            let dryRun = try TukuProcess(["enqueue", "--dry-run", "--no-progress", file.path], databaseURL: database.url)
            #expect(try await dryRun.waitForExit() == 2, "log:\n\(dryRun.log)")
            #expect(dryRun.log.contains("Checked 2 jobs: 3 lines with problems; nothing was inserted"), "log:\n\(dryRun.log)")
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs", as: Int64.self) == 0)

            let validated = try TukuProcess(["enqueue", "--validate", "--no-progress", file.path], databaseURL: database.url)
            #expect(try await validated.waitForExit() == 2, "log:\n\(validated.log)")
            let log = validated.log
            #expect(log.contains("line 2: payload refused"), "log:\n\(log)")
            #expect(log.contains("employerIrdNumber: fails IRD's modulus-11 check digit"), "log:\n\(log)")
            #expect(log.contains("line 3: payload refused"), "log:\n\(log)")
            #expect(log.contains("lines[0].kiwisaverDeduction: is not a field of this payload"), "log:\n\(log)")
            #expect(log.contains("line 5: payload refused ('ird.ei.fiel' is not an IRD job kind)"), "log:\n\(log)")
            #expect(!log.contains("line 1:") && !log.contains("line 4:"), "log:\n\(log)")
            #expect(
                try await client.scalar("SELECT string_agg(kind, ',' ORDER BY id) FROM tuku.jobs", as: String.self) == "ird.ei.file,noop")

            // Without --validate the worker is the judge: every well-formed line goes in (the good return's
            // idempotency key makes it a duplicate; the noop has no key, so it is a second job).
            let plain = try TukuProcess(["enqueue", "--no-progress", file.path], databaseURL: database.url)
            #expect(try await plain.waitForExit() == 0, "log:\n\(plain.log)")
            #expect(plain.log.contains("Enqueued 4 jobs (1 duplicates skipped, 0 lines rejected)"), "log:\n\(plain.log)")
            #expect(try await client.scalar("SELECT count(*)::int8 FROM tuku.jobs", as: Int64.self) == 6)
        }
    }
}
