import ArgumentParser
import Foundation
import Logging
import TukuCore
import TukuFiling
import TukuGateway
import TukuPostgres

extension TokensAuthorize {
    /// HMRC's authorisation-code flow: `GET {base}/oauth/authorize` with `scope=read:vat write:vat` and a fresh
    /// `state`, the code back on the loopback redirect URI (or pasted), the exchange at `{base}/oauth/token` with the
    /// HMRC application's id and secret in the form body, and the set stored for the `hmrc` gateway.
    func runHMRC(cipher: TokenCipher, logger: Logger) async throws {
        guard self.hmrc.isConfigured else {
            throw ValidationError("name HMRC's environment: --hmrc production|test|sandbox (or TUKU_HMRC)")
        }
        let environment = try self.hmrc.environmentName()
        if !self.sandboxVRNs.isEmpty {
            guard environment == "sandbox" else { throw ValidationError("--sandbox-vrn is a sandbox extension: only with --hmrc sandbox") }
            guard self.sandboxVRNs.allSatisfy({ $0.count == 9 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
                throw ValidationError("--sandbox-vrn must be a 9-digit VAT registration number")
            }
        }
        try self.hmrc.checkOverrides(allowed: self.gateway.overridesAllowed, logger: logger)
        let baseURL = try self.hmrc.baseURLValue()
        let clientID = try self.hmrc.clientIDValue()
        let secret = try self.hmrc.clientSecret()

        let request = AuthorizationRequest()
        let url = request.url(
            authorizeURL: HMRCTokenClient.url(baseURL, "/oauth/authorize"), clientID: clientID, redirectURI: self.redirectURI,
            scope: HMRCTokenClient.vatScopes.joined(separator: " "), pkce: false, extra: self.sandboxVRNs.map { ("vrn", $0) })
        let code = try await self.receiveCode(
            for: request, url: url,
            instruction: "Open this URL in a browser, sign in with Government Gateway and grant Tuku access to the VAT records:")

        let transport = try GatewayTransport(configuration: self.hmrc.transportConfiguration(), logger: logger)
        let tokens: TokenSet
        do {
            tokens = try await HMRCTokenClient(
                baseURL: baseURL, clientID: clientID, clientSecret: secret, transport: transport, logger: logger
            )
            .exchange(code: code, redirectURI: self.redirectURI)
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
        try await self.store(tokens, gateway: .hmrc, cipher: cipher)
    }
}
