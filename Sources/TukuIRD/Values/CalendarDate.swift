/// A calendar date with no time or zone, as IRD's `cmn:DateType` (`xsd:date`, after 1850-01-01).
///
/// Parsed only from ISO `yyyy-MM-dd`; day-of-month is checked against the month, leap years included.
public struct CalendarDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The year, 1850…9999.
    public let year: Int
    /// The month, 1…12.
    public let month: Int
    /// The day of the month, 1…28/29/30/31.
    public let day: Int

    /// Creates a date; `nil` if the day does not exist or the date is outside IRD's range.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1850...9999).contains(year),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        // cmn:DateType is minExclusive 1850-01-01.
        if year == 1850 && month == 1 && day == 1 { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `yyyy-MM-dd`. Throws ``PayloadError`` with code `.invalidDate`.
    public init(_ text: String) throws(PayloadError) {
        let scalars = Array(text.unicodeScalars)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard ("0"..."9").contains(scalars[index]) else { return nil }
                value = value * 10 + Int(scalars[index].value - 48)
            }
            return value
        }
        guard scalars.count == 10, scalars[4] == "-", scalars[7] == "-",
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10)
        else {
            throw PayloadError(code: .invalidDate, reason: "must be an ISO date yyyy-MM-dd")
        }
        guard let date = CalendarDate(year: year, month: month, day: day) else {
            throw PayloadError(code: .invalidDate, reason: "is not a real date between 1850-01-02 and 9999-12-31")
        }
        self = date
    }

    /// The number of days in `month` of `year`.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2:
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// The last day of this date's month: the EI filing period end date for a payday on this date.
    public var lastDayOfMonth: CalendarDate {
        CalendarDate(unchecked: year, month, Self.daysIn(month: month, year: year))
    }

    /// Whether `other` falls in the same calendar month.
    public func isInSameMonth(as other: CalendarDate) -> Bool {
        year == other.year && month == other.month
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `yyyy-MM-dd`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Chronological order.
    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

extension CalendarDate: FieldValue {
    /// Parses like ``init(_:)``.
    public init(fieldText: String) throws(PayloadError) { try self.init(fieldText) }
    /// `yyyy-MM-dd`.
    public var fieldText: String { description }
}
