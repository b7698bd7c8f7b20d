/// The result of checking an access token on a SOAP call.
public enum BearerCheck: Sendable, Hashable {
    /// The token is current: it belongs to this client and may act for these tenants.
    case valid(clientID: String, tenants: [String])
    /// The token is unknown, expired, or its family was revoked.
    case invalid(reason: String)
}
