import Logging
import Testing
import TukuCore

@testable import TukuWorker

@Suite("Handler registry")
struct HandlerRegistryTests {
    func job(kind: String, payload: String) -> ClaimedJob {
        ClaimedJob(id: 1, kind: kind, tenant: "t", payload: payload, attempt: 1, maxAttempts: 3, leaseToken: 1)
    }

    var registry: HandlerRegistry {
        var registry = HandlerRegistry()
        registry.register(NoopHandler())
        return registry
    }

    @Test("an unknown kind is rejected with a clear error")
    func unknownKind() async {
        let (outcome, _) = await self.registry.run(
            self.job(kind: "ird.nope", payload: "{}"), context: JobContext(logger: Logger(label: "t")))
        #expect(outcome == .rejected(.unknownKind("ird.nope")))
    }

    @Test("a payload that does not decode is rejected with the field and reason")
    func undecodable() async throws {
        let (outcome, _) = await self.registry.run(
            self.job(kind: "noop", payload: #"{"delay_ms":"soon"}"#), context: JobContext(logger: Logger(label: "t")))
        guard case .rejected(let error) = outcome else {
            Issue.record("expected rejected, got \(outcome)")
            return
        }
        #expect(error.code == "payload_undecodable")
        #expect(error.problems == [.init(path: "delay_ms", reason: "must be an integer")])
    }

    @Test("a good payload runs the handler")
    func runs() async {
        let (outcome, _) = await self.registry.run(
            self.job(kind: "noop", payload: #"{"delay_ms":1}"#), context: JobContext(logger: Logger(label: "t")))
        #expect(outcome == .succeeded)
    }
}

extension HandlerRegistryTests {
    @Test("a payload PostgreSQL stored but nested past the decoder's 512 levels is rejected saying so, not as invalid JSON")
    func tooDeep() async throws {
        let payload = #"{"delay_ms":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        let (outcome, _) = await self.registry.run(
            self.job(kind: "noop", payload: payload), context: JobContext(logger: Logger(label: "t")))
        guard case .rejected(let error) = outcome else {
            Issue.record("expected rejected, got \(outcome)")
            return
        }
        #expect(error.problems?.first?.reason.contains("601 levels deep") == true)
        #expect(error.problems?.first?.reason.contains("at most 512 levels") == true)
    }
}
