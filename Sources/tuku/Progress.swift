import Foundation
import Synchronization
import TukuCore

/// A progress bar on standard error, redrawn at most ten times a second; silent when not on a terminal.
final class Progress: Sendable {
    private struct State {
        var done = 0
        var lastDrawn = ContinuousClock.now - .seconds(1)
    }

    private let total: Int
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    init(total: Int, enabled: Bool) {
        self.total = max(total, 1)
        self.enabled = enabled
    }

    func advance(by count: Int) {
        guard self.enabled else { return }
        let line: String? = self.state.withLock { state in
            state.done += count
            let now = ContinuousClock.now
            guard now - state.lastDrawn >= .milliseconds(100) else { return nil }
            state.lastDrawn = now
            return self.render(done: state.done, now: now)
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard self.enabled else { return }
        let line = self.state.withLock { self.render(done: $0.done, now: .now) }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func render(done: Int, now: ContinuousClock.Instant) -> String {
        let fraction = min(1, Double(done) / Double(self.total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = now - self.started
        let seconds = elapsed.inSeconds
        let rate = seconds > 0 ? Int(Double(done) / seconds) : 0
        return "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            + "] \(done)/\(self.total) lines  \(rate)/s "
    }
}
