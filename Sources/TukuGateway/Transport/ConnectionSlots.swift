import Synchronization

/// Calls in flight per host, at most the pool's size: a call beyond it waits here, first come first served, until a
/// call on that host ends or its own deadline passes.
///
/// AsyncHTTPClient queues a request that finds every pooled connection busy too, but gives up on it after the
/// connect timeout (10 s) with `getConnectionFromPoolTimeout`, whatever the request's own deadline: behind slow
/// gateway answers, calls that never left failed as if the gateway could not be reached, each costing an attempt.
/// With this queue in front, the HTTP client never has more requests for a host than connections, so a call waits
/// for a connection as long as its own deadline allows and then fails as
/// ``TransportError/Code/noConnectionAvailable`` (nothing sent), which callers treat as pacing.
final class ConnectionSlots: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Bool, Never>
    }
    private struct Host {
        var busy = 0
        var waiters: [Waiter] = []
    }
    private struct State {
        var hosts: [String: Host] = [:]
        var nextID: UInt64 = 0
    }

    /// The most calls in flight per host.
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    /// Calls waiting for a slot on `host`, for tests and metrics.
    func waiting(on host: String) -> Int {
        self.state.withLock { $0.hosts[host]?.waiters.count ?? 0 }
    }

    /// Takes a slot on `host`, waiting until `deadline` at most. Returns `false` when the deadline passed or the
    /// task was cancelled first; the caller then holds no slot.
    func acquire(host: String, until deadline: ContinuousClock.Instant) async -> Bool {
        let id = self.state.withLock { state -> UInt64? in
            if state.hosts[host, default: Host()].busy < self.limit {
                state.hosts[host, default: Host()].busy += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        // Unstructured on purpose: the timer must end the wait while this task is suspended on it.
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            if !Task.isCancelled { self.expire(host: host, id: id) }
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let granted = self.state.withLock { state -> Bool in
                    // A slot may have come free since the first look.
                    if state.hosts[host, default: Host()].busy < self.limit {
                        state.hosts[host, default: Host()].busy += 1
                        return true
                    }
                    state.hosts[host, default: Host()].waiters.append(Waiter(id: id, continuation: continuation))
                    return false
                }
                if granted {
                    continuation.resume(returning: true)
                } else if Task.isCancelled || ContinuousClock.now >= deadline {
                    self.expire(host: host, id: id)
                }
            }
        } onCancel: {
            self.expire(host: host, id: id)
        }
    }

    /// Ends a call's hold on its slot: the next waiter for `host` takes it over.
    func release(host: String) {
        let next = self.state.withLock { state -> Waiter? in
            guard var entry = state.hosts[host] else { return nil }
            if entry.waiters.isEmpty {
                entry.busy -= 1
                if entry.busy == 0 {
                    state.hosts[host] = nil
                } else {
                    state.hosts[host] = entry
                }
                return nil
            }
            let next = entry.waiters.removeFirst()
            state.hosts[host] = entry
            return next
        }
        next?.continuation.resume(returning: true)
    }

    /// Ends a wait without a slot, if it is still waiting.
    private func expire(host: String, id: UInt64) {
        let waiter = self.state.withLock { state -> Waiter? in
            guard let index = state.hosts[host]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.hosts[host]?.waiters.remove(at: index)
        }
        waiter?.continuation.resume(returning: false)
    }
}
