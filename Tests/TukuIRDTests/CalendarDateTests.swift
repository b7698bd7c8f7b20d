import Testing
import TukuIRD

@Suite("Calendar dates")
struct CalendarDateTests {
    @Test("ISO dates parse, including 29 February in leap years")
    func parses() throws {
        let date = try CalendarDate("2024-02-29")
        #expect((date.year, date.month, date.day) == (2024, 2, 29))
        #expect(date.description == "2024-02-29")
        #expect(try CalendarDate("2000-02-29").day == 29)
    }

    @Test(
        "non-ISO text, impossible days and dates outside IRD's range are rejected",
        arguments: [
            "2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10", "24-05-01", "2024/05/01",
            "2024-5-1", "2024-05-01T00:00:00", "1850-01-01", "01-05-2024", "",
        ])
    func rejects(text: String) {
        #expect(throws: PayloadError.self) { try CalendarDate(text) }
    }

    @Test("the period end is the last day of the payday's month")
    func lastDayOfMonth() throws {
        #expect(try CalendarDate("2024-02-10").lastDayOfMonth.description == "2024-02-29")
        #expect(try CalendarDate("2023-02-10").lastDayOfMonth.description == "2023-02-28")
        #expect(try CalendarDate("2024-04-01").lastDayOfMonth.description == "2024-04-30")
        #expect(try CalendarDate("2024-12-31").lastDayOfMonth.description == "2024-12-31")
    }

    @Test("dates order chronologically")
    func ordering() throws {
        #expect(try CalendarDate("2024-01-31") < CalendarDate("2024-02-01"))
        #expect(try !(CalendarDate("2024-02-01") < CalendarDate("2024-02-01")))
    }
}
