import Foundation

/// A signed machine-to-machine JWT, ready for the `Authorization` header.
///
/// IRD's M2M scheme sends the JWT as the whole header value, **without** the word `Bearer`
/// (Identity and Access build pack §2.4: `"Authorization: {JWTAccessToken}"`).
///
/// `description` never shows the token.
public struct M2MToken: Sendable, Hashable, CustomStringConvertible {
    /// The HTTP header that carries the token.
    public static let headerName = "Authorization"

    /// The compact JWT: `header.payload.signature`, each part base64url-encoded.
    public let jwt: String
    /// The `iat` claim (whole seconds).
    public let issuedAt: Date
    /// The `exp` claim (whole seconds).
    public let expiresAt: Date

    /// Creates a token value.
    public init(jwt: String, issuedAt: Date, expiresAt: Date) {
        self.jwt = jwt
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// The `Authorization` header value: the JWT itself, no `Bearer` prefix.
    public var authorizationHeaderValue: String { self.jwt }

    /// Whether the token can still be sent at `date`, leaving `margin` before it expires.
    public func isUsable(at date: Date, margin: Duration) -> Bool {
        let (seconds, attoseconds) = margin.components
        let marginSeconds = Double(seconds) + Double(attoseconds) / 1e18
        return date >= self.issuedAt && date < self.expiresAt.addingTimeInterval(-marginSeconds)
    }

    /// `M2MToken(iat: …, exp: …)`; never the token.
    public var description: String {
        "M2MToken(iat: \(Int64(self.issuedAt.timeIntervalSince1970)), exp: \(Int64(self.expiresAt.timeIntervalSince1970)))"
    }
}
