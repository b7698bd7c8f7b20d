import Foundation

/// Verifies a JWT with a second, independent implementation: PyJWT + cryptography (from PyPI) in Python.
///
/// The Python side loads the certificate, computes its SHA-256 fingerprint itself, verifies the signature with the
/// certificate's public key (also checking `exp`, `iat` and `iss`), and prints what it found as JSON.
enum PyJWTVerifier {
    struct Verdict: Decodable {
        var header: [String: String]
        var sub: String
        var iss: String
        var startLogon: String?
        var iat: Int64
        var exp: Int64
        var timesAreIntegers: Bool
        var fingerprint: String
    }

    private static let python: Result<String, any Error> = Result {
        let venv = Shell.repositoryRoot.appendingPathComponent(".build/tuku-pyjwt").path
        return try Shell.scriptFunction("pyjwt.sh", "tuku_pyjwt_python", [venv]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static let script = """
        import json, sys
        import jwt
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        token, cert_path, issuer = sys.argv[1], sys.argv[2], sys.argv[3]
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, key=cert.public_key(), algorithms=[header["alg"]], issuer=issuer,
                            options={"require": ["sub", "iss", "iat", "exp"]})
        print(json.dumps({
            "header": {k: str(v) for k, v in header.items()},
            "sub": claims["sub"], "iss": claims["iss"], "startLogon": claims.get("startLogon"),
            "iat": claims["iat"], "exp": claims["exp"],
            "timesAreIntegers": type(claims["iat"]) is int and type(claims["exp"]) is int,
            "fingerprint": cert.fingerprint(hashes.SHA256()).hex().upper(),
        }))
        """

    /// Verifies `token` against the certificate at `certificatePath`; throws when PyJWT rejects it.
    static func verify(_ token: String, certificatePath: String, issuer: String) throws -> Verdict {
        let python = try self.python.get()
        let result = try Shell.run([python, "-c", self.script, token, certificatePath, issuer])
        guard result.status == 0 else {
            throw Shell.Failure(description: "PyJWT rejected the token: \(result.stderr.split(separator: "\n").last ?? "")")
        }
        return try JSONDecoder().decode(Verdict.self, from: Data(result.stdout.utf8))
    }
}
