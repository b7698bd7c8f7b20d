import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import TukuSandbox

/// A plain HTTPS client for the sandbox's HMRC personality (one-way TLS, redirects not followed), which records
/// every JSON body it sends and receives with the OpenAPI schema it must satisfy, for ``HMRCSchemaCheck``.
final class HMRCClient: Sendable {
    static let applicationID = "hmrc-app"
    static let applicationSecret = "hmrc-app-secret"
    static let otherApplicationID = "hmrc-other"
    static let otherApplicationSecret = "hmrc-other-secret"
    static let accept = "application/vnd.hmrc.1.0+json"

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var code: String? { json["code"] as? String }
        var fieldErrors: [(code: String, path: String)] {
            (json["errors"] as? [[String: Any]] ?? []).map { ($0["code"] as? String ?? "", $0["path"] as? String ?? "") }
        }
    }

    let base: String
    let http: HTTPClient
    let checks: HMRCSchemaCheck

    init(sandbox: Sandbox, checks: HMRCSchemaCheck) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(sandbox.certificates.path("ca.pem"))
        self.http = HTTPClient(configuration: .init(tlsConfiguration: tls, redirectConfiguration: .disallow))
        self.base = "https://127.0.0.1:\(sandbox.addresses.oneWayTLSPort)"
        self.checks = checks
    }

    func shutdown() async throws { try await http.shutdown() }

    /// Valid fraud prevention headers of a batch process (what Tuku's worker is).
    static let batchHeaders: [(String, String)] = [
        ("Gov-Client-Connection-Method", "BATCH_PROCESS_DIRECT"), ("Gov-Client-Device-ID", "beec798b-b366-47fa-b1f8-92cede14a1ce"),
        ("Gov-Client-Local-IPs", "10.1.2.3,fe80%3A%3A1"), ("Gov-Client-Local-IPs-Timestamp", "2026-12-05T03:00:00.123Z"),
        ("Gov-Client-MAC-Addresses", "ea%3A43%3A1a%3A5c%3Aea%3Ab2"), ("Gov-Client-Timezone", "UTC+13:00"),
        ("Gov-Client-User-Agent", "os-family=Linux&os-version=6.1&device-manufacturer=Tuku&device-model=worker"),
        ("Gov-Client-User-IDs", "tuku=worker-1"), ("Gov-Vendor-License-IDs", "tuku=0a1b2c"), ("Gov-Vendor-Product-Name", "Tuku"),
        ("Gov-Vendor-Version", "tuku=1.0.0"),
    ]

    /// Valid fraud prevention headers of a server filing for a web app's user.
    static let webAppHeaders: [(String, String)] = [
        ("Gov-Client-Connection-Method", "WEB_APP_VIA_SERVER"), ("Gov-Client-Browser-JS-User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("Gov-Client-Device-ID", "beec798b-b366-47fa-b1f8-92cede14a1ce"),
        ("Gov-Client-Multi-Factor", "type=TOTP&timestamp=2026-12-05T02%3A59Z&unique-reference=fc4b5fd6816f75a7c"),
        ("Gov-Client-Public-IP", "198.51.100.7"), ("Gov-Client-Public-IP-Timestamp", "2026-12-05T03:00:00.123Z"),
        ("Gov-Client-Public-Port", "12345"), ("Gov-Client-Screens", "width=1920&height=1080&scaling-factor=1&colour-depth=24"),
        ("Gov-Client-Timezone", "UTC+00:00"), ("Gov-Client-User-IDs", "upstream=alice%40example.com"), ("Gov-Client-Window-Size", "width=1256&height=803"),
        ("Gov-Vendor-Forwarded", "by=203.0.113.6&for=198.51.100.7"), ("Gov-Vendor-License-IDs", "tuku=0a1b2c"),
        ("Gov-Vendor-Product-Name", "Tuku"), ("Gov-Vendor-Public-IP", "203.0.113.6"), ("Gov-Vendor-Version", "tuku=1.0.0"),
    ]

    func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/json", token: String? = nil,
        accept: String? = HMRCClient.accept, headers extra: [(String, String)] = [],
        fraudHeaders: [(String, String)] = HMRCClient.batchHeaders, requestSchemaValid: Bool = true
    ) async throws -> Answer {
        let vatCall = path.hasPrefix("/organisations/")
        if vatCall, method == .POST, let body {
            checks.expect(body, "VATReturnDeclaration", valid: requestSchemaValid, "request \(path): \(body)")
        }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if path.hasPrefix("/organisations/") { for (name, value) in fraudHeaders { request.headers.add(name: name, value: value) } }
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(15))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let answer = Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
        // Every JSON answer of a VAT route against the OpenAPI schema for its status.
        if vatCall, !answer.body.isEmpty {
            let schema: String
            switch answer.status {
            case 201: schema = "MTDFB-API56v1.0Submit9-BoxVatReturn-Successresponse"
            case 200: schema = path.contains("/obligations") ? "Obligations" : "SubmitVAT"
            default: schema = "errorResponse"
            }
            checks.expect(answer.body, schema, "response \(answer.status) to \(method) \(path)")
        }
        return answer
    }

    /// An access token (and refresh token) through `/sandbox/hmrc/grant` and the token endpoint.
    func authorise(
        vrns: [String], scope: String = "read:vat write:vat", client: String = HMRCClient.applicationID,
        secret: String = HMRCClient.applicationSecret
    ) async throws -> (access: String, refresh: String, answer: Answer) {
        let grant = try await send(.POST, "/sandbox/hmrc/grant", body: Self.jsonObject(["client_id": client, "vrns": vrns, "scope": scope]))
        guard grant.status == 200, let code = grant.json["code"] as? String else { throw HarnessError("grant failed: \(grant.status) \(grant.body)") }
        let answer = try await token(["grant_type": "authorization_code", "code": code, "client_id": client, "client_secret": secret])
        guard answer.status == 200, let access = answer.json["access_token"] as? String, let refresh = answer.json["refresh_token"] as? String
        else { throw HarnessError("token exchange failed: \(answer.status) \(answer.body)") }
        return (access, refresh, answer)
    }

    func token(_ form: [String: String]) async throws -> Answer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
        return try await send(.POST, "/oauth/token", body: body, contentType: "application/x-www-form-urlencoded", accept: nil)
    }

    static func jsonObject(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }
}

/// Every JSON body the tests exchange, with the schema of HMRC's OpenAPI it must (or must not) satisfy, validated
/// in one run of `scripts/lib/hmrc-schema-check.py` (jsonschema) at the end of a test.
final class HMRCSchemaCheck: Sendable {
    struct Entry: Sendable {
        var schema: String
        var json: String
        var valid: Bool
        var what: String
    }

    private let entries = Mutex<[Entry]>([])

    /// Records that `json` must satisfy (or, with `valid: false`, must fail) the OpenAPI schema `schema`.
    func expect(_ json: String, _ schema: String, valid: Bool = true, _ what: String) {
        entries.withLock { $0.append(Entry(schema: schema, json: json, valid: valid, what: what)) }
    }

    /// Runs the validator; returns one line per entry that did not come out as expected.
    func failures() throws -> [String] {
        let all = entries.withLock { $0 }
        guard !all.isEmpty else { return [] }
        let root = TestCertificates.repositoryRoot
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", root.appendingPathComponent("scripts/lib/hmrc-schema-check.py").path,
            root.appendingPathComponent("Tests/Fixtures/hmrc-vat-1.0/vat-api-1.0.openapi.yaml").path,
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let lines = all.map { "\($0.schema)\t\($0.json.replacingOccurrences(of: "\n", with: " "))\n" }.joined()
        input.fileHandleForWriting.write(Data(lines.utf8))
        try input.fileHandleForWriting.close()
        let verdicts = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        process.waitUntilExit()
        guard process.terminationStatus == 0, verdicts.count == all.count else {
            return ["the schema check failed (status \(process.terminationStatus), \(verdicts.count) of \(all.count) verdicts)"]
        }
        return zip(all, verdicts).compactMap { entry, verdict in
            (verdict == "ok") == entry.valid ? nil : "\(entry.what) [\(entry.schema)]: expected \(entry.valid ? "valid" : "invalid"), got \(verdict)"
        }
    }
}
