import Foundation
import JWTKit

/// The payload of an IRD machine-to-machine JWT as the sandbox checks it (Identity and Access build pack §2.4).
struct M2MAssertion: JWTPayload {
    var sub: String
    var iss: String?
    var startLogon: String?
    var iat: Int64
    var exp: Int64

    /// Signature checks are done by the key collection; the claim rules are checked by ``M2MVerifier``.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
