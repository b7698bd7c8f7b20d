import Foundation
import Testing
import TukuIRD

@Suite("Money")
struct MoneyTests {
    @Test(
        "decimal text parses to exact cents",
        arguments: [
            ("1234.50", Int64(123_450)), ("1234.5", 123_450), ("0", 0), ("0.01", 1), ("-0.05", -5),
            ("9999999999999.99", 999_999_999_999_999), ("-99999999999.99", -9_999_999_999_999), ("007.10", 710),
        ])
    func parsesText(text: String, cents: Int64) throws {
        #expect(try Money(text).cents == cents)
    }

    @Test(
        "more than two decimals, exponents, separators and junk are rejected",
        arguments: [
            "1.005", "1.500", "1e3", "1,234.00", "$5", " 5", "5 ", ".5", "5.", "-", "", "--1", "1.2.3", "NaN",
            "10000000000000.00", "-100000000000.00",
        ])
    func rejectsText(text: String) {
        #expect(throws: PayloadError.self) { try Money(text) }
    }

    @Test("formats as xsd:decimal with two places")
    func formats() {
        #expect(Money(cents: 123_450).xsdDecimal == "1234.50")
        #expect(Money(cents: 5).xsdDecimal == "0.05")
        #expect(Money(cents: -5).xsdDecimal == "-0.05")
        #expect(Money(cents: -123_401).xsdDecimal == "-1234.01")
        #expect(Money.zero.xsdDecimal == "0.00")
    }

    struct Box: Codable, Equatable {
        var amount: Money
    }

    @Test("JSON numbers are read exactly, beyond Double's precision")
    func jsonNumbersAreExact() throws {
        // As a Double, 1.0000000000000001 is exactly 1.0 and would pass; its exact value has 16 decimals.
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Box.self, from: Data(#"{"amount": 1.0000000000000001}"#.utf8))
        }
        // 9999999999999.99 is the schema maximum; a Double cannot hold it exactly.
        let maximum = try JSONDecoder().decode(Box.self, from: Data(#"{"amount": 9999999999999.99}"#.utf8))
        #expect(maximum.amount.cents == 999_999_999_999_999)
        let small = try JSONDecoder().decode(Box.self, from: Data(#"{"amount": 0.1}"#.utf8))
        #expect(small.amount.cents == 10)
        let exponent = try JSONDecoder().decode(Box.self, from: Data(#"{"amount": 1.5e2}"#.utf8))
        #expect(exponent.amount.cents == 15_000)
    }

    @Test("JSON strings and numbers decode alike; more than two decimals fails decoding")
    func jsonStringsAndNumbers() throws {
        let text = try JSONDecoder().decode(Box.self, from: Data(#"{"amount": "1234.50"}"#.utf8))
        let number = try JSONDecoder().decode(Box.self, from: Data(#"{"amount": 1234.5}"#.utf8))
        #expect(text == number)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Box.self, from: Data(#"{"amount": 1.005}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Box.self, from: Data(#"{"amount": "1.005"}"#.utf8))
        }
    }

    @Test("encodes to a JSON string so no reader needs floating point")
    func encodesAsString() throws {
        let json = try JSONEncoder().encode(Box(amount: Money(cents: 100_000_001)))
        #expect(String(decoding: json, as: UTF8.self) == #"{"amount":"1000000.01"}"#)
    }

    @Test("a payload field keeps bad amount text for validation instead of failing to decode")
    func fieldKeepsBadText() throws {
        struct Holder: Codable { var amount: Field<Money> }
        let holder = try JSONDecoder().decode(Holder.self, from: Data(#"{"amount": 12.345}"#.utf8))
        guard case .invalid(let text, let reason) = holder.amount else {
            Issue.record("expected invalid, got \(holder.amount)")
            return
        }
        #expect(text == "12.345")
        #expect(reason.contains("2 decimal places"))
        let missing = try JSONDecoder().decode(Holder.self, from: Data("{}".utf8))
        #expect(missing.amount == .missing)
    }
}
