import Foundation
import TukuCore

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
        switch Hundredths.parse(text, maximumWholeDigits: 16) {
        case .success(let pence): .success(HMRCMoney(pence: pence))
        case .failure(.tooManyDecimals): .failure(HMRCValueError("must be a monetary value with at most 2 decimal places"))
        case .failure(.tooManyDigits): .failure(HMRCValueError("is outside HMRC's range"))
        case .failure(.unexpectedCharacter):
            .failure(HMRCValueError("must be a decimal number like 105.50 (digits, optional leading '-', optional '.')"))
        case .failure(.incomplete): .failure(HMRCValueError("must be a decimal number like 105.50"))
        }
    }

    /// Converts an exact decimal (one decoded from a JSON number) without rounding.
    public static func exactly(_ decimal: Decimal) -> Result<HMRCMoney, HMRCValueError> {
        guard decimal.isFinite else { return .failure(HMRCValueError("must be a finite number")) }
        return parse(plainText(of: decimal))
    }

    /// The exact plain decimal text of `decimal` (no exponent).
    static func plainText(of decimal: Decimal) -> String { Hundredths.plainText(of: decimal) }

    /// Whether the amount is a whole number of pounds (HMRC's boxes 6 to 9).
    public var isWholePounds: Bool { pence % 100 == 0 }

    /// The amount with exactly two decimals and `-` for negatives: `105.50`, `-0.05`, `0.00`. Valid both as a JSON
    /// number and as HMRC's money text.
    public var text: String { Hundredths.text(pence) }

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
