import Foundation
import Synchronization

/// Appends one JSON line per request to a file (`--arrivals FILE`).
///
/// Each line is written with a single `write(2)` under a lock, so lines never interleave and a reader (the demo's
/// live progress) sees only whole lines. Lines are appended when the answer is sent, so they are in completion
/// order; sort by `at` for arrival order.
public final class ArrivalsLog: Sendable {
    private let handle: Mutex<FileHandle?>

    /// Opens (creating or truncating) the file.
    ///
    /// - Throws: ``SandboxError/Code/arrivalsLogFailed`` when the file cannot be created.
    public init(path: String) throws(SandboxError) {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw SandboxError(.arrivalsLogFailed, "cannot create the arrivals log \(path)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw SandboxError(.arrivalsLogFailed, "cannot open the arrivals log \(path) for writing")
        }
        self.handle = Mutex(handle)
    }

    /// Appends one arrival. Write errors are ignored: the log must never fail a call.
    public func append(_ arrival: Arrival) {
        let data = Data((arrival.jsonLine + "\n").utf8)
        handle.withLock { handle in
            try? handle?.write(contentsOf: data)
        }
    }

    /// Closes the file; later appends are dropped.
    public func close() {
        handle.withLock { handle in
            try? handle?.close()
            handle = nil
        }
    }
}
