import Testing
import TukuIRD

@Suite("IRD numbers")
struct IRDNumberTests {
    @Test(
        "IRD's documented valid numbers pass, including one that needs the secondary weights",
        arguments: [
            ("49091850", 49_091_850), ("35901981", 35_901_981), ("49098576", 49_098_576), ("136410132", 136_410_132),
        ])
    func documentedValidNumbers(text: String, value: Int) throws {
        let number = try IRDNumber(text)
        #expect(number.value == value)
        #expect(!number.isUnknown)
    }

    @Test(
        "IRD's documented invalid numbers and IRD's own failing sample number are rejected",
        arguments: [
            "136410133", "123037155", "123456789",
        ])
    func documentedInvalidNumbers(text: String) {
        #expect(throws: PayloadError.self) { try IRDNumber(text) }
    }

    @Test("49098576 fails the primary weights and passes only with the secondary weights")
    func secondaryWeightsAreNeeded() {
        // Base 04909857. Primary weights 3,2,7,6,5,4,3,2: 0+8+63+0+45+32+15+14 = 177, 177 mod 11 = 1, so the
        // expected digit is 10 and IRD says to redo with 7,4,3,2,5,2,7,6: 0+16+27+0+45+16+35+42 = 181,
        // 181 mod 11 = 5, expected 6 = the supplied digit. A primary-only check would reject it.
        #expect(IRDNumber.passesCheckDigit(49_098_576))
        for wrong in 0...9 where wrong != 6 {
            #expect(!IRDNumber.passesCheckDigit(49_098_570 + wrong))
        }
    }

    @Test("numbers outside 10,000,000 to 150,000,000 are rejected even with 8 or 9 digits")
    func rangeIsChecked() {
        #expect(throws: PayloadError.self) { try IRDNumber("09125568") }
        #expect(throws: PayloadError.self) { try IRDNumber("150000001") }
        #expect(throws: PayloadError.self) { try IRDNumber("999999999") }
    }

    @Test("IRD's grouped forms (one dash or one space between groups of 2 or 3, 3 and 3 digits) parse; the wire form is 9 zero-padded digits")
    func separatorsAndWireForm() throws {
        #expect(try IRDNumber("49-091-850").wireForm == "049091850")
        #expect(try IRDNumber("049-091-850").wireForm == "049091850")
        #expect(try IRDNumber("049 091 850").wireForm == "049091850")
        #expect(try IRDNumber("49 091 850").wireForm == "049091850")
        #expect(try IRDNumber("136-410-132").wireForm == "136410132")
        #expect(try IRDNumber("49091850").description == "049-091-850")
    }

    @Test(
        "separators anywhere else are refused, so that two different strings never name one employer",
        arguments: [
            "-49091850", "49--091--850", "49091850-", "4-9091850", "49-091850", "490-91-850", "49-091 850", " 49091850",
            "49091850 ", "0-4-9-0-9-1-8-5-0", "049  091  850", "0049-091-850", "-049-091-850",
        ])
    func strayedSeparators(text: String) {
        do {
            let number = try IRDNumber(text)
            Issue.record("accepted \(text) as \(number.wireForm)")
        } catch {
            #expect(error.code == .invalidIRDNumber)
            #expect(error.reason.contains("049-091-850"))
        }
    }

    @Test(
        "letters, other punctuation and wrong digit counts are rejected with a reason",
        arguments: [
            "", "4909185", "1364101320", "49.091.850", "49O91850", "+49091850", "４９０９１８５０",
        ])
    func malformed(text: String) {
        do {
            _ = try IRDNumber(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .invalidIRDNumber)
            #expect(!error.reason.isEmpty)
        }
    }

    @Test("all zeros parses as the unknown number, which validation allows only where IRD does")
    func allZeros() throws {
        let number = try IRDNumber("000-000-000")
        #expect(number == .unknown)
        #expect(number.isUnknown)
        #expect(number.wireForm == "000000000")
    }

    @Test("every 9-digit value the check accepts differs from its neighbours' check digits")
    func checkDigitIsUnique() {
        // For any base, at most one final digit can pass.
        for base in stride(from: 10_000_000, to: 10_050_000, by: 7) {
            let passing = (0...9).filter { IRDNumber.passesCheckDigit(base * 10 + $0) }
            #expect(passing.count <= 1)
        }
    }
}
