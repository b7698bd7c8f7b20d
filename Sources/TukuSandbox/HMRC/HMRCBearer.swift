/// What an `Authorization` header on a VAT route amounts to.
public enum HMRCBearer: Sendable, Hashable {
    /// No bearer token: HMRC's 401 `MISSING_CREDENTIALS`.
    case missing
    /// An unknown, expired or revoked token: HMRC's 401 `INVALID_CREDENTIALS`.
    case invalid
    /// A live token of `clientID` for the VAT registration numbers and scopes its user authorised.
    case valid(clientID: String, vrns: Set<String>, scopes: Set<String>)
}
