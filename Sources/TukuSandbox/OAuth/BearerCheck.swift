/// The result of checking an access token on a SOAP call.
public enum BearerCheck: Sendable, Hashable {
    /// The token is current: it belongs to this client, was issued for these tenants, and may act for these
    /// employers (9-digit IRD numbers; empty for any).
    case valid(clientID: String, tenants: [String], employers: Set<String>)
    /// The token is unknown, expired, or its family was revoked.
    case invalid(reason: String)
}
