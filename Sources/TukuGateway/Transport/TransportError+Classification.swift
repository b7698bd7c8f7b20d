import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

extension TransportError {
    /// Turns an error from AsyncHTTPClient, NIO or BoringSSL into a ``TransportError`` that says how far the request
    /// got.
    ///
    /// - Parameters:
    ///   - error: What the HTTP client threw.
    ///   - requestHeadSent: Whether the HTTP client had written the request head to an established connection (see
    ///     ``RequestSendMarker``). Before that nothing can have reached the gateway; after it, only a TLS handshake
    ///     rejection proves that the gateway did not process the request.
    ///   - endpoint: The safe endpoint string for context.
    ///   - timeout: The per-call timeout, for the message.
    static func classify(
        _ error: any Error,
        requestHeadSent: Bool,
        endpoint: String,
        timeout: Duration
    ) -> TransportError {
        if let error = error as? TransportError { return error }

        func make(_ code: Code, _ message: String, sent: Bool) -> TransportError {
            TransportError(code, message, requestMayHaveReachedGateway: sent, endpoint: endpoint, underlying: error)
        }
        func afterHeadSent(_ code: Code, _ message: String) -> TransportError {
            requestHeadSent
                ? make(code, message, sent: true)
                : make(.connectFailed, "the connection failed before the request was sent", sent: false)
        }

        // TLS rejections come in three shapes (see the stack notes): NIOSSLError.handshakeFailed while the handshake
        // runs (TLS 1.2, and every failure we detect ourselves), a bare BoringSSLError raised on the request after a
        // TLS 1.3 client has already sent its Finished (the server's alert arrives with the first read), and
        // NIOSSLExtraError for host name checks. In all of them the server aborted the handshake, so its application
        // never saw the request, even if the client had already written it.
        if let tls = TLSFailure(error) {
            switch tls {
            case .handshake(let reason):
                return make(.tlsHandshakeFailed, "the TLS handshake was rejected" + (reason.map { ": \($0)" } ?? ""), sent: false)
            case .uncleanShutdown:
                return afterHeadSent(
                    .connectionDroppedAfterSend, "the TLS connection closed without a close_notify before the response was complete")
            case .other(let reason):
                return afterHeadSent(.connectionDroppedAfterSend, "the TLS connection failed" + (reason.map { ": \($0)" } ?? ""))
            case .configuration:
                return make(.invalidConfiguration, "the TLS configuration could not be loaded", sent: false)
            }
        }

        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return make(.connectFailed, "no connection could be made in time", sent: false)
            case .tlsHandshakeTimeout:
                return make(.tlsHandshakeFailed, "the TLS handshake timed out", sent: false)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                if requestHeadSent {
                    return make(.timedOutAfterSend, "no complete response within the per-call timeout of \(timeout)", sent: true)
                }
                return make(.connectFailed, "no connection was ready within the per-call timeout of \(timeout)", sent: false)
            case .remoteConnectionClosed:
                return afterHeadSent(.connectionDroppedAfterSend, "the gateway closed the connection before the response was complete")
            case .cancelled:
                return make(.cancelled, "the call was cancelled", sent: requestHeadSent)
            case .alreadyShutdown:
                return make(.clientShutDown, "the transport has been shut down", sent: false)
            case .invalidURL, .emptyHost, .emptyScheme:
                return make(.invalidConfiguration, "the URL is not usable", sent: false)
            default:
                return afterHeadSent(.connectionDroppedAfterSend, "the HTTP exchange failed (\(error.shortDescription))")
            }
        }

        if error is NIOTooManyBytesError {
            return make(.bodyTooLarge, "the response body is larger than the configured maximum", sent: true)
        }
        if error is CancellationError {
            return make(.cancelled, "the call was cancelled", sent: requestHeadSent)
        }
        if error is HTTPParserError {
            return make(.malformedResponse, "the response is not valid HTTP", sent: true)
        }
        if error is NIOConnectionError {
            return make(.connectFailed, "no connection could be made", sent: false)
        }
        if let error = error as? ChannelError, Self.isConnectTimeout(error) {
            return make(.connectFailed, "the connection attempt timed out", sent: false)
        }
        if error is IOError || error is ChannelError {
            return afterHeadSent(.connectionDroppedAfterSend, "the connection failed after the request was sent")
        }
        return afterHeadSent(.connectionDroppedAfterSend, "the call failed after the request was sent")
    }

    private static func isConnectTimeout(_ error: ChannelError) -> Bool {
        if case .connectTimeout = error { return true }
        return false
    }
}

/// The TLS errors that matter for classification, with the BoringSSL reason names (such as
/// `TLSV1_ALERT_UNKNOWN_CA`), which are safe to show: they name alerts, never key material.
enum TLSFailure: Equatable {
    /// The handshake was rejected: nothing was processed by the peer's application.
    case handshake(reason: String?)
    /// The peer closed the TCP connection without a TLS close_notify.
    case uncleanShutdown
    /// A TLS error after the handshake.
    case other(reason: String?)
    /// Certificates or keys could not be loaded.
    case configuration

    /// Reason names that only a handshake produces.
    private static let handshakeReasonMarkers = [
        "HANDSHAKE", "CERTIFICATE", "UNKNOWN_CA", "PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "WRONG_VERSION_NUMBER",
        "NO_SHARED_CIPHER", "NO_CIPHERS", "ACCESS_DENIED", "INSUFFICIENT_SECURITY", "PEER_DID_NOT_RETURN",
        "DECRYPT_ERROR", "ILLEGAL_PARAMETER",
    ]

    init?(_ error: any Error) {
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed(let boring):
                self = .handshake(reason: Self.reasons(boring))
            case .uncleanShutdown:
                self = .uncleanShutdown
            case .failedToLoadCertificate, .failedToLoadPrivateKey, .noSuchFilesystemObject:
                self = .configuration
            case .noCertificateToValidate, .unableToValidateCertificate, .cannotMatchULabel, .cannotFindPeerIP:
                self = .handshake(reason: nil)
            default:
                self = .other(reason: nil)
            }
            return
        }
        if error is NIOSSLExtraError {
            // Host name validation and SNI problems: raised during the handshake.
            self = .handshake(reason: String(describing: error))
            return
        }
        if let error = error as? BoringSSLError {
            let reason = Self.reasons(error)
            if let reason, Self.handshakeReasonMarkers.contains(where: { reason.contains($0) }) {
                self = .handshake(reason: reason)
            } else {
                self = .other(reason: reason)
            }
            return
        }
        return nil
    }

    /// The reason names in a BoringSSL error stack, joined with commas, or `nil` when there are none.
    static func reasons(_ error: BoringSSLError) -> String? {
        let stack: NIOBoringSSLErrorStack
        switch error {
        case .sslError(let errors), .unknownError(let errors), .invalidSNIName(let errors), .failedToSetALPN(let errors):
            stack = errors
        default:
            return String(describing: error)
        }
        let names = stack.compactMap { Self.reasonName(String(describing: $0)) }
        return names.isEmpty ? nil : names.joined(separator: ",")
    }

    /// Extracts `REASON` from BoringSSL's `Error: 268436502 error:10000416:SSL routines:OPENSSL_internal:REASON at
    /// file:line`, or returns the synthetic description (for example "EOF during handshake").
    static func reasonName(_ description: String) -> String? {
        guard let start = description.range(of: "error:") else {
            let trimmed = description.replacingOccurrences(of: "Error: ", with: "").trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }
        let tail = description[start.upperBound...]
        let fields = tail.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard let last = fields.last else { return nil }
        let reason = last.split(separator: " ", maxSplits: 1).first.map(String.init) ?? String(last)
        return reason.isEmpty ? nil : reason
    }
}
