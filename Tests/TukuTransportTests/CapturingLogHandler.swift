import Logging
import Synchronization

/// Keeps every log record (message and metadata, rendered as text) so a test can check what was logged.
struct CapturingLogHandler: LogHandler {
    final class Store: Sendable {
        private let lines = Mutex<[String]>([])

        var all: [String] { self.lines.withLock { $0 } }

        func append(_ line: String) {
            self.lines.withLock { $0.append(line) }
        }

        /// A logger at trace level that writes here.
        func logger(label: String = "test") -> Logger {
            var logger = Logger(label: label) { _ in CapturingLogHandler(store: self) }
            logger.logLevel = .trace
            return logger
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = self.metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        self.store.append("\(event.level) \(event.message) \(all)")
    }
}
