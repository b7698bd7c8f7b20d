import Synchronization

/// Bounds a database call in time, whatever the connection underneath does.
///
/// PostgresNIO honours task cancellation while a call waits for a pooled connection, and while it reads rows,
/// but not while it waits for the server's first answer to a query it has written (`PostgresClient.query`
/// awaits an `EventLoopFuture` with no cancellation handler). If the server's session dies at that moment
/// without the socket closing (a restart, a failover, a dropped network path), the call neither returns nor
/// throws. Every database call in Tuku therefore goes through ``run(_:timeout:_:)``: the call runs in a task of
/// its own, and the caller gets its answer, a ``QueueError/Code/timedOut`` error at the deadline, or a
/// `CancellationError` as soon as it is cancelled, whichever comes first. A call given up on is cancelled and
/// left to end on its own (it holds at most one pooled connection, which PostgresNIO closes once the socket
/// fails); whether its statement took effect is unknown, as with any call whose answer was lost.
public enum DatabaseDeadline {
    /// The deadline of a call that names none. Defaults to 10 seconds: every statement Tuku runs answers within
    /// milliseconds on a healthy server, and a worker must notice a dead session long before its leases (30 s)
    /// run out.
    public static let defaultTimeout: Duration = .seconds(10)

    /// Runs `body`, giving up on it after `timeout` or when the calling task is cancelled.
    ///
    /// - Parameter operation: what the call does, for the error message (`"ack batch"`, `"slot confirmation"`).
    /// - Throws: `body`'s error, ``QueueError`` with code ``QueueError/Code/timedOut`` at the deadline, or
    ///   `CancellationError`.
    public static func run<Result: Sendable>(
        _ operation: String, timeout: Duration = Self.defaultTimeout,
        _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        try Task.checkCancellation()
        let outcome = Outcome<Result>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                outcome.install(continuation)
                // Unstructured on purpose: a structured child would make this call wait for `body` to end, and
                // the point is not to wait for a call that may never end. The task is cancelled when given up on.
                let work = Task {
                    do {
                        outcome.finish(.success(try await body()))
                    } catch {
                        outcome.finish(.failure(error))
                    }
                }
                // Unstructured for the same reason: the timer must fire while `body` is stuck.
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    if Task.isCancelled { return }
                    outcome.finish(.failure(QueueError(.timedOut, "the \(operation) did not finish within \(timeout)")))
                }
                outcome.onFinish {
                    work.cancel()
                    timer.cancel()
                }
            }
        } onCancel: {
            outcome.finish(.failure(CancellationError()))
        }
    }

    /// The first result of a call (its answer, its deadline or its cancellation) and what to do once it is known.
    private final class Outcome<Result: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Result, any Error>?
            var result: Swift.Result<Result, any Error>?
            var resumed = false
            var cleanup: (@Sendable () -> Void)?
        }
        private let state = Mutex(State())

        func install(_ continuation: CheckedContinuation<Result, any Error>) {
            let early = self.state.withLock { state -> Swift.Result<Result, any Error>? in
                if let result = state.result {
                    state.resumed = true
                    return result
                }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
            let runNow = self.state.withLock { state -> Bool in
                if state.result != nil { return true }
                state.cleanup = cleanup
                return false
            }
            if runNow { cleanup() }
        }

        /// Records the first result and resumes the caller; later results are dropped.
        func finish(_ result: Swift.Result<Result, any Error>) {
            let (continuation, cleanup) = self.state.withLock {
                state -> (CheckedContinuation<Result, any Error>?, (@Sendable () -> Void)?) in
                guard state.result == nil else { return (nil, nil) }
                state.result = result
                let continuation = state.resumed ? nil : state.continuation
                if continuation != nil { state.resumed = true }
                state.continuation = nil
                let cleanup = state.cleanup
                state.cleanup = nil
                return (continuation, cleanup)
            }
            continuation?.resume(with: result)
            cleanup?()
        }
    }
}
