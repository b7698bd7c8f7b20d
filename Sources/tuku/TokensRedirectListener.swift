import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Receives IRD's authorization redirect on a loopback port (RFC 8252 §7.3): a small HTTP/1.1 listener on the host
/// and port of the registered redirect URI that waits, up to a deadline, for one `GET` of the redirect URI's path and
/// returns its query parameters. Other paths get 404; every answer closes its connection.
struct TokensRedirectListener {
    /// Where the listener binds and what it waits for.
    var host: String
    var port: Int
    var path: String

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The connections open now, to close them all once the redirect arrived or the deadline passed.
    final class OpenConnections: Sendable {
        let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    }

    /// The listener for `redirectURI` when it is a loopback `http` URI with an explicit port (IRD registers fixed
    /// ports, §2.2), else `nil`.
    init?(redirectURI: String) {
        guard let components = URLComponents(string: redirectURI), components.scheme == "http",
            let host = components.host, ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host), let port = components.port
        else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : (host.hasPrefix("[") || host == "::1" ? "::1" : host)
        self.port = port
        self.path = components.path.isEmpty ? "/" : components.path
    }

    /// Binds at once (so that a port in use fails before the user is sent to the browser).
    func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        do {
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: self.host, port: self.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw TokensAuthorizeError(.listenerFailed, "cannot listen on \(self.host):\(self.port) for the redirect: \(error)")
        }
    }

    /// Waits for the redirect on `server` until `deadline`, then closes every connection and the listener.
    ///
    /// - Returns: The redirect's query parameters, percent-decoded.
    /// - Throws: ``TokensAuthorizeError`` with ``TokensAuthorizeError/Code/timedOut`` at the deadline.
    func waitForRedirect(on server: NIOAsyncChannel<Connection, Never>, deadline: Duration) async throws -> [(String, String)] {
        let open = OpenConnections()
        let (redirects, delivered) = AsyncStream.makeStream(of: [(String, String)].self)
        // Closing the listener and every connection ends the accept loop and the connection tasks, so that the task
        // group can finish.
        let closeAll = {
            server.channel.close(promise: nil)
            for channel in open.channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
            delivered.finish()
        }
        return try await withThrowingTaskGroup(of: [(String, String)]?.self) { group in
            group.addTask {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await connection in inbound {
                            connections.addTask { await self.serve(connection, open: open, delivered: delivered) }
                        }
                    }
                }
                return nil
            }
            group.addTask {
                for await query in redirects { return query }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw TokensAuthorizeError(.timedOut, "no redirect reached \(self.host):\(self.port)\(self.path) within \(deadline)")
            }
            do {
                while let result = try await group.next() {
                    if let query = result {
                        closeAll()
                        group.cancelAll()
                        return query
                    }
                }
            } catch {
                closeAll()
                group.cancelAll()
                throw error
            }
            closeAll()
            group.cancelAll()
            throw TokensAuthorizeError(.listenerFailed, "the redirect listener stopped")
        }
    }

    private func serve(
        _ connection: Connection, open: OpenConnections, delivered: AsyncStream<[(String, String)]>.Continuation
    ) async {
        let channel = connection.channel
        open.channels.withLock { $0[ObjectIdentifier(channel)] = channel }
        defer { _ = open.channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) } }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead): head = requestHead
                    case .body: continue
                    case .end:
                        guard let request = head else { continue }
                        let (status, text, query) = self.answer(request)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
                        headers.add(name: "Content-Length", value: String(text.utf8.count))
                        headers.add(name: "Connection", value: "close")
                        headers.add(name: "Cache-Control", value: "no-store")
                        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
                        try await outbound.write(.end(nil))
                        if let query { delivered.yield(query) }
                        return
                    }
                }
            }
        } catch {
            // A browser that goes away mid-request, or a connection closed once the redirect arrived.
        }
    }

    /// The answer to one request, and the query when it is the redirect.
    private func answer(_ request: HTTPRequestHead) -> (HTTPResponseStatus, String, [(String, String)]?) {
        let parts = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard request.method == .GET, parts.first.map(String.init) == self.path else {
            return (.notFound, Self.page("Not found", "This listener only waits for Inland Revenue's redirect."), nil)
        }
        let query = parts.count > 1 ? TokensAuthorize.formItems(String(parts[1])) : []
        if query.contains(where: { $0.0 == "error" }) {
            return (.ok, Self.page("Authorisation refused", "Inland Revenue did not authorise Tuku. See the terminal."), query)
        }
        return (.ok, Self.page("Authorisation received", "Tuku received the authorisation. You can close this window."), query)
    }

    private static func page(_ title: String, _ text: String) -> String {
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(title)</title></head><body><h1>\(title)</h1><p>\(text)</p></body></html>\n"
    }
}
