import Synchronization
import TukuCore

/// One run of a handler that the worker can give up on.
///
/// A handler should end promptly when cancelled, and every call it makes has a deadline; but one stuck in a call
/// that ignores cancellation (a library awaiting a future with no cancellation handler) must not hold its job,
/// its lease or the worker's shutdown. So the handler runs in a task of its own, and ``run(cancellationWait:_:)``
/// returns its result, or `nil` once the run is abandoned (``abandon()``: it overran its kind's run timeout) or,
/// after the caller is cancelled, once `cancellationWait` has passed without the handler ending.
final class JobTask: Sendable {
    typealias Result = (JobOutcome, RetryPolicy)

    private struct State {
        var continuation: CheckedContinuation<Result?, Never>?
        var done = false
        var early: Result??
        var work: Task<Void, Never>?
    }
    private let state = Mutex(State())

    /// Runs `body` and returns its result, or `nil` when given up on.
    func run(cancellationWait: Duration, _ body: @escaping @Sendable () async -> Result) async -> Result? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
                let early = self.state.withLock { state -> Result?? in
                    if let early = state.early { return early }
                    state.continuation = continuation
                    return nil
                }
                if let early {
                    continuation.resume(returning: early)
                    return
                }
                // Unstructured on purpose (see the type's documentation): the worker must be able to stop waiting
                // for a handler that does not end. It is cancelled whenever the run is given up on.
                let work = Task { self.finish(await body()) }
                let cancelNow = self.state.withLock { state -> Bool in
                    state.work = work
                    return state.done
                }
                if cancelNow { work.cancel() }
            }
        } onCancel: {
            // Shutdown: the handler is cancelled and hands its job back; one that ignores it is given up on.
            self.state.withLock { $0.work }?.cancel()
            // Unstructured: a timer that must fire while the handler is stuck.
            Task {
                try? await Task.sleep(for: cancellationWait)
                self.finish(nil)
            }
        }
    }

    /// Gives up on the run: ``run(cancellationWait:_:)`` returns `nil` at once and the handler is cancelled.
    func abandon() {
        self.finish(nil)
    }

    private func finish(_ result: Result?) {
        let (continuation, work) = self.state.withLock { state -> (CheckedContinuation<Result?, Never>?, Task<Void, Never>?) in
            guard !state.done else { return (nil, nil) }
            state.done = true
            guard let continuation = state.continuation else {
                state.early = .some(result)
                return (nil, nil)
            }
            state.continuation = nil
            return (continuation, result == nil ? state.work : nil)
        }
        continuation?.resume(returning: result)
        work?.cancel()
    }
}
