import Foundation
import NIOSSL

extension SandboxServer {
    /// The two server TLS contexts: mutual TLS (client certificate from the CA required) and one-way TLS, both
    /// TLS 1.2 minimum (NIOSSL's server default would be TLS 1.0).
    static func makeTLSContexts(_ tls: Configuration.TLS) throws(SandboxError) -> (mutual: NIOSSLContext, oneWay: NIOSSLContext) {
        func certificates(_ path: String, _ what: String) throws(SandboxError) -> [NIOSSLCertificate] {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw SandboxError(.invalidCertificate, "the \(what) \(path) cannot be read as PEM certificates", underlying: error)
            }
            guard !certificates.isEmpty else { throw SandboxError(.invalidCertificate, "the \(what) \(path) holds no certificate") }
            return certificates
        }
        let chain = try certificates(tls.certificatePath, "server certificate")
        let roots = try certificates(tls.clientCAPath, "client CA")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
        } catch {
            throw SandboxError(
                .invalidCertificate, "the server key \(tls.privateKeyPath) is not an unencrypted PEM private key", underlying: error)
        }
        var mutual = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key), trustRoots: .certificates(roots))
        mutual.minimumTLSVersion = .tlsv12
        var oneWay = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        oneWay.minimumTLSVersion = .tlsv12
        do {
            return (try NIOSSLContext(configuration: mutual), try NIOSSLContext(configuration: oneWay))
        } catch {
            throw SandboxError(.invalidCertificate, "the server certificate and key are rejected by the TLS library", underlying: error)
        }
    }
}
