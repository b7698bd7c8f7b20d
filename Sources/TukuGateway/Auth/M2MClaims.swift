import JWTKit

/// The payload of IRD's client-signed M2M JWT (Identity and Access build pack §2.4).
///
/// Times are whole seconds since the Unix epoch, encoded as JSON integers, as in IRD's examples.
struct M2MClaims: JWTPayload, Equatable {
    /// The SHA-256 thumbprint of the signing certificate (upper-case hex, no colons).
    var sub: String
    /// The issuer agreed with IRD.
    var iss: String
    /// The myIR logon whose delegations apply; `""` when none (IRD's own example token sends an empty string).
    var startLogon: String
    /// Issued at.
    var iat: Int64
    /// Expires at; at most 8 hours after `iat`.
    var exp: Int64

    /// Signing only: IRD verifies these tokens, not us.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
