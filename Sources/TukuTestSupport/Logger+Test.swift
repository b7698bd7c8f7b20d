import Logging

extension Logger {
    /// A logger for tests: warnings and worse only, so test output shows what matters.
    public static func test(_ label: String = "tuku.test") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}
