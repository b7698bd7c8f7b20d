import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TukuGateway

/// The sandbox's routes, independent of the network: OAuth, the SOAP services, and the sandbox helpers.
///
/// Routes (both listeners serve all of them):
/// - `POST /gateway/gws/returns/`, `POST /gateway/gws/employment/v2/` (also under `/gateway2/`, case-insensitive):
///   the SOAP services;
/// - `GET /oauth/authorize`, `POST /oauth/token`, `POST /oauth/introspect`, `POST /oauth/revoke` (also under
///   `/gateway3/`): OAuth;
/// - `POST /sandbox/grant`: a fresh token set without the browser dance; `GET /sandbox/stats`: counters as JSON;
/// - on the one-way TLS listener, when HMRC applications are registered, HMRC's VAT (MTD) API (see
///   `SandboxRouter+HMRC.swift`).
public final class SandboxRouter: Sendable {
    /// The OAuth authorization server.
    public let oauth: OAuthAuthority
    /// The M2M JWT verifier.
    public let m2m: M2MVerifier
    /// The stored returns.
    public let filings: FilingRegistry
    /// The employment relationships Create, Update and Terminate told it about.
    public let employments: EmploymentRegistry
    /// Per-client rate and concurrency limits.
    public let limiter: ClientLimiter
    /// The fault injector.
    public let faults: FaultInjector
    /// IRD's XSDs, compiled once: every SOAP request body is validated against them.
    public let schemas: IRDSchemaValidator
    /// Whether payday-filing calls accept M2M JWTs (IRD's do not: OAuth only). A leniency for tests of the M2M
    /// verifier only; `false` unless set.
    public let acceptsM2MOnPaydayFiling: Bool
    /// HMRC's OAuth token endpoint (the HMRC personality).
    public let hmrc: HMRCAuthority
    /// The VAT returns the HMRC personality stored.
    public let vatLedger: HMRCVATLedger
    /// Per-application rate limit of the HMRC personality.
    let hmrcLimiter: ClientLimiter
    private let arrivals: ArrivalsLog?
    let slowDelay: Duration
    private let faultRetryAfter: Duration
    let statistics = Mutex(SandboxStatistics())
    private let logger: Logger
    /// Whether `POST /sandbox/grant` answers peers other than loopback.
    let grantsToRemotePeers: Bool

    /// Creates the routes. `grantsToRemotePeers` lets `POST /sandbox/grant` answer peers other than loopback.
    public init(
        oauth: OAuthAuthority, m2m: M2MVerifier, filings: FilingRegistry, employments: EmploymentRegistry = EmploymentRegistry(),
        limiter: ClientLimiter, faults: FaultInjector, schemas: IRDSchemaValidator, acceptsM2MOnPaydayFiling: Bool = false,
        arrivals: ArrivalsLog?, slowDelay: Duration, faultRetryAfter: Duration, hmrc: HMRCConfiguration = HMRCConfiguration(),
        grantsToRemotePeers: Bool = false, logger: Logger
    ) {
        self.grantsToRemotePeers = grantsToRemotePeers
        self.hmrc = HMRCAuthority(configuration: hmrc)
        self.vatLedger = HMRCVATLedger()
        self.hmrcLimiter = ClientLimiter(configuration: .init(rate: hmrc.rate))
        self.oauth = oauth
        self.m2m = m2m
        self.filings = filings
        self.employments = employments
        self.limiter = limiter
        self.faults = faults
        self.schemas = schemas
        self.acceptsM2MOnPaydayFiling = acceptsM2MOnPaydayFiling
        self.arrivals = arrivals
        self.slowDelay = slowDelay
        self.faultRetryAfter = faultRetryAfter
        self.logger = logger
    }

    /// The counters so far.
    public var currentStatistics: SandboxStatistics {
        var snapshot = statistics.withLock { $0 }
        snapshot.filingsStored = filings.count
        snapshot.employmentsCreated = employments.count
        snapshot.hmrcReturnsStored = vatLedger.count
        return snapshot
    }

    /// The operations of the SOAP service at `path`, or `nil` when `path` is not a SOAP service.
    static func operations(forPath path: String) -> [GatewayOperation]? {
        var rest = path.lowercased()
        for prefix in ["/gateway/", "/gateway2/"] where rest.hasPrefix(prefix) {
            rest = String(rest.dropFirst(prefix.count))
            if !rest.hasSuffix("/") { rest += "/" }
            switch rest {
            case GatewayEndpoint.Service.returns.path: return [.fileReturn, .retrieveReturnStatus, .retrieveReturn]
            case GatewayEndpoint.Service.employment.path: return [.createEmployment, .updateEmployment, .terminateEmployment]
            default: return nil
            }
        }
        return nil
    }

    /// Answers one request.
    public func handle(_ request: SandboxRequest) async -> SandboxResponse {
        if let answer = await hmrcRoute(request) { return answer }
        let path = request.path
        let route = "\(request.method.rawValue) \(path)"
        if let operations = Self.operations(forPath: path) {
            guard request.method == .POST else {
                return finish(
                    request, client: client(of: request), action: route, .text(.methodNotAllowed, "POST only\n", contentType: "text/plain"))
            }
            return await soap(request, operations: operations)
        }
        let lowered = path.lowercased()
        let oauthPath = lowered.hasPrefix("/gateway3/") ? String(lowered.dropFirst("/gateway3".count)) : lowered
        switch (request.method, oauthPath) {
        case (.GET, "/oauth/authorize"):
            let reply = oauth.authorize(query: request.queryItems)
            return finish(request, client: client(of: request), action: "oauth.authorize", response(reply))
        case (.POST, "/oauth/token"), (.POST, "/oauth/introspect"), (.POST, "/oauth/revoke"):
            // Parameters count only in the body: IRD does not accept them in the query of a POST (§2.1.2).
            let form = SandboxRequest.formItems(request.bodyText)
            let authorization = request.headers.first(name: "Authorization")
            let contentType = request.headers.first(name: "Content-Type")
            let endpoint = String(oauthPath.dropFirst("/oauth/".count))
            let reply: OAuthReply
            switch endpoint {
            case "token": reply = oauth.token(form: form, authorization: authorization, contentType: contentType)
            case "introspect": reply = oauth.introspect(form: form, authorization: authorization, contentType: contentType)
            default: reply = oauth.revoke(form: form, authorization: authorization, contentType: contentType)
            }
            return finish(request, client: client(of: request), action: "oauth.\(endpoint)", response(reply))
        case (.POST, "/sandbox/grant"):
            guard self.grantsToRemotePeers || Self.isLoopback(request.remoteAddress) else {
                // It mints token sets with no consent and no client secret: this machine only, unless the operator
                // started the sandbox with --allow-remote-grant.
                return finish(
                    request, client: client(of: request), action: "sandbox.grant",
                    response(.error(403, "access_denied", "/sandbox/grant answers loopback peers only (tuku sandbox --allow-remote-grant)")))
            }
            return finish(request, client: client(of: request), action: "sandbox.grant", grant(request))
        case (.GET, "/sandbox/stats"):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let json = (try? encoder.encode(currentStatistics)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return finish(
                request, client: client(of: request), action: "sandbox.stats", .text(.ok, json + "\n", contentType: "application/json"))
        default:
            return finish(request, client: client(of: request), action: route, .text(.notFound, "not found\n", contentType: "text/plain"))
        }
    }

    // MARK: SOAP

    private func soap(_ request: SandboxRequest, operations: [GatewayOperation]) async -> SandboxResponse {
        let client = client(of: request)
        let read = SOAPRequestReader.read(Data(request.body.readableBytesView), operations: operations, schemas: schemas)
        let action: String
        switch read {
        case .call(let call): action = call.operation.name
        case .unknownAction(let name): action = name.map { String($0.split(separator: "/").last ?? "") } ?? "unknown"
        case .notXML, .notSOAP12: action = "unparsed"
        }

        switch limiter.admit(client, now: request.arrival) {
        case .admitted:
            break
        case .rateExceeded(let retryAfter):
            return finish(request, client: client, action: action, throttled(retryAfter: retryAfter), fault: "rate-limit")
        case .concurrencyExceeded:
            return finish(request, client: client, action: action, throttled(retryAfter: .seconds(1)), fault: "concurrency-limit")
        }
        let release: @Sendable () -> Void = { [limiter] in limiter.release(client) }

        let fault = faults.next()
        switch fault {
        case .tooManyRequests?:
            return finish(request, client: client, action: action, throttled(retryAfter: faultRetryAfter), fault: fault, onFinish: release)
        case .serviceUnavailable?:
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: Self.retryAfterSeconds(faultRetryAfter))
            let body = SOAPResponseWriter.fault(code: "Receiver", reason: "The service is temporarily unavailable")
            return finish(
                request, client: client, action: action,
                .text(.serviceUnavailable, body, contentType: Self.soapContentType, headers: headers), fault: fault, onFinish: release)
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

        var (response, statusCode, duplicate) = await process(request, read: read, client: client)
        switch fault {
        case .gatewayTimeoutAfterStore?:
            response = .text(
                .gatewayTimeout, SOAPResponseWriter.htmlPage(status: 504, title: "Gateway Timeout"), contentType: "text/html; charset=utf-8"
            )
            statusCode = nil
        case .malformed?:
            let text = String(decoding: response.body.readableBytesView, as: UTF8.self)
            response.body = ByteBuffer(string: String(text.prefix(max(1, text.count / 2))))
            statusCode = nil
        case .slow?:
            response.delay = slowDelay
        default:
            break
        }
        return finish(
            request, client: client, action: action, response, fault: fault, duplicate: duplicate, statusCode: statusCode, onFinish: release
        )
    }

    /// Authenticates and answers a SOAP call: (response, IRD status code, duplicate rule).
    private func process(_ request: SandboxRequest, read: SOAPReadResult, client: String) async -> (SandboxResponse, Int?, String?) {
        let contentType = request.headers.first(name: "Content-Type")?.lowercased() ?? ""
        guard contentType.hasPrefix("application/soap+xml") else {
            let text =
                "Cannot process the message because the content type '\(contentType)' was not the expected type 'application/soap+xml; charset=utf-8'."
            return (.text(.unsupportedMediaType, text, contentType: "text/plain"), nil, nil)
        }
        let call: ParsedCall
        switch read {
        case .notXML:
            return (
                .text(.badRequest, "The incoming message could not be parsed: it is not well-formed XML.", contentType: "text/plain"), nil,
                nil
            )
        case .notSOAP12(let reason):
            return (
                .text(.badRequest, SOAPResponseWriter.fault(code: "Sender", reason: reason), contentType: Self.soapContentType), nil, nil
            )
        case .unknownAction(let action):
            let reason =
                "The message with Action '\(action ?? "")' cannot be processed at the receiver, due to a ContractFilter mismatch at the EndpointDispatcher."
            return (
                .text(
                    .internalServerError, SOAPResponseWriter.fault(code: "Sender", subcode: "ActionNotSupported", reason: reason),
                    contentType: Self.soapContentType), nil, nil
            )
        case .call(let parsed):
            call = parsed
        }
        func answer(
            _ messages: [StatusMessage], gatewayId: String? = nil, submissionKey: Int64? = nil, statuses: [ReturnStatus] = [],
            returns: [FilingRegistry.StoredReturn] = []
        ) -> SandboxResponse {
            let xml = SOAPResponseWriter.result(
                call.operation, messages: messages, gatewayId: gatewayId, submissionKey: submissionKey, returnStatuses: statuses,
                returns: returns)
            return .text(.ok, xml, contentType: Self.soapContentType)
        }
        let success = StatusMessage(statusCode: 0, errorMessage: "")

        // Authentication comes before the payload is looked at (IRD validates the schema "late", after it).
        guard let authorization = request.headers.first(name: "Authorization"), !authorization.isEmpty else {
            return (answer([StatusMessage(statusCode: 2, errorMessage: "Missing authentication token(s)")]), 2, nil)
        }
        let check: BearerCheck
        if authorization.lowercased().hasPrefix("bearer ") {
            check = oauth.verify(accessToken: String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        } else if !acceptsM2MOnPaydayFiling {
            // Payday filing (EI and the Employment service) takes OAuth only (IRD's Identity and Access README: M2M
            // "No" for both): an Authorization header without an OAuth bearer token carries no OAuth token.
            return (answer([StatusMessage(statusCode: 2, errorMessage: "Missing authentication token(s)")]), 2, nil)
        } else if request.listener == .mutualTLS {
            check = await m2m.verify(authorization.trimmingCharacters(in: .whitespaces))
        } else {
            check = .invalid(reason: "M2M tokens are accepted on the mutual-TLS listener only")
        }
        let employers: Set<String>
        switch check {
        case .invalid(let reason):
            logger.debug("authentication failed", metadata: ["sandbox.client": "\(client)", "sandbox.reason": "\(reason)"])
            return (answer([StatusMessage(statusCode: 1, errorMessage: "Authentication failure")]), 1, nil)
        case .valid(_, _, let allowed):
            employers = allowed
        }
        // The logon behind the token may act only for the employers it was granted (IRD status 3).
        if !employers.isEmpty, let employer = call.content.employer, !employers.contains(employer) {
            return (
                answer([StatusMessage(statusCode: 3, errorMessage: "Unauthorised access")]), 3, nil
            )
        }

        switch call.content {
        case .refused(let messages):
            return (answer(messages), messages.first { $0.statusCode != 0 }?.statusCode ?? 0, nil)
        case .file(let file):
            switch filings.file(file, client: client, now: request.receivedAt) {
            case .stored(let key, let gatewayId, let duplicate):
                return (answer([success], gatewayId: gatewayId, submissionKey: key), 0, duplicate)
            case .refused(let code, let message, let duplicate):
                return (answer([StatusMessage(statusCode: code, errorMessage: message)]), code, duplicate)
            }
        case .status(let query):
            switch filings.status(query, now: request.receivedAt) {
            case .statuses(let statuses):
                return (answer([success], statuses: statuses), 0, nil)
            case .noReturnFound:
                return (answer([StatusMessage(statusCode: 103, errorMessage: "No return found")]), 103, nil)
            }
        case .retrieveReturn(let query):
            switch filings.retrieve(query) {
            case .returns(let returns):
                return (answer([success], returns: returns), 0, nil)
            case .expectedWithoutReturn:
                return (answer([success]), 0, nil)
            case .noReturnFound:
                return (answer([StatusMessage(statusCode: 103, errorMessage: "No return found")]), 103, nil)
            }
        case .employment(let employment):
            switch employments.apply(employment, client: client) {
            case .accepted:
                return (answer([success]), 0, nil)
            case .refused(let code, let message, let duplicate):
                return (answer([StatusMessage(statusCode: code, errorMessage: message)]), code, duplicate)
            }
        }
    }

    private func throttled(retryAfter: Duration) -> SandboxResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: Self.retryAfterSeconds(retryAfter))
        return .text(.tooManyRequests, SOAPResponseWriter.unauthorisedFault, contentType: Self.soapContentType, headers: headers)
    }

    // MARK: Helpers

    static let soapContentType = "application/soap+xml; charset=utf-8"

    /// Whole seconds, rounded up, at least 1.
    static func retryAfterSeconds(_ duration: Duration) -> String {
        String(max(1, Int(OAuthAuthority.seconds(duration).rounded(.up))))
    }

    /// Whether `address` (an IP address as NIO prints it) is a loopback address: 127.0.0.0/8, `::1`, or
    /// 127.0.0.0/8 mapped into IPv6. An unknown address is not.
    static func isLoopback(_ address: String?) -> Bool {
        guard let address = address?.lowercased() else { return false }
        if address == "::1" || address == "0:0:0:0:0:0:0:1" { return true }
        let v4 = address.hasPrefix("::ffff:") ? String(address.dropFirst("::ffff:".count)) : address
        let octets = v4.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets[0] == "127"
    }

    private func grant(_ request: SandboxRequest) -> SandboxResponse {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body.readableBytesView)) as? [String: Any],
            let clientID = object["client_id"] as? String
        else {
            return response(
                .error(400, "invalid_request", "the body must be JSON {\"client_id\": …, \"tenants\": […], \"employers\": [IRD numbers]?, \"expires_in\": seconds?}"))
        }
        let tenants = object["tenants"] as? [String] ?? []
        let employers = object["employers"] as? [String] ?? []
        let lifetime = (object["expires_in"] as? NSNumber).map { Duration.milliseconds(Int64($0.doubleValue * 1000)) }
        return response(oauth.grant(clientID: clientID, tenants: tenants, employers: employers, accessTokenLifetime: lifetime))
    }

    private func response(_ reply: OAuthReply) -> SandboxResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Cache-Control", value: "no-store")
        if let location = reply.location {
            headers.add(name: "Location", value: location)
            return SandboxResponse(status: .init(statusCode: reply.status), headers: headers)
        }
        if reply.json.isEmpty { return SandboxResponse(status: .init(statusCode: reply.status), headers: headers) }
        if reply.status == 401 { headers.add(name: "WWW-Authenticate", value: "Basic realm=\"tuku-sandbox\"") }
        return .text(.init(statusCode: reply.status), reply.json, contentType: "application/json;charset=UTF-8", headers: headers)
    }

    /// Who sent the request: the certificate subject on mutual TLS, else the OAuth client of its bearer token.
    private func client(of request: SandboxRequest) -> String {
        if let subject = request.peerSubject { return subject }
        if let authorization = request.headers.first(name: "Authorization"), authorization.lowercased().hasPrefix("bearer "),
            let clientID = oauth.clientID(forAccessToken: String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        {
            return "oauth:\(clientID)"
        }
        return "anonymous@\(request.remoteAddress ?? "unknown")"
    }

    /// Records the arrival (log and counters) and returns the response.
    func finish(
        _ request: SandboxRequest, client: String, action: String, _ response: SandboxResponse,
        fault: (any CustomStringConvertible)? = nil, duplicate: String? = nil, statusCode: Int? = nil,
        onFinish: @escaping @Sendable () -> Void = {}
    ) -> SandboxResponse {
        var response = response
        response.onFinish = onFinish
        let arrival = Arrival(
            at: request.receivedAt, client: client, action: action,
            status: response.resetsConnection ? 0 : Int(response.status.code), listener: request.listener.rawValue,
            fault: fault.map { "\($0)" }, duplicate: duplicate, statusCode: statusCode)
        statistics.withLock { $0.record(arrival) }
        arrivals?.append(arrival)
        return response
    }
}
