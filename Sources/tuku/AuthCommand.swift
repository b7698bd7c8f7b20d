import ArgumentParser
import Foundation
import TukuGateway

struct AuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "Credentials for checking an integration by hand.", subcommands: [M2MJWT.self])

    struct M2MJWT: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "m2m-jwt",
            abstract: "Print a freshly signed client M2M JWT (header kid M2M; sub = SHA-256 thumbprint of the signing certificate).")

        @Option(name: .customLong("signing-key"), help: "The signing private key PEM.") var signingKey: String
        @Option(name: .customLong("signing-cert"), help: "The signing certificate PEM registered with IRD.") var signingCertificate: String
        @Option(help: "The issuer agreed with IRD.") var issuer: String
        @Option(name: .customLong("start-logon"), help: "Optional myIR user id to act as.") var startLogon: String?
        @Option(name: .customLong("lifetime"), help: "Seconds until exp (at most 28800).") var lifetimeSeconds = 540

        func run() async throws {
            let signer = try await M2MTokenSigner(
                signingKeyPath: self.signingKey, signingCertificatePath: self.signingCertificate,
                configuration: .init(issuer: self.issuer, startLogon: self.startLogon, lifetime: .seconds(self.lifetimeSeconds)))
            print(try await signer.token().jwt)
        }
    }
}
