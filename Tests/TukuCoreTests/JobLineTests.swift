import Foundation
import Testing
import TukuCore

@Suite("Enqueue lines")
struct JobLineTests {
    @Test("a full line parses, keeping its own text for the payload")
    func fullLine() throws {
        let text =
            #"{"kind":"noop","tenant":"acme","payload":{"amount":1234.50},"idempotency_key":"k-1","priority":5,"run_at":"2026-11-25T09:00:00.250Z","max_attempts":3}"#
        let line = try JobLine.parse(text)
        #expect(line.kind == "noop")
        #expect(line.tenant == "acme")
        #expect(line.idempotencyKey == "k-1")
        #expect(line.priority == 5)
        #expect(line.maxAttempts == 3)
        #expect(line.json == text)
        let runAt = try #require(line.runAt)
        #expect(abs(runAt.timeIntervalSince1970 - 1_795_597_200.25) < 0.001)
    }

    @Test("optional keys may be left out or null")
    func minimalLine() throws {
        let line = try JobLine.parse(#"{"kind":"noop","tenant":"acme","payload":{},"priority":null}"#)
        #expect(line.idempotencyKey == nil && line.priority == nil && line.runAt == nil && line.maxAttempts == nil)
    }

    @Test("every problem on a line is reported, not just the first")
    func allProblems() {
        do {
            _ = try JobLine.parse(#"{"kind":"","payload":[1],"priority":2000,"run_at":"tomorrow","max_attempts":0,"colour":"red"}"#)
            Issue.record("expected an error")
        } catch {
            let paths = Set((error.problems ?? []).map(\.path))
            #expect(paths == ["kind", "tenant", "payload", "priority", "run_at", "max_attempts", "colour"])
            #expect(error.code == "line_invalid")
        }
    }

    @Test(
        "lines that are not JSON objects are refused with their own codes",
        arguments: [
            ("not json", "line_not_json"),
            ("[1,2]", "line_not_object"),
            ("", "line_not_json"),
        ])
    func notObjects(text: String, code: String) {
        #expect(throws: JobError.self) { try JobLine.parse(text) }
        do { _ = try JobLine.parse(text) } catch { #expect(error.code == code) }
    }

    @Test("a NUL escape, which jsonb cannot store, is refused before it can fail a whole batch")
    func nulEscape() {
        #expect(throws: JobError.self) { try JobLine.parse(#"{"kind":"noop","tenant":"a","payload":{"x":"a\u0000b"}}"#) }
    }

    @Test("booleans and fractions are not integers")
    func integerChecks() {
        #expect(throws: JobError.self) { try JobLine.parse(#"{"kind":"noop","tenant":"a","payload":{},"priority":true}"#) }
        #expect(throws: JobError.self) { try JobLine.parse(#"{"kind":"noop","tenant":"a","payload":{},"max_attempts":2.5}"#) }
    }
}

@Suite("Enqueue lines: what may not pass the door")
struct JobLineDoorTests {
    @Test(
        "a kind that is not a short name is refused at the line: line breaks, spaces, leading punctuation, over 100 characters",
        arguments: ["ird.ei.file\nFAKE log line", "ird ei file", ".hidden", String(repeating: "k", count: 101), "kind\u{7}", "ird.ei.fïle"])
    func badKinds(kind: String) throws {
        let text = try String(decoding: JSONEncoder().encode(["kind": kind, "tenant": "acme"]), as: UTF8.self)
            .replacingOccurrences(of: "}", with: #","payload":{}}"#)
        do {
            _ = try JobLine.parse(text)
            Issue.record("accepted kind \(kind.debugDescription)")
        } catch {
            #expect(error.problems == [.init(path: "kind", reason: JobLine.kindNameRule)])
            #expect(!error.description.contains(kind))
        }
    }

    @Test("kinds that are names pass", arguments: ["noop", "ird.ei.file", "acme:payroll-v2", "a", String(repeating: "k", count: 100)])
    func goodKinds(kind: String) throws {
        #expect(try JobLine.parse(#"{"kind":"\#(kind)","tenant":"acme","payload":{}}"#).kind == kind)
    }

    @Test("a line nested deeper than the decoder reads says how deep it is and what the limit is")
    func tooDeep() {
        let text = #"{"kind":"noop","tenant":"acme","payload":{"x":"# + String(repeating: "[", count: 520) + String(repeating: "]", count: 520) + "}}"
        do {
            _ = try JobLine.parse(text)
            Issue.record("a 522-level line parsed")
        } catch {
            #expect(error.code == "line_too_deep")
            #expect(error.message.contains("522 levels deep"))
            #expect(error.message.contains("at most \(JSONNesting.limit) levels"))
        }
    }

    @Test("nesting depth counts brackets outside strings only, and the limit is what JSONDecoder reads")
    func depth() throws {
        #expect(JSONNesting.depth(of: Array(#"{"a":[[]],"b":"[[[[\"]]"}"#.utf8)) == 3)
        #expect(JSONNesting.depth(of: Array("42".utf8)) == 0)
        let atLimit = String(repeating: "[", count: JSONNesting.limit) + String(repeating: "]", count: JSONNesting.limit)
        #expect(throws: Never.self) { try JSONDecoder().decode(JSONValue.self, from: Data(atLimit.utf8)) }
        let past = "[" + atLimit + "]"
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Data(past.utf8)) }
    }

    @Test("messages that name a kind escape control characters and stop at 100 characters")
    func printable() {
        #expect(JobError.unknownKind("a\nb").message == "no handler is registered for kind 'a\\nb'")
        #expect(JobError.printable(String(repeating: "x", count: 1_000_000)).count == 101)
    }
}
