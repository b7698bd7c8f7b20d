/// An OAuth 2.0 access token as sent to the gateway: `Authorization: Bearer <token>`.
///
/// Payday filing (EI and employee details) accepts only OAuth tokens. Where the tokens come from (the token store,
/// refresh) is not this type's business.
///
/// `description` never shows the token.
public struct BearerToken: Sendable, Hashable, CustomStringConvertible {
    /// The HTTP header that carries the token.
    public static let headerName = "Authorization"

    /// The access token exactly as the token endpoint returned it.
    public let value: String

    /// Wraps an access token.
    public init(_ value: String) {
        self.value = value
    }

    /// The `Authorization` header value: `Bearer <token>`.
    public var authorizationHeaderValue: String { "Bearer \(self.value)" }

    /// `BearerToken(<n> characters)`; never the token.
    public var description: String { "BearerToken(\(self.value.count) characters)" }
}
