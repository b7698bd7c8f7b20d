import Foundation

/// A SOAP 1.2 request ready to POST: UTF-8 XML bytes and the operation it calls.
///
/// Carries no credentials; the bearer token goes in the HTTP `Authorization` header, added by the transport.
public struct SOAPEnvelope: Sendable, Hashable {
    /// The operation the envelope calls.
    public var operation: GatewayOperation
    /// The serialised envelope, UTF-8.
    public var body: Data

    /// Creates an envelope.
    public init(operation: GatewayOperation, body: Data) {
        self.operation = operation
        self.body = body
    }

    /// The HTTP `Content-Type`: `application/soap+xml` with the charset and the SOAP 1.2 `action` parameter.
    public var contentType: String {
        "application/soap+xml; charset=utf-8; action=\"\(operation.action)\""
    }
}
