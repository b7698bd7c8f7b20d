import Foundation
import TukuIRD

/// When an EI return is due, and whether one was received on time (gateway notes §5.3, from ird.govt.nz): electronic
/// filers file within 2 working days after each payday. Saturdays, Sundays and 25 December–15 January are not
/// working days.
///
/// NZ public holidays (Waitangi Day, Easter, ANZAC Day, King's Birthday, Matariki, Labour Day, regional anniversaries)
/// are not modelled: a return due across one of them is judged a day early (docs/sandbox.md lists this difference).
public enum FilingDeadline {
    /// IRD's time zone: a return's received date is its New Zealand date.
    static let zone = TimeZone(identifier: "Pacific/Auckland") ?? TimeZone(secondsFromGMT: 12 * 3600)!

    private static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    /// The due date of the return for `payday`: the second working day after it.
    public static func dueDate(payday: CalendarDate) -> CalendarDate {
        let calendar = self.calendar
        guard var day = calendar.date(from: DateComponents(year: payday.year, month: payday.month, day: payday.day, hour: 12))
        else { return payday }
        var working = 0
        while working < 2 {
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
            if isWorkingDay(day, calendar: calendar) { working += 1 }
        }
        return calendarDate(day, calendar: calendar) ?? payday
    }

    /// The New Zealand calendar date of an instant.
    public static func receivedDate(_ instant: Date) -> CalendarDate? {
        calendarDate(instant, calendar: calendar)
    }

    /// Whether a return for `payday` received at `instant` is late (received after the due date).
    public static func isLate(payday: CalendarDate, receivedAt instant: Date) -> Bool {
        guard let received = receivedDate(instant) else { return false }
        return dueDate(payday: payday) < received
    }

    private static func isWorkingDay(_ day: Date, calendar: Calendar) -> Bool {
        let parts = calendar.dateComponents([.weekday, .month, .day], from: day)
        if parts.weekday == 1 || parts.weekday == 7 { return false }
        if parts.month == 12, (parts.day ?? 0) >= 25 { return false }
        if parts.month == 1, (parts.day ?? 99) <= 15 { return false }
        return true
    }

    private static func calendarDate(_ instant: Date, calendar: Calendar) -> CalendarDate? {
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return CalendarDate(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }
}
