import Foundation
import Testing
import TukuIRD

@testable import TukuSandbox

/// The EI build pack's duplicate rules (§5.2), on the registry with an injected clock: 160 "Duplicate payday
/// submission" for the same account, period, payday and request payload in the last hour; 107 "Duplicate return" for
/// another original return for the payday (an amendment must say isAmended=true).
@Suite("Sandbox: duplicate rules 160 and 107")
struct FilingRegistryDuplicateTests {
    static let start = Date(timeIntervalSince1970: 1_750_000_000)

    static func request(
        employer: String = "049091850", payday: String = "2025-05-16", hash: String = "a", amends key: Int64? = nil
    ) throws -> FileRequest {
        let payDay = try CalendarDate(payday)
        return FileRequest(
            employer: employer, periodEndDate: payDay.lastDayOfMonth, payDayDate: payDay, isAmended: key != nil, submissionKey: key,
            payloadHash: hash, lineCount: 1, isNilReturn: false, formFieldsXML: "")
    }

    static func code(_ decision: FileDecision) -> Int {
        switch decision {
        case .stored: 0
        case .refused(let code, _, _): code
        }
    }

    @Test("an identical payload is 160 for exactly one hour; after it, the same original is 107")
    func identicalWithinTheHour() throws {
        let registry = FilingRegistry()
        let original = try Self.request()
        #expect(Self.code(registry.file(original, client: "c", now: Self.start)) == 0)
        let within = registry.file(original, client: "c", now: Self.start.addingTimeInterval(3599.9))
        #expect(within == .refused(code: 160, message: "Duplicate payday submission", duplicate: "identical-within-hour"))
        let after = registry.file(original, client: "c", now: Self.start.addingTimeInterval(3600))
        #expect(after == .refused(code: 107, message: "Duplicate return", duplicate: "existing-return"))
        // A changed payload within the hour is not 160 but 107: another original for the payday.
        let changed = registry.file(try Self.request(hash: "b"), client: "c", now: Self.start.addingTimeInterval(1))
        #expect(Self.code(changed) == 107)
        #expect(registry.count == 1)
    }

    @Test("160 is per account, period and payday: the same payload for another payday or employer is filed")
    func identicalElsewhere() throws {
        let registry = FilingRegistry()
        #expect(Self.code(registry.file(try Self.request(), client: "c", now: Self.start)) == 0)
        #expect(Self.code(registry.file(try Self.request(payday: "2025-05-23"), client: "c", now: Self.start)) == 0)
        #expect(Self.code(registry.file(try Self.request(employer: "136410132"), client: "c", now: Self.start)) == 0)
        #expect(registry.count == 3)
    }

    @Test("an amendment (isAmended, the original's key) is filed; the identical amendment is 160 within the hour only")
    func amendments() throws {
        let registry = FilingRegistry()
        guard case .stored(let key, _, _) = registry.file(try Self.request(), client: "c", now: Self.start) else {
            Issue.record("the original was not stored")
            return
        }
        let amendment = try Self.request(hash: "amended", amends: key)
        #expect(Self.code(registry.file(amendment, client: "c", now: Self.start.addingTimeInterval(600))) == 0)
        #expect(Self.code(registry.file(amendment, client: "c", now: Self.start.addingTimeInterval(1200))) == 160)
        #expect(Self.code(registry.file(amendment, client: "c", now: Self.start.addingTimeInterval(4200))) == 0)
        // An amendment of a key the registry never issued: 103 "No return found".
        let unknown = registry.file(try Self.request(hash: "other", amends: key + 1000), client: "c", now: Self.start)
        #expect(unknown == .refused(code: 103, message: "No return found", duplicate: nil))
        #expect(registry.count == 3)
    }

    @Test("with the accept policy a second original is stored and flagged, and 160 still refuses an identical one")
    func acceptPolicy() throws {
        let registry = FilingRegistry(configuration: .init(duplicatePolicy: .accept))
        #expect(Self.code(registry.file(try Self.request(), client: "c", now: Self.start)) == 0)
        #expect(Self.code(registry.file(try Self.request(), client: "c", now: Self.start.addingTimeInterval(5))) == 160)
        guard case .stored(_, _, let duplicate) = registry.file(try Self.request(hash: "b"), client: "c", now: Self.start) else {
            Issue.record("the second original was not stored")
            return
        }
        #expect(duplicate == "accepted-again")
    }
}
