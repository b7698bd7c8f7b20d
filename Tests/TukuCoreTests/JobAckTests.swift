import Testing
import TukuCore

@Suite("Outcomes to acks")
struct JobAckTests {
    let policy = RetryPolicy(base: .seconds(2), cap: .seconds(100), jitter: 0)

    @Test("a retry without a delay takes the kind's backoff for that attempt")
    func retryUsesPolicy() {
        let ack = JobAck.Outcome(.retry(after: nil, error: JobError(code: "x", message: "y")), attempt: 3, policy: self.policy)
        #expect(ack.name == "retry")
        #expect(ack.delay == .seconds(8))
        #expect(ack.error?.code == "x")
    }

    @Test("a retry with a delay keeps it; throttled keeps the server's delay")
    func explicitDelays() {
        let error = JobError(code: "throttled", message: "429")
        #expect(JobAck.Outcome(.retry(after: .seconds(7), error: error), attempt: 1, policy: self.policy).delay == .seconds(7))
        let throttled = JobAck.Outcome(.throttled(after: .seconds(30), error: error), attempt: 1, policy: self.policy)
        #expect(throttled.name == "throttled" && throttled.delay == .seconds(30))
    }

    @Test("final outcomes carry no delay")
    func finalOutcomes() {
        let error = JobError(code: "bad", message: "bad input")
        for outcome in [JobOutcome.succeeded, .rejected(error), .dead(error)] {
            #expect(JobAck.Outcome(outcome, attempt: 1, policy: self.policy).delay == nil)
        }
    }
}
