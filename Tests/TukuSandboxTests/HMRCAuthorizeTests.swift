import Foundation
import Testing
import TukuSandbox

/// The HMRC personality's `GET /oauth/authorize`: HMRC's consent, answered at once for the VRNs of the sandbox's
/// `vrn=` extension, over real TLS.
@Suite("Sandbox: HMRC OAuth authorize")
struct HMRCAuthorizeTests {
    static let redirectURI = "https://localhost/hmrc-callback"
    static let vrn = "123456789"

    private func withAuthorize(_ body: (HMRCClient) async throws -> Void) async throws {
        try await Sandbox.run({ configuration in
            var hmrc = HMRCConfiguration(applications: [
                RegisteredClient(id: HMRCClient.applicationID, secret: HMRCClient.applicationSecret, redirectURIs: [Self.redirectURI]),
                RegisteredClient(id: HMRCClient.otherApplicationID, secret: HMRCClient.otherApplicationSecret),
            ])
            hmrc.rate = nil
            hmrc.checksFraudPreventionHeaders = false
            configuration.hmrc = hmrc
        }) { sandbox in
            let client = HMRCClient(sandbox: sandbox, checks: HMRCSchemaCheck())
            do {
                try await body(client)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }

    static func query(
        client: String = HMRCClient.applicationID, redirectURI: String? = HMRCAuthorizeTests.redirectURI,
        scope: String? = "read:vat write:vat",
        state: String? = "st-42", vrns: [String] = [HMRCAuthorizeTests.vrn], extra: [(String, String)] = []
    ) -> String {
        var items = [URLQueryItem(name: "response_type", value: "code"), URLQueryItem(name: "client_id", value: client)]
        if let scope { items.append(URLQueryItem(name: "scope", value: scope)) }
        if let state { items.append(URLQueryItem(name: "state", value: state)) }
        if let redirectURI { items.append(URLQueryItem(name: "redirect_uri", value: redirectURI)) }
        items += vrns.map { URLQueryItem(name: "vrn", value: $0) }
        items += extra.map { URLQueryItem(name: $0.0, value: $0.1) }
        var components = URLComponents()
        components.path = "/oauth/authorize"
        components.queryItems = items
        // URLComponents leaves "+" and ":" alone; a space must travel as %20 or "+".
        return components.string ?? ""
    }

    static func parameters(_ location: String?) -> [String: String] {
        Dictionary(
            (URLComponents(string: location ?? "")?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { first, _ in first })
    }

    @Test(
        "a registered application's consent redirects with a code and the state; the code is exchanged once, for the registered redirect URI, and the set acts for the consented VRN only"
    )
    func consent() async throws {
        try await withAuthorize { client in
            let answer = try await client.send(.GET, Self.query(), accept: nil)
            #expect(answer.status == 302)
            let location = try #require(answer.headers.first(name: "Location"))
            #expect(location.hasPrefix(Self.redirectURI + "?code="))
            let parameters = Self.parameters(location)
            #expect(parameters["state"] == "st-42")
            let code = try #require(parameters["code"])

            // The code is bound to the redirect URI it was issued for.
            let wrongRedirect = try await client.token([
                "grant_type": "authorization_code", "code": code, "client_id": HMRCClient.applicationID,
                "client_secret": HMRCClient.applicationSecret, "redirect_uri": "https://localhost/elsewhere",
            ])
            #expect(wrongRedirect.status == 400 && wrongRedirect.json["error"] as? String == "invalid_grant")

            let second = try await client.send(.GET, Self.query(state: "st-43"), accept: nil)
            let code2 = try #require(Self.parameters(second.headers.first(name: "Location"))["code"])
            let form = [
                "grant_type": "authorization_code", "code": code2, "client_id": HMRCClient.applicationID,
                "client_secret": HMRCClient.applicationSecret, "redirect_uri": Self.redirectURI,
            ]
            let exchanged = try await client.token(form)
            #expect(exchanged.status == 200)
            #expect(exchanged.json["scope"] as? String == "read:vat write:vat")
            #expect(exchanged.json["expires_in"] as? Int == 14_400)
            let access = try #require(exchanged.json["access_token"] as? String)
            // Single use.
            #expect(try await client.token(form).json["error"] as? String == "invalid_grant")

            let own = try await client.send(.GET, "/organisations/vat/\(Self.vrn)/obligations?status=O", token: access)
            #expect(own.status == 200 || own.code == "NOT_FOUND")
            let other = try await client.send(.GET, "/organisations/vat/987654321/obligations?status=O", token: access)
            #expect(other.status == 403 && other.code == "CLIENT_OR_AGENT_NOT_AUTHORISED")
        }
    }

    @Test(
        "refusals: unregistered redirect URI and unknown response type as JSON; wrong scope, missing or bad vrn and a denied consent as redirects that echo the state"
    )
    func refusals() async throws {
        try await withAuthorize { client in
            let unregistered = try await client.send(.GET, Self.query(redirectURI: "https://localhost/not-registered"), accept: nil)
            #expect(unregistered.status == 400 && unregistered.json["error"] as? String == "invalid_request")
            #expect(unregistered.headers.first(name: "Location") == nil)
            let missing = try await client.send(.GET, Self.query(redirectURI: nil), accept: nil)
            #expect(missing.status == 400)
            // The other application registered no redirect URI: it cannot use the authorize endpoint at all.
            let noURIs = try await client.send(.GET, Self.query(client: HMRCClient.otherApplicationID), accept: nil)
            #expect(noURIs.status == 400 && noURIs.headers.first(name: "Location") == nil)
            let responseType = try await client.send(
                .GET, Self.query().replacingOccurrences(of: "response_type=code", with: "response_type=token"), accept: nil)
            #expect(responseType.status == 400 && responseType.json["error"] as? String == "unsupported_response_type")

            for (query, error) in [
                (Self.query(scope: "read:vat write:vat read:sa"), "invalid_scope"), (Self.query(scope: nil), "invalid_scope"),
                (Self.query(vrns: []), "invalid_request"), (Self.query(vrns: ["12345678"]), "invalid_request"),
                (Self.query(extra: [("consent", "deny")]), "access_denied"),
            ] {
                let answer = try await client.send(.GET, query, accept: nil)
                #expect(answer.status == 302, "\(query)")
                let location = answer.headers.first(name: "Location")
                #expect(location?.hasPrefix(Self.redirectURI + "?error=") == true, "\(query)")
                let parameters = Self.parameters(location)
                #expect(parameters["error"] == error, "\(query)")
                #expect(parameters["state"] == "st-42", "\(query)")
                #expect(parameters["code"] == nil, "\(query)")
            }
            // Read-only consent: the set reads but cannot file.
            let readOnly = try await client.send(.GET, Self.query(scope: "read:vat"), accept: nil)
            #expect(readOnly.status == 302)
            #expect(Self.parameters(readOnly.headers.first(name: "Location"))["code"] != nil)
        }
    }
}
