import Foundation
import NIOCore
import NIOHTTP1

/// The HMRC personality's routes, on the one-way TLS listener only (HMRC's platform has no mutual TLS):
/// `GET /oauth/authorize` and `POST /oauth/token` for HMRC applications, `POST /sandbox/hmrc/grant` (loopback only), the VAT (MTD) API 1.0's
/// `POST /organisations/vat/{vrn}/returns`, `GET …/returns/{periodKey}` and `GET …/obligations`, and the moved
/// prefix's 308 answers.
extension SandboxRouter {
    static let hmrcAccept = "application/vnd.hmrc.1.0+json"

    /// Answers the request if it is one of the HMRC personality's; `nil` otherwise.
    func hmrcRoute(_ request: SandboxRequest) async -> SandboxResponse? {
        guard hmrc.configuration.isEnabled, request.listener == .oneWayTLS else { return nil }
        let path = request.path
        let anonymous = "anonymous@\(request.remoteAddress ?? "unknown")"
        if let prefix = hmrc.configuration.movedPrefix, !prefix.isEmpty, path.hasPrefix(prefix + "/organisations/vat/") {
            var location = String(path.dropFirst(prefix.count))
            if let query = request.uri.firstIndex(of: "?") { location += String(request.uri[query...]) }
            var headers = HTTPHeaders()
            headers.add(name: "Location", value: location)
            // A request to a moved endpoint is still a request to the API: it counts against the application's
            // rate like any other (a client that does not pace its redirects meets 429).
            let client = hmrc.clientID(forAuthorization: request.headers.first(name: "Authorization")).map { "hmrc:\($0)" } ?? anonymous
            switch hmrcLimiter.admit(client, now: request.arrival) {
            case .admitted:
                hmrcLimiter.release(client)
            case .rateExceeded, .concurrencyExceeded:
                let correlationID = UUID().uuidString.lowercased()
                return finish(
                    request, client: client, action: "hmrc.moved", hmrcAnswer(.throttled, correlationID: correlationID), fault: "rate-limit")
            }
            return finish(request, client: client, action: "hmrc.moved", SandboxResponse(status: .permanentRedirect, headers: headers))
        }
        if request.method == .POST, path == "/sandbox/hmrc/grant" {
            return finish(request, client: anonymous, action: "hmrc.grant", hmrcGrant(request))
        }
        if request.method == .GET, path.lowercased() == "/oauth/authorize" {
            let query = request.queryItems
            guard let clientID = query.first(where: { $0.0 == "client_id" })?.1, hmrc.isApplication(clientID) else { return nil }
            let reply = hmrc.authorize(query: query, now: request.receivedAt)
            var headers = HTTPHeaders()
            headers.add(name: "Cache-Control", value: "no-store")
            if let location = reply.location {
                headers.add(name: "Location", value: location)
                return finish(
                    request, client: "hmrc:\(clientID)", action: "hmrc.oauth.authorize",
                    SandboxResponse(status: .init(statusCode: reply.status), headers: headers))
            }
            return finish(
                request, client: "hmrc:\(clientID)", action: "hmrc.oauth.authorize",
                .text(.init(statusCode: reply.status), reply.json, contentType: "application/json", headers: headers))
        }
        if request.method == .POST, path.lowercased() == "/oauth/token" {
            let form = SandboxRequest.formItems(request.bodyText)
            guard let clientID = form.first(where: { $0.0 == "client_id" })?.1, hmrc.isApplication(clientID) else { return nil }
            let reply = hmrc.token(form: form, contentType: request.headers.first(name: "Content-Type"), now: request.receivedAt)
            var headers = HTTPHeaders()
            headers.add(name: "Cache-Control", value: "no-store")
            return finish(
                request, client: "hmrc:\(clientID)", action: "hmrc.oauth.token",
                .text(.init(statusCode: reply.status), reply.json, contentType: "application/json", headers: headers))
        }
        guard path.hasPrefix("/organisations/vat/") else { return nil }
        return await hmrcVAT(request)
    }

    private func hmrcGrant(_ request: SandboxRequest) -> SandboxResponse {
        // Like /sandbox/grant: tokens without consent, for this machine only unless --allow-remote-grant.
        guard grantsToRemotePeers || Self.isLoopback(request.remoteAddress) else {
            let reply = HMRCAuthority.oauthError(
                403, "access_denied", "/sandbox/hmrc/grant answers loopback peers only (tuku sandbox --allow-remote-grant)")
            return .text(.forbidden, reply.json, contentType: "application/json")
        }
        struct Body: Decodable {
            var client_id: String
            var vrns: [String]
            var scope: String?
            var redirect_uri: String?
        }
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(request.body.readableBytesView)) else {
            let reply = HMRCAuthority.oauthError(
                400, "invalid_request", "the body must be JSON {\"client_id\", \"vrns\": [9 digits], \"scope\"?: \"read:vat write:vat\"}")
            return .text(.badRequest, reply.json, contentType: "application/json")
        }
        let scopes = (body.scope ?? "read:vat write:vat").split(separator: " ").map(String.init)
        let reply = hmrc.grant(clientID: body.client_id, vrns: body.vrns, scopes: scopes, redirectURI: body.redirect_uri, now: request.receivedAt)
        return .text(.init(statusCode: reply.status), reply.json, contentType: "application/json")
    }

    private func hmrcVAT(_ request: SandboxRequest) async -> SandboxResponse {
        let authorization = request.headers.first(name: "Authorization")
        let client = hmrc.clientID(forAuthorization: authorization).map { "hmrc:\($0)" } ?? "anonymous@\(request.remoteAddress ?? "unknown")"
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let action: String
        switch (request.method, segments.count, segments.count > 3 ? segments[3] : "") {
        case (.POST, 4, "returns"): action = "hmrc.vat.return"
        case (.GET, 5, "returns"): action = "hmrc.vat.return.view"
        case (.GET, 4, "obligations"): action = "hmrc.vat.obligations"
        default: action = "hmrc.vat.unknown"
        }
        let correlationID = UUID().uuidString.lowercased()

        switch hmrcLimiter.admit(client, now: request.arrival) {
        case .admitted:
            break
        case .rateExceeded, .concurrencyExceeded:
            return finish(request, client: client, action: action, hmrcAnswer(.throttled, correlationID: correlationID), fault: "rate-limit")
        }
        let release: @Sendable () -> Void = { [hmrcLimiter] in hmrcLimiter.release(client) }

        let fault = faults.next()
        switch fault {
        case .tooManyRequests?:
            return finish(
                request, client: client, action: action, hmrcAnswer(.throttled, correlationID: correlationID), fault: fault, onFinish: release)
        case .serviceUnavailable?:
            return finish(
                request, client: client, action: action, hmrcAnswer(.serverError, correlationID: correlationID), fault: fault,
                onFinish: release)
        case .connectionReset?:
            return finish(
                request, client: client, action: action, SandboxResponse(status: .init(statusCode: 0), resetsConnection: true),
                fault: fault, onFinish: release)
        case .stall?:
            return finish(
                request, client: client, action: action,
                SandboxResponse(status: .init(statusCode: 0), delay: slowDelay, resetsConnection: true), fault: fault, onFinish: release)
        case .htmlErrorPage?:
            let body = SOAPResponseWriter.htmlPage(status: 502, title: "Bad Gateway")
            return finish(
                request, client: client, action: action, .text(.badGateway, body, contentType: "text/html; charset=utf-8"), fault: fault,
                onFinish: release)
        default:
            break
        }

        var (response, duplicate) = hmrcProcess(request, segments: segments, authorization: authorization, correlationID: correlationID)
        switch fault {
        case .gatewayTimeoutAfterStore?:
            response = hmrcAnswer(.gatewayTimeout, correlationID: correlationID)
        case .malformed?:
            let text = String(decoding: response.body.readableBytesView, as: UTF8.self)
            response.body = ByteBuffer(string: String(text.prefix(max(1, text.count / 2))))
        case .slow?:
            response.delay = slowDelay
        default:
            break
        }
        return finish(request, client: client, action: action, response, fault: fault, duplicate: duplicate, onFinish: release)
    }

    /// Everything after the limits and faults: (answer, duplicate marker for the arrival).
    private func hmrcProcess(
        _ request: SandboxRequest, segments: [String], authorization: String?, correlationID: String
    ) -> (SandboxResponse, String?) {
        func fail(_ error: HMRCError) -> (SandboxResponse, String?) { (hmrcAnswer(error, correlationID: correlationID), nil) }
        let accepts = request.headers["Accept"].flatMap { $0.split(separator: ",") }.map {
            $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
        guard accepts.contains(Self.hmrcAccept) else { return fail(.acceptHeaderInvalid) }
        guard segments.count >= 4, segments[0] == "organisations", segments[1] == "vat" else { return fail(.matchingResourceNotFound) }
        let resource = segments[3]
        let needed: String
        switch (resource, segments.count) {
        case ("returns", 4): needed = "write:vat"
        case ("returns", 5), ("obligations", 4): needed = "read:vat"
        default: return fail(.matchingResourceNotFound)
        }
        let expected: HTTPMethod = needed == "write:vat" ? .POST : .GET
        guard request.method == expected else { return fail(.methodNotAllowed) }

        let vrns: Set<String>
        switch hmrc.verify(authorization: authorization, now: request.receivedAt) {
        case .missing: return fail(.missingCredentials)
        case .invalid: return fail(.invalidCredentials)
        case .valid(_, let granted, let scopes):
            guard scopes.contains(needed) else { return fail(.invalidScope) }
            vrns = granted
        }
        let vrn = segments[2]
        guard HMRCVATReturn.isValidVRN(vrn) else { return fail(.vrnInvalid) }
        guard vrns.contains(vrn) else { return fail(.notAuthorised) }
        if hmrc.configuration.checksFraudPreventionHeaders {
            let problems = HMRCFraudPreventionCheck.problems(request.headers)
            if !problems.isEmpty {
                statistics.withLock { statistics in
                    for problem in problems { statistics.hmrcFraudHeaderProblems[problem.header, default: 0] += 1 }
                }
                let details = problems.map { HMRCError.Detail(code: $0.code, message: $0.message, path: "/headers/\($0.header)") }
                return fail(
                    HMRCError(
                        400, "INVALID_FRAUD_PREVENTION_HEADERS", "The fraud prevention headers are missing or malformed",
                        errors: details))
            }
        }
        let scenario = request.headers.first(name: "Gov-Test-Scenario")?.trimmingCharacters(in: .whitespaces).uppercased()

        switch (resource, segments.count) {
        case ("returns", 4):
            switch scenario {
            case "INVALID_VRN"?: return fail(.vrnInvalid)
            case "INVALID_PERIODKEY"?: return fail(.periodKeyInvalid)
            case "INVALID_PAYLOAD"?: return fail(.invalidRequest)
            case "DUPLICATE_SUBMISSION"?: return fail(.duplicateSubmission)
            case "TAX_PERIOD_NOT_ENDED"?: return fail(.taxPeriodNotEnded)
            case "INSOLVENT_TRADER"?: return fail(.insolventTrader)
            default: break
            }
            let vatReturn: HMRCVATReturn
            switch HMRCVATReturn.parse(Data(request.body.readableBytesView)) {
            case .failure(let error): return fail(error)
            case .success(let parsed): vatReturn = parsed
            }
            switch vatLedger.submit(vatReturn, vrn: vrn, now: request.receivedAt) {
            case .duplicate:
                return (hmrcAnswer(.duplicateSubmission, correlationID: correlationID), "hmrc-duplicate-submission")
            case .stored(let stored):
                return (hmrcReceipt(stored, correlationID: correlationID), nil)
            }
        case ("returns", 5):
            switch scenario {
            case "DATE_RANGE_TOO_LARGE"?: return fail(.dateRangeTooLarge)
            case "INSOLVENT_TRADER"?: return fail(.insolventTrader)
            default: break
            }
            let periodKey = segments[4]
            guard HMRCVATReturn.isValidPeriodKey(periodKey) else { return fail(.periodKeyInvalid) }
            guard let stored = vatLedger.stored(vrn: vrn, periodKey: periodKey) else { return fail(.notFound) }
            return (hmrcJSON(.ok, stored.vatReturn.json, correlationID: correlationID), nil)
        default:
            switch scenario {
            case "NOT_FOUND"?: return fail(.notFound)
            case "INSOLVENT_TRADER"?: return fail(.insolventTrader)
            default: break
            }
            return hmrcObligations(request, vrn: vrn, correlationID: correlationID)
        }
    }

    private func hmrcObligations(_ request: SandboxRequest, vrn: String, correlationID: String) -> (SandboxResponse, String?) {
        func fail(_ error: HMRCError) -> (SandboxResponse, String?) { (hmrcAnswer(error, correlationID: correlationID), nil) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let formatter = DateFormatter()
        formatter.calendar = calendar
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = calendar.timeZone
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.isLenient = false
        func day(_ text: String?) -> Date? {
            guard let text, text.count == 10, let date = formatter.date(from: text), formatter.string(from: date) == text else { return nil }
            return date
        }
        var query: [String: String] = [:]
        for (name, value) in request.queryItems where query[name] == nil { query[name] = value }
        let status = query["status"]
        if let status, status != "O", status != "F" { return fail(.invalidStatus) }
        let from: Date
        let to: Date
        if status == "O", query["from"] == nil, query["to"] == nil {
            to = request.receivedAt
            from = request.receivedAt.addingTimeInterval(-365 * 86_400)
        } else {
            guard let parsedFrom = day(query["from"]) else { return fail(.invalidDateFrom) }
            guard let parsedTo = day(query["to"]) else { return fail(.invalidDateTo) }
            guard parsedTo >= parsedFrom, parsedTo.timeIntervalSince(parsedFrom) <= 366 * 86_400 else { return fail(.invalidDateRange) }
            from = parsedFrom
            to = parsedTo
        }
        let obligations = vatLedger.obligations(vrn: vrn, from: from, to: to, calendar: calendar).filter { status == nil || $0.status == status }
        guard !obligations.isEmpty else { return fail(.notFound) }
        let items = obligations.map { $0.json { formatter.string(from: $0) } }
        return (hmrcJSON(.ok, "{\"obligations\":[" + items.joined(separator: ",") + "]}", correlationID: correlationID), nil)
    }

    private func hmrcReceipt(_ stored: HMRCVATLedger.Stored, correlationID: String) -> SandboxResponse {
        let processing = ISO8601DateFormatter()
        processing.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let receipt = ISO8601DateFormatter()
        receipt.formatOptions = [.withInternetDateTime]
        let total = stored.vatReturn.pence["totalVatDue"] ?? 0
        let reclaimed = stored.vatReturn.pence["vatReclaimedCurrPeriod"] ?? 0
        var body = "{\"processingDate\":\"\(processing.string(from: stored.receivedAt))\",\"formBundleNumber\":\"\(stored.formBundleNumber)\""
        if total > reclaimed {
            // A debit: HMRC holds a Direct Debit in the sandbox's story, and gives a charge reference.
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            let reference = String((0..<16).map { _ in alphabet.randomElement() ?? "A" })
            body += ",\"paymentIndicator\":\"DD\",\"chargeRefNumber\":\"\(reference)\""
        } else if total < reclaimed {
            body += ",\"paymentIndicator\":\"BANK\""
        }
        body += "}"
        var response = hmrcJSON(.created, body, correlationID: correlationID)
        response.headers.add(name: "Receipt-ID", value: UUID().uuidString.lowercased())
        response.headers.add(name: "Receipt-Timestamp", value: receipt.string(from: stored.receivedAt))
        return response
    }

    private func hmrcAnswer(_ error: HMRCError, correlationID: String) -> SandboxResponse {
        hmrcJSON(.init(statusCode: error.status), error.json, correlationID: correlationID)
    }

    private func hmrcJSON(_ status: HTTPResponseStatus, _ json: String, correlationID: String) -> SandboxResponse {
        var headers = HTTPHeaders()
        headers.add(name: "X-CorrelationId", value: correlationID)
        return .text(status, json, contentType: "application/json", headers: headers)
    }
}
