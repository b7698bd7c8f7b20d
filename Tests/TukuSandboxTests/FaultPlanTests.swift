import Testing
import TukuSandbox

@Suite("Fault plans")
struct FaultPlanTests {
    @Test("rates parse every fault name and refuse unknown names and sums above 1")
    func parsesRates() throws {
        let rates = try FaultPlan.parseRates("429:0.05,503:0.05,504-after-store:0.05,reset:0.02,slow:0.01,malformed:0.01,html:0.01")
        #expect(
            rates.map(\.fault) == [
                .tooManyRequests, .serviceUnavailable, .gatewayTimeoutAfterStore, .connectionReset, .slow, .malformed, .htmlErrorPage,
            ])
        #expect(throws: SandboxError.self) { try FaultPlan.parseRates("teapot:0.1") }
        #expect(throws: SandboxError.self) { try FaultPlan.parseRates("429:0.7,503:0.7") }
        #expect(throws: SandboxError.self) { try FaultPlan.parseRates("429") }
    }

    @Test("a script is followed call by call, with ok for no fault, then the rates apply")
    func followsScript() throws {
        let script = try FaultPlan.parseScript("# comment\n429\nok\n\nreset  # drop it\n")
        let injector = FaultInjector(plan: FaultPlan(rates: [.init(.serviceUnavailable, 1)], script: script))
        #expect(injector.next() == .tooManyRequests)
        #expect(injector.next() == nil)
        #expect(injector.next() == .connectionReset)
        #expect(injector.next() == .serviceUnavailable)
        #expect(throws: SandboxError.self) { try FaultPlan.parseScript("ok\nexplode\n") }
    }

    @Test("the same seed draws the same faults")
    func seeded() {
        let plan = FaultPlan(rates: [.init(.tooManyRequests, 0.3), .init(.slow, 0.3)], seed: 42)
        let first = FaultInjector(plan: plan)
        let second = FaultInjector(plan: plan)
        let a = (0..<200).map { _ in first.next() }
        let b = (0..<200).map { _ in second.next() }
        #expect(a == b)
        #expect(a.contains(nil) && a.contains(.tooManyRequests) && a.contains(.slow))
    }
}
