import Foundation

/// Exact decimal amounts in hundredths (cents, pence), read from text without binary floating point: what IRD's
/// `Money` and HMRC's `HMRCMoney` share. Each gateway words its own errors and checks its own range.
public enum Hundredths {
    /// Why text is not an amount in hundredths.
    public enum Problem: Error, Sendable, Hashable {
        /// More than two digits after the point.
        case tooManyDecimals
        /// More whole digits (leading zeros not counted) than the caller allows.
        case tooManyDigits
        /// A character that is not a digit, a leading `-` or one `.`.
        case unexpectedCharacter
        /// No digit before the point, or a point with none after it (`""`, `"-"`, `".5"`, `"5."`).
        case incomplete
    }

    /// Parses an optional `-`, one or more digits, optionally `.` and one or two digits, into hundredths. No
    /// exponent, thousands separator, currency sign or surrounding space. `maximumWholeDigits` (at most 16, which
    /// keeps every result in an `Int64`) bounds the digits before the point, leading zeros not counted.
    public static func parse(_ text: String, maximumWholeDigits: Int) -> Result<Int64, Problem> {
        precondition((1...16).contains(maximumWholeDigits), "at most 16 whole digits fit in Int64 hundredths")
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
                    guard fractionDigits <= 2 else { return .failure(.tooManyDecimals) }
                    fraction = fraction * 10 + digit
                } else {
                    sawWholeDigit = true
                    if wholeDigits > 0 || digit != 0 { wholeDigits += 1 }
                    guard wholeDigits <= maximumWholeDigits else { return .failure(.tooManyDigits) }
                    whole = whole * 10 + digit
                }
            case "." where !seenPoint:
                seenPoint = true
            default:
                return .failure(.unexpectedCharacter)
            }
        }
        guard sawWholeDigit, !seenPoint || fractionDigits > 0 else { return .failure(.incomplete) }
        if fractionDigits == 1 { fraction *= 10 }
        let magnitude = whole * 100 + fraction
        return .success(negative ? -magnitude : magnitude)
    }

    /// The exact plain decimal text of `decimal` (no exponent), built from its significand and exponent:
    /// `Decimal.description` is exact but may use an exponent for very large or small values.
    public static func plainText(of decimal: Decimal) -> String {
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

    /// Hundredths as text with exactly two decimals and `-` for negatives: `1234.50`, `-0.05`, `0.00`.
    public static func text(_ hundredths: Int64) -> String {
        let magnitude = hundredths.magnitude
        let whole = magnitude / 100
        let fraction = magnitude % 100
        return (hundredths < 0 ? "-" : "") + String(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }
}
