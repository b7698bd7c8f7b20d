import Foundation
import NIOHTTP1
import Testing
import TukuHMRC

@Suite("HMRC redirects (RFC 9110 §15.4, docs/hmrc.md)")
struct HMRCRedirectPolicyTests {
    static let policy = HMRCRedirectPolicy()
    static let url = URL(string: "https://test-api.service.hmrc.gov.uk/v0/organisations/vat/123456789/returns")!

    static func decide(_ status: Int, _ location: String?, _ method: HTTPMethod = .POST, hops: Int = 0) -> HMRCRedirectPolicy.Decision? {
        policy.decide(status: status, location: location, method: method, url: url, hopsSoFar: hops)
    }

    @Test("307 and 308 keep the method and the body; a relative Location resolves against the request URL")
    func keep() throws {
        for status in [307, 308] {
            guard case .follow(let hop)? = Self.decide(status, "/organisations/vat/123456789/returns") else {
                Issue.record("\(status) not followed")
                continue
            }
            #expect(hop.method == .POST)
            #expect(hop.keepsBody)
            #expect(hop.to.absoluteString == "https://test-api.service.hmrc.gov.uk/organisations/vat/123456789/returns")
            #expect(hop.description == "\(status) POST \(Self.url.absoluteString) → \(hop.to.absoluteString)")
        }
        guard case .follow(let relative)? = Self.decide(308, "../returns?x=1") else {
            Issue.record("relative reference not followed")
            return
        }
        #expect(relative.to.absoluteString == "https://test-api.service.hmrc.gov.uk/v0/organisations/vat/returns?x=1")
    }

    @Test("301 and 302 keep a POST (and its body) rather than lose the filing")
    func movedKeepsPost() {
        for status in [301, 302] {
            guard case .follow(let hop)? = Self.decide(status, "/organisations/vat/123456789/returns") else {
                Issue.record("\(status) not followed")
                continue
            }
            #expect(hop.method == .POST)
            #expect(hop.keepsBody)
        }
    }

    @Test("303 is followed as a GET after a GET, and after a POST is refused as an ambiguous outcome")
    func seeOther() {
        guard case .follow(let hop)? = Self.decide(303, "/elsewhere", .GET) else {
            Issue.record("303 after GET not followed")
            return
        }
        #expect(hop.method == .GET)
        #expect(!hop.keepsBody)
        guard case .refuse(_, let mayHaveActed)? = Self.decide(303, "/elsewhere", .POST) else {
            Issue.record("303 after POST followed")
            return
        }
        #expect(mayHaveActed)
    }

    @Test("another scheme, host or port is refused unless the host is allowed, and never over http")
    func origins() {
        for location in [
            "http://test-api.service.hmrc.gov.uk/organisations/vat/123456789/returns", "https://evil.example/returns",
            "https://test-api.service.hmrc.gov.uk:8443/returns",
        ] {
            guard case .refuse(_, let mayHaveActed)? = Self.decide(308, location) else {
                Issue.record("\(location) followed")
                continue
            }
            #expect(!mayHaveActed)
        }
        let allowing = HMRCRedirectPolicy(configuration: .init(allowedHosts: ["api.service.hmrc.gov.uk"]))
        let followed = allowing.decide(
            status: 308, location: "https://api.service.hmrc.gov.uk/organisations/vat/123456789/returns", method: .POST, url: Self.url,
            hopsSoFar: 0)
        if case .follow = followed {} else { Issue.record("allowed host refused") }
        let plain = allowing.decide(
            status: 308, location: "http://api.service.hmrc.gov.uk/x", method: .POST, url: Self.url, hopsSoFar: 0)
        if case .refuse = plain {} else { Issue.record("allowed host over http followed") }
    }

    @Test("at most five hops; no Location; not a redirect")
    func limits() {
        if case .refuse? = Self.decide(308, "/a", hops: 5) {} else { Issue.record("sixth redirect followed") }
        if case .follow? = Self.decide(308, "/a", hops: 4) {} else { Issue.record("fifth redirect refused") }
        if case .refuse? = Self.decide(308, nil) {} else { Issue.record("no Location followed") }
        #expect(Self.decide(200, "/a") == nil)
        #expect(Self.decide(304, "/a") == nil)
    }
}
