import NIOCore
import Synchronization

/// Records whether AsyncHTTPClient has written the request head to an established connection.
///
/// AsyncHTTPClient starts pulling a streamed request body only after it has written and flushed the request head on a
/// connection whose TLS handshake completed (on the client's side), so the first pull is the moment from which bytes
/// of the request may be on their way to the gateway. Before it, nothing can have been delivered; after it, an error
/// leaves the outcome unknown.
final class RequestSendMarker: Sendable {
    private let started = Atomic<Bool>(false)
    private let sentAt = Mutex<ContinuousClock.Instant?>(nil)

    /// Whether the request head has been written.
    var requestHeadSent: Bool { self.started.load(ordering: .acquiring) }

    /// When the request head had been written (the body's first pull), if it has been.
    var requestHeadSentAt: ContinuousClock.Instant? { self.sentAt.withLock { $0 } }

    /// The request body as a one-chunk sequence that marks this marker when it is first pulled.
    func body(_ buffer: ByteBuffer) -> MarkedBody {
        MarkedBody(buffer: buffer, marker: self)
    }

    fileprivate func mark() {
        let now = ContinuousClock.now
        self.sentAt.withLock { sentAt in
            if sentAt == nil { sentAt = now }
        }
        self.started.store(true, ordering: .releasing)
    }

    /// A request body of one buffer that marks its ``RequestSendMarker`` when the HTTP client first asks for bytes.
    struct MarkedBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer

        let buffer: ByteBuffer
        let marker: RequestSendMarker

        func makeAsyncIterator() -> Iterator {
            Iterator(buffer: self.buffer, marker: self.marker)
        }

        struct Iterator: AsyncIteratorProtocol {
            var buffer: ByteBuffer?
            let marker: RequestSendMarker

            mutating func next() async throws -> ByteBuffer? {
                self.marker.mark()
                defer { self.buffer = nil }
                return self.buffer
            }
        }
    }
}
