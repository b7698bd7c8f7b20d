import Foundation
import NIOCore
import NIOSSL
import X509

extension GatewayTransport {
    /// What the TLS settings resolve to: the NIOSSL configuration and facts about the client certificate.
    struct LoadedTLS {
        var configuration: TLSConfiguration
        /// The leaf client certificate's expiry, when there is a client identity.
        var clientCertificateNotValidAfter: Date?
    }

    /// Loads and checks every PEM file now, so a bad file fails at start-up rather than at the first call.
    ///
    /// Errors name the file and the problem, never the file's content.
    static func loadTLS(_ settings: Configuration.TLS) throws(TransportError) -> LoadedTLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = settings.minimumVersion.isTLS13 ? .tlsv13 : .tlsv12
        tls.certificateVerification = .fullVerification
        tls.shutdownTimeout = TimeAmount(settings.closeNotifyTimeout)
        var notValidAfter: Date?

        if let path = settings.trustRoots.caBundlePath {
            let roots = try Self.loadCertificates(path, what: "CA bundle")
            tls.trustRoots = .certificates(roots)
        } else {
            tls.trustRoots = .default
        }

        if let identity = settings.clientIdentity {
            let chain = try Self.loadCertificates(identity.certificateChainPath, what: "client certificate chain")
            let keyPEM = try Self.readText(identity.privateKeyPath, what: "client private key")
            if keyPEM.contains("ENCRYPTED") {
                throw Self.invalid("the client private key \(identity.privateKeyPath) is encrypted; give an unencrypted PEM key")
            }
            let key: NIOSSLPrivateKey
            do {
                // The callback never supplies a passphrase: BoringSSL must never prompt on a terminal.
                key = try NIOSSLPrivateKey(
                    bytes: Array(keyPEM.utf8), format: .pem,
                    passphraseCallback: { (_: NIOSSLPassphraseSetter<[UInt8]>) in })
            } catch {
                throw Self.invalid("the client private key \(identity.privateKeyPath) is not a PEM private key", underlying: error)
            }
            let leaf: Certificate
            let privateKey: Certificate.PrivateKey
            do {
                leaf = try Certificate(derEncoded: chain[0].toDERBytes())
            } catch {
                throw Self.invalid("the first certificate in \(identity.certificateChainPath) cannot be parsed", underlying: error)
            }
            do {
                privateKey = try Certificate.PrivateKey(pemEncoded: keyPEM)
            } catch {
                throw Self.invalid("the client private key \(identity.privateKeyPath) has an unsupported format", underlying: error)
            }
            guard privateKey.publicKey == leaf.publicKey else {
                throw Self.invalid(
                    "the client private key \(identity.privateKeyPath) does not belong to the first certificate in \(identity.certificateChainPath)"
                )
            }
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
            notValidAfter = leaf.notValidAfter
        }

        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw Self.invalid("the TLS settings are rejected by the TLS library", underlying: error)
        }
        return LoadedTLS(configuration: tls, clientCertificateNotValidAfter: notValidAfter)
    }

    private static func loadCertificates(_ path: String, what: String) throws(TransportError) -> [NIOSSLCertificate] {
        let text = try Self.readText(path, what: what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw Self.invalid("the \(what) \(path) is not a PEM certificate file", underlying: error)
        }
        guard !certificates.isEmpty else {
            throw Self.invalid("the \(what) \(path) contains no certificate")
        }
        return certificates
    }

    private static func readText(_ path: String, what: String) throws(TransportError) -> String {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Self.invalid("the \(what) \(path) does not exist or is not readable")
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Self.invalid("the \(what) \(path) cannot be read as text", underlying: error)
        }
    }

    private static func invalid(_ message: String, underlying: (any Error)? = nil) -> TransportError {
        TransportError(.invalidConfiguration, message, requestMayHaveReachedGateway: false, underlying: underlying)
    }
}
