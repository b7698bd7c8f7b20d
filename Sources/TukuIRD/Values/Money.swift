import Foundation

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
        var scalars = Substring(text).unicodeScalars[...]
        var negative = false
        if scalars.first == "-" {
            negative = true
            scalars = scalars.dropFirst()
        }
        var whole: Int64 = 0
        var wholeDigits = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenPoint = false
        for scalar in scalars {
            switch scalar {
            case "0"..."9":
                let digit = Int64(scalar.value - 48)
                if seenPoint {
                    fractionDigits += 1
                    guard fractionDigits <= 2 else {
                        throw PayloadError(code: .invalidAmount, reason: "must have at most 2 decimal places")
                    }
                    fraction = fraction * 10 + digit
                } else {
                    wholeDigits += 1
                    guard wholeDigits <= 15 else {
                        throw PayloadError(code: .invalidAmount, reason: "is outside IRD's money range")
                    }
                    whole = whole * 10 + digit
                }
            case "." where !seenPoint:
                seenPoint = true
            default:
                throw PayloadError(
                    code: .invalidAmount,
                    reason: "must be a decimal number like 1234.50 (digits, optional leading '-', optional '.')"
                )
            }
        }
        guard wholeDigits > 0, !seenPoint || fractionDigits > 0 else {
            throw PayloadError(code: .invalidAmount, reason: "must be a decimal number like 1234.50")
        }
        if fractionDigits == 1 { fraction *= 10 }
        let magnitude = whole * 100 + fraction
        let cents = negative ? -magnitude : magnitude
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

    /// The exact plain decimal text of `decimal` (no exponent), built from its mantissa digits and exponent.
    static func plainText(of decimal: Decimal) -> String {
        // `Decimal.description` is exact, but may use an exponent for very large or small values;
        // normalise to plain positional text so ``init(_:)`` applies one set of rules.
        let described = decimal.description
        guard described.contains("e") || described.contains("E") else { return described }
        var mantissa = decimal.significand.magnitude.description
        let exponent = Int(decimal.exponent)
        let sign = decimal.sign == .minus ? "-" : ""
        if exponent >= 0 {
            return sign + mantissa + String(repeating: "0", count: exponent)
        }
        let places = -exponent
        if mantissa.count <= places {
            mantissa = String(repeating: "0", count: places - mantissa.count + 1) + mantissa
        }
        let split = mantissa.index(mantissa.endIndex, offsetBy: -places)
        return sign + mantissa[..<split] + "." + mantissa[split...]
    }

    /// Whether the amount lies in `cmn:MoneyType`'s range.
    public var isWithinIRDRange: Bool { cents >= Self.minimumCents && cents <= Self.maximumCents }

    /// Whether the amount is below zero.
    public var isNegative: Bool { cents < 0 }

    /// The `xsd:decimal` text IRD's schemas take: always two decimals, `-` for negatives (`1234.50`, `-0.05`).
    public var xsdDecimal: String {
        let magnitude = cents.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        return (cents < 0 ? "-" : "") + String(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

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
