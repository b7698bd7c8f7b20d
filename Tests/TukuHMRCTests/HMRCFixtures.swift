import Foundation
import NIOHTTP1
import TukuHMRC

/// Payloads, configurations and paths the HMRC tests share.
enum HMRCFixtures {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TukuHMRCTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root

    static var webFraudPrevention: [String: Any] {
        [
            "connectionMethod": "WEB_APP_VIA_SERVER",
            "publicIP": "198.51.100.7",
            "publicIPTimestamp": "2026-12-05T06:40:12.345Z",
            "publicPort": 51234,
            "deviceID": "beec798b-b366-47fa-b1f8-92cede14a1ce",
            "userIDs": ["acme-payroll": "alice smith&co"],
            "timezone": "UTC+00:00",
            "screens": [["width": 1920, "height": 1080, "scalingFactor": 1.25, "colourDepth": 24]],
            "windowSize": ["width": 1256, "height": 803],
            "browserJSUserAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "multiFactor": [["type": "TOTP", "timestamp": "2026-12-05T06:39Z", "uniqueReference": "c6f1a7b2"]],
        ]
    }

    /// HMRC's own OpenAPI example (`example-1`), boxes as JSON numbers, plus the fraud prevention values.
    static func returnObject(_ changes: [String: Any?] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "vrn": "123456789", "periodKey": "A001", "vatDueSales": 105.5, "vatDueAcquisitions": -100.45, "totalVatDue": 5.05,
            "vatReclaimedCurrPeriod": 105.15, "netVatDue": 100.1, "totalValueSalesExVAT": 300, "totalValuePurchasesExVAT": 300,
            "totalValueGoodsSuppliedExVAT": 3000, "totalAcquisitionsExVAT": 3000, "finalised": true,
            "fraudPrevention": webFraudPrevention,
        ]
        for (key, value) in changes { object[key] = value }
        return object
    }

    /// JSON text for `object`; numbers that must stay exact are spliced in as raw text with ``raw(_:)`` markers.
    static func json(_ object: [String: Any]) -> Data {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var text = String(decoding: data, as: UTF8.self)
        // "RAW:1.07" → 1.07: lets a test write a JSON number exactly as given, never through Double.
        while let range = text.range(of: #""RAW:[^"]*""#, options: .regularExpression) {
            let inner = text[range].dropFirst(5).dropLast()
            text.replaceSubrange(range, with: inner)
        }
        return Data(text.utf8)
    }

    /// A JSON number written exactly as `text` (see ``json(_:)``).
    static func raw(_ text: String) -> String { "RAW:" + text }

    static let vendor = FraudPreventionHeaders.Configuration(
        productName: "Tuku payroll", versions: ["tuku": "1.0.0", "acme-web": "4.2"],
        licenseIDs: ["tuku": "8D7963490527D33716835EE7C195516D5E562E03B224E9B359836466EE40CDE1"], publicIP: "203.0.113.6",
        batchProcess: .init(
            deviceID: "2a8e6f2c-7f4e-4f0a-9a43-8f0e0b1c2d3e", localIPs: ["10.1.2.3", "fe80::1"], macAddresses: ["ea:43:1a:5c:19:87"],
            timezone: "UTC+13:00", osFamily: "Linux", osVersion: "Debian 12", deviceManufacturer: "QEMU", deviceModel: "Standard PC",
            userIDs: ["os": "tuku"]))

    static func headers() throws -> FraudPreventionHeaders { try FraudPreventionHeaders(configuration: vendor) }
}
