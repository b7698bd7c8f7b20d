import NIOCore
import NIOHTTP1

extension MetricsServer {
    typealias HTTPConnection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// What the server answers to one request.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Accepts connections until the listener closes, serving each in its own child task.
    func accept(on server: NIOAsyncChannel<HTTPConnection, Never>) async {
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } catch {
            self.logger.debug("Metrics listener stopped with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Serves one connection: requests one after another (HTTP/1.1 keep-alive) until the client closes it or shutdown
    /// does. Request bodies are read and ignored: no route takes one.
    private func serve(_ connection: HTTPConnection) async {
        let channel = connection.channel
        guard self.register(channel) else {
            try? await channel.close()
            return
        }
        defer { self.unregister(channel) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    guard case .end = part else {
                        if case .head(let requestHead) = part { head = requestHead }
                        continue
                    }
                    guard let request = head else { continue }
                    head = nil
                    let shuttingDown = self.setBusy(channel, true)
                    let response = self.response(method: request.method, uri: request.uri)
                    let keepAlive = request.isKeepAlive && !shuttingDown
                    var headers = response.headers
                    headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
                    headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                    try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
                    if request.method != .HEAD {
                        try await outbound.write(.body(.byteBuffer(response.body)))
                    }
                    try await outbound.write(.end(nil))
                    if self.setBusy(channel, false) || !keepAlive { return }
                }
            }
        } catch {
            // Clients that go away mid-request, and connections closed by shutdown, end here.
            self.logger.debug("Metrics connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Routes a request: `GET`/`HEAD` `/metrics` (any query string) get the exposition, other methods on it 405, other
    /// paths 404.
    func response(method: HTTPMethod, uri: String) -> Response {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == "/metrics" else {
            return Self.plain(.notFound, "not found: metrics are at /metrics\n")
        }
        guard method == .GET || method == .HEAD else {
            var response = Self.plain(.methodNotAllowed, "method not allowed: use GET\n")
            response.headers.add(name: "Allow", value: "GET, HEAD")
            return response
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: Self.contentType)
        return Response(status: .ok, headers: headers, body: ByteBuffer(bytes: self.registry.emitToBuffer()))
    }

    private static func plain(_ status: HTTPResponseStatus, _ text: String) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        return Response(status: status, headers: headers, body: ByteBuffer(string: text))
    }
}
