import NIOCore
import NIOHTTP1

/// What the sandbox does in reply to a request: answer (perhaps after a delay) or drop the connection.
public struct SandboxResponse: Sendable {
    /// The status.
    public var status: HTTPResponseStatus
    /// The headers (`Content-Length` is added when sending).
    public var headers: HTTPHeaders
    /// The body.
    public var body: ByteBuffer
    /// Hold the answer back this long first (the `slow` fault), or, with ``resetsConnection``, hold the connection
    /// this long before dropping it (the `stall` fault).
    public var delay: Duration?
    /// Close the connection with a TCP reset instead of answering (the `reset` and `stall` faults).
    public var resetsConnection: Bool
    /// Called once the answer is sent or abandoned (frees the client's concurrency slot).
    public var onFinish: @Sendable () -> Void

    /// Creates a response.
    public init(
        status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer(), delay: Duration? = nil,
        resetsConnection: Bool = false, onFinish: @escaping @Sendable () -> Void = {}
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
        self.resetsConnection = resetsConnection
        self.onFinish = onFinish
    }

    /// A response with a text body of the given content type.
    public static func text(
        _ status: HTTPResponseStatus, _ text: String, contentType: String, headers extra: HTTPHeaders = [:]
    ) -> SandboxResponse {
        var headers = extra
        headers.replaceOrAdd(name: "Content-Type", value: contentType)
        return SandboxResponse(status: status, headers: headers, body: ByteBuffer(string: text))
    }
}
