import AsyncHTTPClient
import NIOCore
import NIOSSL
import Testing

@testable import TukuGateway

@Suite("Transport error classification")
struct TransportErrorTests {
    @Test("BoringSSL reason names are extracted from its error strings")
    func reasonNames() {
        #expect(
            TLSFailure.reasonName(
                "Error: 268436526 error:1000042e:SSL routines:OPENSSL_internal:TLSV1_ALERT_PROTOCOL_VERSION at /x/y.cc:123")
                == "TLSV1_ALERT_PROTOCOL_VERSION")
        #expect(TLSFailure.reasonName("Error:  EOF during handshake") == "EOF during handshake")
    }

    @Test("timeouts and drops are classified by whether the request head had been written")
    func sentOrNot() {
        let timeoutBefore = TransportError.classify(
            HTTPClientError.deadlineExceeded, requestHeadSent: false, endpoint: "e", timeout: .seconds(1))
        let timeoutAfter = TransportError.classify(
            HTTPClientError.deadlineExceeded, requestHeadSent: true, endpoint: "e", timeout: .seconds(1))
        #expect(timeoutBefore.code == .connectFailed && !timeoutBefore.requestMayHaveReachedGateway)
        #expect(timeoutAfter.code == .timedOutAfterSend && timeoutAfter.requestMayHaveReachedGateway)

        let closedBefore = TransportError.classify(
            HTTPClientError.remoteConnectionClosed, requestHeadSent: false, endpoint: "e", timeout: .seconds(1))
        let closedAfter = TransportError.classify(
            HTTPClientError.remoteConnectionClosed, requestHeadSent: true, endpoint: "e", timeout: .seconds(1))
        #expect(closedBefore.code == .connectFailed && !closedBefore.requestMayHaveReachedGateway)
        #expect(closedAfter.code == .connectionDroppedAfterSend && closedAfter.requestMayHaveReachedGateway)

        let unclean = TransportError.classify(NIOSSLError.uncleanShutdown, requestHeadSent: true, endpoint: "e", timeout: .seconds(1))
        #expect(unclean.code == .connectionDroppedAfterSend)

        let cancelledAfter = TransportError.classify(CancellationError(), requestHeadSent: true, endpoint: "e", timeout: .seconds(1))
        #expect(cancelledAfter.code == .cancelled && cancelledAfter.requestMayHaveReachedGateway)
    }

    @Test("a TLS handshake failure means nothing was processed, even if the request head was already written (TLS 1.3)")
    func handshakeAfterWrite() {
        let handshake = TransportError.classify(
            NIOSSLError.handshakeFailed(.sslError([])), requestHeadSent: true, endpoint: "e", timeout: .seconds(1))
        #expect(handshake.code == .tlsHandshakeFailed)
        #expect(!handshake.requestMayHaveReachedGateway)
    }

    @Test("description carries code, message and endpoint but never the underlying error")
    func descriptions() {
        struct Secretive: Error, CustomStringConvertible { var description: String { "KEY-MATERIAL" } }
        let error = TransportError(
            .connectFailed, "no connection", requestMayHaveReachedGateway: false, endpoint: "https://h:1/p", underlying: Secretive())
        #expect(error.description == "connect_failed: no connection (https://h:1/p)")
        #expect(!error.description.contains("KEY-MATERIAL"))
        #expect(error.debugDescription.contains("KEY-MATERIAL"))
    }
}
