import Foundation
import TukuCore
import TukuGateway
import TukuHMRC
import TukuIRD

/// A job kind's definition, from `jobs/<kind>/kind.json` (embedded into the binary at build time).
///
/// The worker loads every definition at start-up and refuses to start if any is invalid.
public struct KindDefinition: Sendable, Hashable, Decodable {
    /// Backoff between failed attempts.
    public struct Retry: Sendable, Hashable, Decodable {
        public var baseSeconds: Double
        public var capSeconds: Double
        public var jitter: Double
    }

    /// The gateway operation a kind performs, as `operation` names it.
    public enum Operation: String, Sendable, Hashable, Decodable {
        case file = "File"
        case retrieveStatus = "RetrieveStatus"
        case create = "Create"
        case update = "Update"
        case terminate = "Terminate"
    }

    /// The gateway service a kind's calls go to, as `service` names it.
    public enum Service: String, Sendable, Hashable, Decodable {
        case returns
        case employment
    }

    public var kind: String
    public var description: String
    /// The tax authority whose gateway the kind calls: its handler, its token sets and its transport. Absent for
    /// local kinds.
    public var gateway: TaxGateway?
    /// The gateway operation; absent for local kinds.
    public var operation: Operation?
    /// The `wsa:Action` the operation is sent with; must match IRD's WSDL.
    public var soapAction: String?
    /// The service path the operation is sent to.
    public var service: Service?
    /// The fleet-wide pacing key the kind's calls count against.
    public var rateLimitKey: String?
    public var timeoutSeconds: Double
    public var retry: Retry
    /// The kind whose status query settles an ambiguous outcome before anything is sent again: the File handler
    /// reconciles through it, with its operation, timeout and rate-limit key (only `ird.ei.file`, through
    /// `ird.ei.status`). HMRC kinds have none: `hmrc.vat.return` looks its period up itself.
    public var reconcileWith: String?

    /// The kind's backoff.
    public var retryPolicy: RetryPolicy {
        RetryPolicy(
            base: .milliseconds(Int64(self.retry.baseSeconds * 1000)), cap: .milliseconds(Int64(self.retry.capSeconds * 1000)),
            jitter: self.retry.jitter)
    }

    /// The per-call timeout.
    public var timeout: Duration { .milliseconds(Int64(self.timeoutSeconds * 1000)) }

    /// The gateway operation, for gateway kinds.
    public var gatewayOperation: GatewayOperation? {
        switch self.operation {
        case .file: .fileReturn
        case .retrieveStatus: .retrieveReturnStatus
        case .create: .createEmployment
        case .update: .updateEmployment
        case .terminate: .terminateEmployment
        case nil: nil
        }
    }

    /// The gateway service path, for gateway kinds.
    public var gatewayService: GatewayEndpoint.Service? {
        switch self.service {
        case .returns: .returns
        case .employment: .employment
        case nil: nil
        }
    }

    /// Every definition in `jobs/`, checked.
    public static func bundled() throws -> [String: KindDefinition] {
        try Self.load(files: EmbeddedJobKinds.files)
    }

    /// Decodes and checks every `<folder>/kind.json` among `files`; the error lists every problem found.
    public static func load(files: [(path: String, contents: String)]) throws -> [String: KindDefinition] {
        var definitions: [String: KindDefinition] = [:]
        var problems: [JobError.Problem] = []
        let decoder = JSONDecoder()
        for file in files where file.path.hasSuffix("/kind.json") {
            let folder = String(file.path.dropLast("/kind.json".count))
            do {
                let keys = try decoder.decode([String: JSONValue].self, from: Data(file.contents.utf8)).keys
                let known: Set<String> = [
                    "kind", "description", "gateway", "operation", "soapAction", "service", "rateLimitKey", "timeoutSeconds", "retry",
                    "reconcileWith",
                ]
                for key in keys.sorted() where !known.contains(key) {
                    problems.append(.init(path: "jobs/\(file.path)", reason: "unknown key '\(key)'"))
                }
                let definition = try decoder.decode(KindDefinition.self, from: Data(file.contents.utf8))
                problems += definition.problems(folder: folder).map { .init(path: "jobs/\(file.path)", reason: $0) }
                definitions[definition.kind] = definition
            } catch {
                problems.append(.init(path: "jobs/\(file.path)", reason: "is not a valid kind definition: \(error)"))
            }
        }
        for (kind, definition) in definitions.sorted(by: { $0.key < $1.key }) {
            guard let other = definition.reconcileWith else { continue }
            guard let status = definitions[other] else {
                problems.append(.init(path: "jobs/\(kind)/kind.json", reason: "reconcileWith names unknown kind '\(other)'"))
                continue
            }
            if status.gateway != definition.gateway || status.operation != .retrieveStatus {
                problems.append(
                    .init(path: "jobs/\(kind)/kind.json", reason: "reconcileWith must name a RetrieveStatus kind of the same gateway"))
            }
        }
        guard problems.isEmpty else {
            throw JobError(code: "kind_definitions_invalid", message: "the job kind definitions in jobs/ are invalid", problems: problems)
        }
        return definitions
    }

    func problems(folder: String) -> [String] {
        var problems: [String] = []
        if self.kind != folder { problems.append("kind '\(self.kind)' does not match its folder '\(folder)'") }
        if !(1...600).contains(self.timeoutSeconds) { problems.append("timeoutSeconds must be from 1 to 600") }
        if !(self.retry.baseSeconds > 0 && self.retry.capSeconds >= self.retry.baseSeconds && (0..<1).contains(self.retry.jitter)) {
            problems.append("retry needs 0 < baseSeconds ≤ capSeconds and 0 ≤ jitter < 1")
        }
        if self.kind.hasPrefix("ird."), self.gateway != .ird { problems.append("gateway must be ird for an ird.* kind") }
        if self.kind.hasPrefix("hmrc."), self.gateway != .hmrc { problems.append("gateway must be hmrc for an hmrc.* kind") }
        guard let gateway = self.gateway else {
            let gatewayKeys: [Any?] = [self.operation, self.service, self.soapAction, self.rateLimitKey, self.reconcileWith]
            if gatewayKeys.contains(where: { $0 != nil }) {
                problems.append("operation, soapAction, service, rateLimitKey and reconcileWith are for gateway kinds: name the gateway")
            }
            return problems
        }
        if (self.rateLimitKey ?? "").isEmpty { problems.append("rateLimitKey is required for gateway kinds") }
        // Each gateway checks its own kinds.
        if gateway == .hmrc {
            // HMRC kinds: REST calls whose method and path the kind implies (HMRCVATHandler); IRD's SOAP keys do not
            // apply, and the handler settles an ambiguous return by looking the period up, without a status kind.
            if ![VATReturnPayload.kind, VATObligationsPayload.kind].contains(self.kind) {
                problems.append("'\(self.kind)' is not a known HMRC kind")
            }
            let soapKeys: [Any?] = [self.operation, self.service, self.soapAction, self.reconcileWith]
            if soapKeys.contains(where: { $0 != nil }) {
                problems.append("operation, soapAction, service and reconcileWith are IRD's keys; an HMRC kind has none")
            }
        }
        guard gateway == .ird else { return problems }
        // IRD kinds.
        if IRDJobKind(rawValue: self.kind) == nil { problems.append("'\(self.kind)' is not a known IRD kind") }
        guard let operation = self.gatewayOperation else {
            problems.append("operation must be File, RetrieveStatus, Create, Update or Terminate")
            return problems
        }
        if self.soapAction != operation.action {
            problems.append("soapAction must be IRD's action for \(operation.name): \(operation.action)")
        }
        let expectedService: Service = operation.serviceNamespace == IRDNamespace.returnsService ? .returns : .employment
        if self.service != expectedService { problems.append("service must be '\(expectedService.rawValue)' for \(operation.name)") }
        if (self.operation == .file) != (self.reconcileWith != nil) {
            problems.append("a File kind names its status kind in reconcileWith, and only a File kind does")
        }
        return problems
    }
}
