import Foundation
import NIOHTTP1
import Testing
import TukuCore
import TukuHMRC
import TukuSandbox

@Suite("Fraud prevention headers (docs/hmrc.md)")
struct FraudPreventionHeadersTests {
    static let now = Date(timeIntervalSince1970: 1_796_453_412.345)  // 2026-12-05T06:50:12.345Z

    static func client(_ changes: [String: Any?] = [:]) throws -> FraudPreventionClientValues {
        var fraud = HMRCFixtures.webFraudPrevention
        for (key, value) in changes { fraud[key] = value }
        let payload = try VATReturnPayload.decodeValidated(from: HMRCFixtures.json(HMRCFixtures.returnObject(["fraudPrevention": fraud])))
        return payload.fraudPrevention
    }

    @Test("WEB_APP_VIA_SERVER: every header HMRC requires, percent-encoded key=value lists")
    func webApp() throws {
        let headers = try HMRCFixtures.headers().headers(for: Self.client(), now: Self.now)
        #expect(
            headers.map(\.name) == [
                "Gov-Client-Connection-Method", "Gov-Client-Browser-JS-User-Agent", "Gov-Client-Device-ID", "Gov-Client-Multi-Factor",
                "Gov-Client-Public-IP", "Gov-Client-Public-IP-Timestamp", "Gov-Client-Public-Port", "Gov-Client-Screens",
                "Gov-Client-Timezone", "Gov-Client-User-IDs", "Gov-Client-Window-Size", "Gov-Vendor-Forwarded", "Gov-Vendor-License-IDs",
                "Gov-Vendor-Product-Name", "Gov-Vendor-Public-IP", "Gov-Vendor-Version",
            ])
        #expect(headers.first(name: "Gov-Client-Connection-Method") == "WEB_APP_VIA_SERVER")
        #expect(headers.first(name: "Gov-Client-Multi-Factor") == "type=TOTP&timestamp=2026-12-05T06%3A39Z&unique-reference=c6f1a7b2")
        #expect(headers.first(name: "Gov-Client-Screens") == "width=1920&height=1080&scaling-factor=1.25&colour-depth=24")
        #expect(headers.first(name: "Gov-Client-User-IDs") == "acme-payroll=alice%20smith%26co")
        #expect(headers.first(name: "Gov-Client-Window-Size") == "width=1256&height=803")
        #expect(headers.first(name: "Gov-Vendor-Forwarded") == "by=203.0.113.6&for=198.51.100.7")
        #expect(headers.first(name: "Gov-Vendor-Product-Name") == "Tuku%20payroll")
        #expect(headers.first(name: "Gov-Vendor-Version") == "acme-web=4.2&tuku=1.0.0")
        #expect(headers.first(name: "Gov-Client-Public-Port") == "51234")
    }

    @Test("our headers pass the sandbox's check, which follows HMRC's Test Fraud Prevention Headers API")
    func sandboxAccepts() throws {
        let web = try HMRCFixtures.headers().headers(for: Self.client(), now: Self.now)
        #expect(HMRCFraudPreventionCheck.problems(web) == [])
        let batch = try HMRCFixtures.headers().headers(
            for: FraudPreventionClientValues(connectionMethod: .batchProcessDirect), now: Self.now)
        #expect(HMRCFraudPreventionCheck.problems(batch) == [])
    }

    @Test("BATCH_PROCESS_DIRECT: the process's own values, local IPs stamped when the call is built")
    func batch() throws {
        let headers = try HMRCFixtures.headers().headers(
            for: FraudPreventionClientValues(connectionMethod: .batchProcessDirect), now: Self.now)
        #expect(headers.first(name: "Gov-Client-Connection-Method") == "BATCH_PROCESS_DIRECT")
        #expect(headers.first(name: "Gov-Client-Local-IPs") == "10.1.2.3,fe80%3A%3A1")
        #expect(headers.first(name: "Gov-Client-Local-IPs-Timestamp") == "2026-12-05T06:50:12.345Z")
        #expect(headers.first(name: "Gov-Client-MAC-Addresses") == "ea%3A43%3A1a%3A5c%3A19%3A87")
        #expect(
            headers.first(name: "Gov-Client-User-Agent")
                == "os-family=Linux&os-version=Debian%2012&device-manufacturer=QEMU&device-model=Standard%20PC")
        #expect(headers.first(name: "Gov-Vendor-Public-IP") == nil)
        #expect(headers.first(name: "Gov-Client-Public-IP") == nil)
    }

    @Test("a missing client value is fraud_header_missing, naming every header and its payload path")
    func missing() throws {
        let client = try Self.client(["publicPort": nil, "multiFactor": nil, "timezone": "GMT"])
        let error = try #require(throws: JobError.self) { try HMRCFixtures.headers().headers(for: client, now: Self.now) }
        #expect(error.code == "fraud_header_missing")
        #expect(error.message.contains("Gov-Client-Public-Port"))
        #expect(error.message.contains("Gov-Client-Multi-Factor"))
        #expect(
            error.problems?.map(\.path) == ["fraudPrevention.publicPort", "fraudPrevention.multiFactor", "fraudPrevention.timezone"])
        #expect(error.problems?.first?.reason == "Gov-Client-Public-Port: required for WEB_APP_VIA_SERVER")
    }

    @Test("malformed client values are fraud_header_invalid")
    func invalid() throws {
        let cases: [(String, Any, String)] = [
            ("publicIP", "192.168.1.10", "Gov-Client-Public-IP"), ("publicIP", "not-an-ip", "Gov-Client-Public-IP"),
            ("publicIPTimestamp", "2026-12-05T06:40:12Z", "Gov-Client-Public-IP-Timestamp"), ("publicPort", 0, "Gov-Client-Public-Port"),
            ("deviceID", "device-1", "Gov-Client-Device-ID"), ("timezone", "UTC+1", "Gov-Client-Timezone"),
            ("userIDs", [String: String](), "Gov-Client-User-IDs"), ("screens", [Any](), "Gov-Client-Screens"),
            ("windowSize", ["width": 0, "height": 10], "Gov-Client-Window-Size"),
            ("browserJSUserAgent", "Mozilla/5.0\r\nX-Injected: 1", "Gov-Client-Browser-JS-User-Agent"),
            ("multiFactor", [["type": "SMS", "timestamp": "2026-12-05T06:39Z", "uniqueReference": "a"]], "Gov-Client-Multi-Factor"),
        ]
        for (key, value, header) in cases {
            let client = try Self.client([key: value])
            let error = try #require(throws: JobError.self) { try HMRCFixtures.headers().headers(for: client, now: Self.now) }
            #expect(error.code == "fraud_header_invalid", "\(key)")
            #expect(error.problems?.map(\.path) == ["fraudPrevention.\(key)"], "\(key)")
            #expect(error.message.contains(header), "\(key)")
        }
    }

    @Test("the vendor configuration is checked when created, and a method it cannot serve is fraud_vendor_unconfigured")
    func configuration() throws {
        var bad = HMRCFixtures.vendor
        bad.publicIP = "10.0.0.1"
        bad.licenseIDs = [:]
        let error = try #require(throws: JobError.self) { try FraudPreventionHeaders(configuration: bad) }
        #expect(error.code == "fraud_vendor_config_invalid")
        #expect(error.problems?.map(\.path).sorted() == ["licenseIDs", "publicIP"])

        var webOnly = HMRCFixtures.vendor
        webOnly.batchProcess = nil
        let headers = try FraudPreventionHeaders(configuration: webOnly)
        let batchError = try #require(throws: JobError.self) {
            try headers.headers(for: FraudPreventionClientValues(connectionMethod: .batchProcessDirect), now: Self.now)
        }
        #expect(batchError.code == "fraud_vendor_unconfigured")
    }

    @Test(
        "configured later hops follow the first in Gov-Vendor-Forwarded and pass the sandbox's check; a hop without IP addresses is refused"
    )
    func forwardedHops() throws {
        var vendor = HMRCFixtures.vendor
        vendor.forwardedHops = [.init(by: "10.0.0.5", for: "10.0.0.2"), .init(by: "fd00::7", for: "10.0.0.5")]
        let headers = try FraudPreventionHeaders(configuration: vendor).headers(for: Self.client(), now: Self.now)
        #expect(
            headers.first(name: "Gov-Vendor-Forwarded")
                == "by=203.0.113.6&for=198.51.100.7,by=10.0.0.5&for=10.0.0.2,by=fd00%3A%3A7&for=10.0.0.5")
        #expect(HMRCFraudPreventionCheck.problems(headers) == [])

        vendor.forwardedHops = [.init(by: "load-balancer", for: "10.0.0.2")]
        let error = try #require(throws: JobError.self) { try FraudPreventionHeaders(configuration: vendor) }
        #expect(error.problems?.map(\.path) == ["forwardedHops[0]"])
    }

    @Test("percent-encoding leaves only unreserved characters, UTF-8 bytes as %HH")
    func percentEncoding() {
        #expect(FraudPreventionHeaders.percentEncoded("a-b.c_d~e") == "a-b.c_d~e")
        #expect(FraudPreventionHeaders.percentEncoded("a b=c&d,e:f/g") == "a%20b%3Dc%26d%2Ce%3Af%2Fg")
        #expect(FraudPreventionHeaders.percentEncoded("Māori") == "M%C4%81ori")
        #expect(FraudPreventionHeaders.keyValues([("my vendor", "x=1"), ("b", "2")]) == "my%20vendor=x%3D1&b=2")
    }
}
