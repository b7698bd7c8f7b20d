import Testing

@testable import TukuGateway

@Suite("Gateway endpoints and transport configuration")
struct GatewayEndpointTests {
    @Test("IRD's published URLs: cloud on 4046 under /gateway/, desktop on 443 under /gateway2/")
    func publishedURLs() {
        #expect(GatewayEndpoint.production(.cloud).url(for: .returns) == "https://services.ird.govt.nz:4046/gateway/gws/returns/")
        #expect(GatewayEndpoint.production(.desktop).url(for: .returns) == "https://services.ird.govt.nz/gateway2/gws/returns/")
        #expect(GatewayEndpoint.test(.cloud).url(for: .returns) == "https://test5.services.ird.govt.nz:4046/gateway/gws/returns/")
        #expect(GatewayEndpoint.test(.desktop).url(for: .returns) == "https://test5.services.ird.govt.nz/gateway2/gws/returns/")
        #expect(GatewayEndpoint.production().url(for: .employment) == "https://services.ird.govt.nz:4046/gateway/gws/employment/v2/")
        #expect(GatewayEndpoint.publishedBaseURL(environment: .sandbox, profile: .cloud) == nil)
    }

    @Test("the profile decides whether a client certificate is needed, and the port")
    func profiles() {
        #expect(GatewayEndpoint.Profile.cloud.requiresClientCertificate)
        #expect(!GatewayEndpoint.Profile.desktop.requiresClientCertificate)
        #expect(GatewayEndpoint.Profile.cloud.defaultPort == 4046)
        #expect(GatewayEndpoint.Profile.desktop.defaultPort == 443)
        #expect(GatewayEndpoint.production(.cloud).requiresClientCertificate)
    }

    @Test("a sandbox base URL gets a trailing slash; services join under it")
    func sandbox() throws {
        let endpoint = try GatewayEndpoint.sandbox(baseURL: "https://localhost:8443/gateway", profile: .desktop)
        #expect(endpoint.baseURL == "https://localhost:8443/gateway/")
        #expect(endpoint.url(for: .returns) == "https://localhost:8443/gateway/gws/returns/")
        #expect(endpoint.url(for: GatewayEndpoint.Service(path: "/custom/path")) == "https://localhost:8443/gateway/custom/path/")
        #expect(endpoint.environment == .sandbox)
    }

    @Test(
        "unusable base URLs are configuration errors, and the message does not repeat credentials",
        arguments: [
            "http://localhost/gateway/", "localhost/gateway", "https:///gateway/", "https://user:hunter2@localhost/",
            "https://localhost/?a=b",
        ])
    func invalidBaseURLs(url: String) {
        let error = #expect(throws: TransportError.self) { try GatewayEndpoint.sandbox(baseURL: url) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test("the cloud profile requires a client identity; the desktop profile refuses one")
    func identityMatchesProfile() throws {
        let identity = GatewayTransport.Configuration.TLS.ClientIdentity(certificateChainPath: "/c.pem", privateKeyPath: "/k.pem")
        let cloudWithout = #expect(throws: TransportError.self) {
            try GatewayTransport.Configuration(for: .production(.cloud), clientIdentity: nil)
        }
        #expect(cloudWithout?.code == .invalidConfiguration)
        let desktopWith = #expect(throws: TransportError.self) {
            try GatewayTransport.Configuration(for: .production(.desktop), clientIdentity: identity)
        }
        #expect(desktopWith?.code == .invalidConfiguration)
        let cloud = try GatewayTransport.Configuration(for: .production(.cloud), clientIdentity: identity)
        #expect(cloud.tls.clientIdentity == identity)
        #expect(cloud.tls.minimumVersion == .tls12)
        #expect(cloud.timeouts.request == .seconds(60))
    }
}
