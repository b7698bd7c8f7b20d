import Foundation

/// An exact sterling amount held as integer pence, as HMRC's VAT (MTD) API takes money: a JSON number with at most
/// two decimal places.
///
/// Never held in binary floating point. From a payload it is read from a JSON string (`"105.50"`) or a JSON number,
/// whose exact decimal text is taken through `Decimal` (never `Double`). More than two decimal places is an error, not
/// a rounding. On the wire it is written as a JSON number with exactly two decimals (`105.50`, `-0.05`).
public struct HMRCMoney: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The amount in pence.
    public let pence: Int64

    /// Creates an amount from pence.
    public init(pence: Int64) {
        self.pence = pence
    }

    /// Zero.
    public static let zero = HMRCMoney(pence: 0)

    /// Parses decimal text: an optional `-`, one or more digits (at most 16), optionally `.` and one or two digits.
    /// No exponent, thousands separator, currency sign or surrounding space. `nil` with the reason otherwise.
    public static func parse(_ text: String) -> Result<HMRCMoney, HMRCValueError> {
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
        var sawWholeDigit = false
        for scalar in scalars {
            switch scalar {
            case "0"..."9":
                let digit = Int64(scalar.value - 48)
                if seenPoint {
                    fractionDigits += 1
                    guard fractionDigits <= 2 else {
                        return .failure(HMRCValueError("must be a monetary value with at most 2 decimal places"))
                    }
                    fraction = fraction * 10 + digit
                } else {
                    sawWholeDigit = true
                    // Leading zeros do not count towards the 16-digit bound that keeps the pence in an Int64.
                    if wholeDigits > 0 || digit != 0 { wholeDigits += 1 }
                    guard wholeDigits <= 16 else { return .failure(HMRCValueError("is outside HMRC's range")) }
                    whole = whole * 10 + digit
                }
            case "." where !seenPoint:
                seenPoint = true
            default:
                return .failure(HMRCValueError("must be a decimal number like 105.50 (digits, optional leading '-', optional '.')"))
            }
        }
        guard sawWholeDigit, !seenPoint || fractionDigits > 0 else {
            return .failure(HMRCValueError("must be a decimal number like 105.50"))
        }
        if fractionDigits == 1 { fraction *= 10 }
        let magnitude = whole * 100 + fraction
        return .success(HMRCMoney(pence: negative ? -magnitude : magnitude))
    }

    /// Converts an exact decimal (one decoded from a JSON number) without rounding.
    public static func exactly(_ decimal: Decimal) -> Result<HMRCMoney, HMRCValueError> {
        guard decimal.isFinite else { return .failure(HMRCValueError("must be a finite number")) }
        return parse(plainText(of: decimal))
    }

    /// The exact plain decimal text of `decimal` (no exponent), built from its significand and exponent.
    static func plainText(of decimal: Decimal) -> String {
        let described = decimal.description
        guard described.contains("e") || described.contains("E") else { return described }
        var digits = decimal.significand.magnitude.description
        let exponent = Int(decimal.exponent)
        let sign = decimal.sign == .minus ? "-" : ""
        if exponent >= 0 { return sign + digits + String(repeating: "0", count: exponent) }
        let places = -exponent
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -places)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// Whether the amount is a whole number of pounds (HMRC's boxes 6 to 9).
    public var isWholePounds: Bool { pence % 100 == 0 }

    /// The amount with exactly two decimals and `-` for negatives: `105.50`, `-0.05`, `0.00`. Valid both as a JSON
    /// number and as HMRC's money text.
    public var text: String {
        let magnitude = pence.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        return (pence < 0 ? "-" : "") + String(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }

    /// ``text``.
    public var description: String { text }

    /// Adds two amounts; `nil` on overflow.
    public func adding(_ other: HMRCMoney) -> HMRCMoney? {
        let (sum, overflow) = pence.addingReportingOverflow(other.pence)
        return overflow ? nil : HMRCMoney(pence: sum)
    }

    /// Subtracts `other`; `nil` on overflow.
    public func subtracting(_ other: HMRCMoney) -> HMRCMoney? {
        let (difference, overflow) = pence.subtractingReportingOverflow(other.pence)
        return overflow ? nil : HMRCMoney(pence: difference)
    }

    /// Orders by amount.
    public static func < (lhs: HMRCMoney, rhs: HMRCMoney) -> Bool { lhs.pence < rhs.pence }
}

/// Why a value of an HMRC payload is not acceptable (a sentence for a person, never the value itself).
public struct HMRCValueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason.
    public var reason: String

    /// Creates an error.
    public init(_ reason: String) {
        self.reason = reason
    }

    /// ``reason``.
    public var description: String { reason }
}
