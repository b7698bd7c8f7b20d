import Synchronization

/// The transport's guess at whether its next call will find an idle pooled connection or open a new one.
///
/// AsyncHTTPClient does not show its pool, so the transport counts: a call whose request head was written more
/// than ``connectingThreshold`` after it started opened a connection; a call that failed at the connection level
/// lost one. Connections the pool closes when idle are not seen, so the guess errs towards "idle connection
/// available" after a long quiet spell. Pacing uses it to treat a connecting call's arrival as uncertain until it
/// is answered (the gateway sees the request only once its side of the TLS handshake is done).
final class ConnectionEstimate: Sendable {
    /// Head written later than this after the call started: the call opened a connection.
    static let connectingThreshold: Duration = .milliseconds(2)

    /// The one rule for "this call opened a connection", from how long after its start the request head was
    /// written (`nil`: never written, so it did not get as far as a connection of its own).
    static func openedConnection(sentAfter: Duration?) -> Bool {
        guard let sentAfter else { return false }
        return sentAfter > Self.connectingThreshold
    }

    private struct State {
        var open = 0
        var inFlight = 0
    }

    private let state = Mutex(State())

    /// Whether a call starting now would likely have to open a connection.
    var nextCallLikelyConnects: Bool {
        self.state.withLock { $0.inFlight >= $0.open }
    }

    func started() {
        self.state.withLock { $0.inFlight += 1 }
    }

    /// A call ended; `openedConnection` when it had to open one, `connectionLost` when the connection failed
    /// under it.
    func ended(openedConnection: Bool, connectionLost: Bool) {
        self.state.withLock { state in
            state.inFlight -= 1
            if openedConnection { state.open += 1 }
            if connectionLost { state.open = max(0, state.open - 1) }
        }
    }
}
