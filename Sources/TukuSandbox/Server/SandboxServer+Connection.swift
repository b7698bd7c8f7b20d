import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import X509

extension SandboxServer {
    typealias HTTPConnection = NIOAsyncChannel<NIOHTTPServerRequestFull, HTTPServerResponsePart>

    /// Accepts connections until the listener closes, serving each in its own child task.
    func accept(on server: NIOAsyncChannel<HTTPConnection, Never>, listener: SandboxListener) async {
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection, listener: listener) }
                    }
                }
            }
        } catch {
            logger.debug(
                "listener stopped with an error", metadata: ["sandbox.listener": "\(listener.rawValue)", "error.message": "\(error)"])
        }
    }

    /// Serves one connection: requests one after another (HTTP/1.1 keep-alive), until the client closes it, a
    /// `reset` fault drops it, or shutdown closes it.
    private func serve(_ connection: HTTPConnection, listener: SandboxListener) async {
        let channel = connection.channel
        guard register(channel) else {
            try? await channel.close()
            return
        }
        defer { unregister(channel) }
        let remoteAddress = channel.remoteAddress?.ipAddress
        do {
            try await connection.executeThenClose { inbound, outbound in
                var peerSubject: String?
                var peerChecked = false
                for try await request in inbound {
                    // Stamped before anything else is done with the request (the first one on a connection also
                    // waits for the peer certificate), so that arrivals and the rate limit see when it came in.
                    let arrival = ContinuousClock.now
                    let receivedAt = Date()
                    let shuttingDown = setBusy(channel, true)
                    if listener == .mutualTLS, !peerChecked {
                        peerChecked = true
                        peerSubject = await Self.peerSubject(channel)
                    }
                    let response = await router.handle(
                        SandboxRequest(
                            method: request.head.method, uri: request.head.uri, headers: request.head.headers,
                            body: request.body ?? ByteBuffer(), listener: listener, peerSubject: peerSubject,
                            remoteAddress: remoteAddress, receivedAt: receivedAt, arrival: arrival))
                    defer { response.onFinish() }
                    if response.resetsConnection {
                        // The `stall` fault holds the connection open for its delay before dropping it.
                        if let delay = response.delay { await Self.sleep(delay, unlessClosed: channel) }
                        await Self.reset(channel)
                        return
                    }
                    if let delay = response.delay {
                        await Self.sleep(delay, unlessClosed: channel)
                    }
                    let keepAlive = request.head.isKeepAlive && !shuttingDown && !isShuttingDown
                    var headers = response.headers
                    headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
                    headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                    try await outbound.write(
                        .head(HTTPResponseHead(version: request.head.version, status: response.status, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(response.body)))
                    try await outbound.write(.end(nil))
                    if setBusy(channel, false) || !keepAlive { return }
                }
            }
        } catch {
            // Refused handshakes (no or untrusted client certificate, TLS < 1.2) and clients that go away end here.
            logger.debug(
                "connection ended with an error",
                metadata: [
                    "sandbox.listener": "\(listener.rawValue)", "error.message": "\(error)",
                ])
        }
    }

    /// The client certificate's subject, RFC 4514 form (e.g. `CN=tuku-test-client,O=Tuku Test`).
    private static func peerSubject(_ channel: any Channel) async -> String? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
            let parsed = try? Certificate(derEncoded: certificate.toDERBytes())
        else { return nil }
        return parsed.subject.description
    }

    /// Closes the connection with a TCP reset and no TLS close_notify: `SO_LINGER` 0, then a close issued below the
    /// TLS handler so that it cannot turn it into an orderly TLS shutdown.
    private static func reset(_ channel: any Channel) async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.eventLoop.submit {
            let context = try channel.pipeline.syncOperations.context(handlerType: NIOSSLServerHandler.self)
            context.close(promise: nil)
        }.get()
    }

    /// Waits `delay`, or less if the connection closes or the task is cancelled first.
    private static func sleep(_ delay: Duration, unlessClosed channel: any Channel) async {
        let nanoseconds = Int64(OAuthAuthority.seconds(delay) * 1e9)
        let scheduled = channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {}
        channel.closeFuture.whenComplete { _ in scheduled.cancel() }
        await withTaskCancellationHandler {
            _ = try? await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}
