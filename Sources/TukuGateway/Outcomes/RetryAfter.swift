import Foundation

/// Reads the HTTP `Retry-After` header (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// The delay a `Retry-After` value asks for: delay-seconds (`120`) or an HTTP-date
    /// (`Wed, 21 Oct 2015 07:28:00 GMT`) relative to `now`. `nil` when unreadable; zero when the date has passed.
    public static func delay(fromHeader value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty, trimmed.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            guard let seconds = Int64(trimmed) else { return nil }
            return .seconds(seconds)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds <= 0 ? .zero : .seconds(Int64(seconds.rounded(.up)))
    }
}
