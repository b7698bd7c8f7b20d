import Foundation
import TukuCore
import TukuGateway
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

    public var kind: String
    public var description: String
    /// The gateway operation (`File`, `RetrieveStatus`, `Create`, `Update`, `Terminate`); absent for local kinds.
    public var operation: String?
    /// The `wsa:Action` the operation is sent with; must match IRD's WSDL.
    public var soapAction: String?
    /// `returns` or `employment`.
    public var service: String?
    /// `cloud` (mutual TLS, port 4046) or `desktop` (one-way TLS, port 443).
    public var endpointProfile: String?
    /// `oauth-bearer` or `m2m-jwt`.
    public var auth: String?
    /// The fleet-wide pacing key the kind's calls count against.
    public var rateLimitKey: String?
    public var timeoutSeconds: Double
    public var maxAttempts: Int
    public var retry: Retry
    /// The kind used to settle an ambiguous outcome before sending again (only `ird.ei.file`).
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
        case "File": .fileReturn
        case "RetrieveStatus": .retrieveReturnStatus
        case "Create": .createEmployment
        case "Update": .updateEmployment
        case "Terminate": .terminateEmployment
        default: nil
        }
    }

    /// The gateway service path, for gateway kinds.
    public var gatewayService: GatewayEndpoint.Service? {
        switch self.service {
        case "returns": .returns
        case "employment": .employment
        default: nil
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
                    "kind", "description", "operation", "soapAction", "service", "endpointProfile", "auth", "rateLimitKey",
                    "timeoutSeconds", "maxAttempts", "retry", "reconcileWith",
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
        for (kind, definition) in definitions {
            if let other = definition.reconcileWith, definitions[other] == nil {
                problems.append(.init(path: "jobs/\(kind)/kind.json", reason: "reconcileWith names unknown kind '\(other)'"))
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
        if !(1...1000).contains(self.maxAttempts) { problems.append("maxAttempts must be from 1 to 1000") }
        if !(self.retry.baseSeconds > 0 && self.retry.capSeconds >= self.retry.baseSeconds && (0..<1).contains(self.retry.jitter)) {
            problems.append("retry needs 0 < baseSeconds ≤ capSeconds and 0 ≤ jitter < 1")
        }
        guard self.kind.hasPrefix("ird.") else { return problems }
        // Gateway kinds.
        if IRDJobKind(rawValue: self.kind) == nil { problems.append("'\(self.kind)' is not a known IRD kind") }
        guard let operation = self.gatewayOperation else {
            problems.append("operation must be File, RetrieveStatus, Create, Update or Terminate")
            return problems
        }
        if self.soapAction != operation.action {
            problems.append("soapAction must be IRD's action for \(operation.name): \(operation.action)")
        }
        let expectedService = operation.serviceNamespace == IRDNamespace.returnsService ? "returns" : "employment"
        if self.service != expectedService { problems.append("service must be '\(expectedService)' for \(operation.name)") }
        if !["cloud", "desktop"].contains(self.endpointProfile ?? "") { problems.append("endpointProfile must be cloud or desktop") }
        if !["oauth-bearer", "m2m-jwt"].contains(self.auth ?? "") { problems.append("auth must be oauth-bearer or m2m-jwt") }
        if self.auth == "m2m-jwt" { problems.append("IRD accepts only OAuth bearer tokens for payday filing services") }
        if (self.rateLimitKey ?? "").isEmpty { problems.append("rateLimitKey is required for gateway kinds") }
        return problems
    }
}
