import Foundation
import TukuCore

/// An exact New Zealand dollar amount with two decimal places, held as integer cents.
///
/// Amounts are never held in binary floating point. From JSON they are read either from a string
/// (`"1234.50"`, the recommended form) or from a number, whose exact decimal text is taken through `Decimal`
/// (never `Double`). More than two decimal places is an error, not a rounding.
///
/// Every IRD amount is `cmn:MoneyType` (`xsd:decimal`, 2 fraction digits, −99,999,999,999.99 to
/// 9,999,999,999,999.99), so parsing enforces that range; whether a negative amount is acceptable depends on the
/// field (`cmn:MoneyTypePositive` fields take only amounts ≥ 0) and is checked by payload validation.
public struct Money: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The amount in cents.
    public let cents: Int64

    /// The lowest amount `cmn:MoneyType` allows, in cents (−99,999,999,999.99).
    public static let minimumCents: Int64 = -9_999_999_999_999
    /// The highest amount `cmn:MoneyType` allows, in cents (9,999,999,999,999.99).
    public static let maximumCents: Int64 = 999_999_999_999_999

    /// Zero.
    public static let zero = Money(cents: 0)

    /// Creates an amount from cents. No range check: see ``isWithinIRDRange``.
    public init(cents: Int64) {
        self.cents = cents
    }

    /// Parses decimal text: an optional `-`, one or more digits, optionally `.` and one or two digits.
    ///
    /// No exponent, thousands separator, currency sign or surrounding space. Throws ``PayloadError`` with code
    /// `.invalidAmount`.
    public init(_ text: String) throws(PayloadError) {
        let cents: Int64
        switch Hundredths.parse(text, maximumWholeDigits: 15) {
        case .success(let value): cents = value
        case .failure(.tooManyDecimals): throw PayloadError(code: .invalidAmount, reason: "must have at most 2 decimal places")
        case .failure(.tooManyDigits): throw PayloadError(code: .invalidAmount, reason: "is outside IRD's money range")
        case .failure(.unexpectedCharacter):
            throw PayloadError(
                code: .invalidAmount, reason: "must be a decimal number like 1234.50 (digits, optional leading '-', optional '.')")
        case .failure(.incomplete): throw PayloadError(code: .invalidAmount, reason: "must be a decimal number like 1234.50")
        }
        guard cents >= Self.minimumCents, cents <= Self.maximumCents else {
            throw PayloadError(code: .invalidAmount, reason: "is outside IRD's money range")
        }
        self.cents = cents
    }

    /// Converts an exact decimal (e.g. one decoded from a JSON number) without rounding.
    ///
    /// Throws if `decimal` has more than two significant decimal places or is outside IRD's range.
    public init(exactly decimal: Decimal) throws(PayloadError) {
        guard decimal.isFinite else {
            throw PayloadError(code: .invalidAmount, reason: "must be a finite number")
        }
        try self.init(Self.plainText(of: decimal))
    }

    /// The exact plain decimal text of `decimal` (no exponent), so that ``init(_:)`` applies one set of rules.
    static func plainText(of decimal: Decimal) -> String { Hundredths.plainText(of: decimal) }

    /// Whether the amount lies in `cmn:MoneyType`'s range.
    public var isWithinIRDRange: Bool { cents >= Self.minimumCents && cents <= Self.maximumCents }

    /// Whether the amount is below zero.
    public var isNegative: Bool { cents < 0 }

    /// The `xsd:decimal` text IRD's schemas take: always two decimals, `-` for negatives (`1234.50`, `-0.05`).
    public var xsdDecimal: String { Hundredths.text(cents) }

    /// ``xsdDecimal``.
    public var description: String { xsdDecimal }

    /// Adds two amounts; `nil` on `Int64` overflow (range against IRD's limits is ``isWithinIRDRange``).
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = cents.addingReportingOverflow(other.cents)
        return overflow ? nil : Money(cents: sum)
    }

    /// Orders by amount.
    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }
}

extension Money: Codable {
    /// Decodes from a JSON string (`"1234.50"`) or a JSON number (`1234.5`), exactly.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            if let text = try? container.decode(String.self) {
                try self.init(text)
            } else {
                try self.init(exactly: container.decode(Decimal.self))
            }
        } catch let error as PayloadError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.reason)
        }
    }

    /// Encodes as a JSON string with two decimals, so no reader is tempted into floating point.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(xsdDecimal)
    }
}

extension Money: FieldValue {
    /// Parses like ``init(_:)``.
    public init(fieldText: String) throws(PayloadError) { try self.init(fieldText) }
    /// ``xsdDecimal``.
    public var fieldText: String { xsdDecimal }
    /// JSON numbers are accepted and read exactly.
    public static var acceptsJSONNumbers: Bool { true }
}
