import Foundation
import Logging
import TukuCore

/// The handlers a worker knows, looked up by kind.
public struct HandlerRegistry: Sendable {
    /// A handler with its payload type erased: decodes, runs, and classifies.
    struct Entry: Sendable {
        var retryPolicy: RetryPolicy
        var run: @Sendable (ClaimedJob, JobContext) async -> JobOutcome
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// The kinds registered.
    public var kinds: [String] { self.entries.keys.sorted() }

    /// Adds a handler; a second handler for the same kind replaces the first.
    public mutating func register<Handler: JobHandler>(_ handler: Handler) {
        self.entries[handler.kind] = Entry(retryPolicy: handler.retryPolicy) { job, context in
            let payload: Handler.Payload
            do {
                payload = try JSONDecoder().decode(Handler.Payload.self, from: Data(job.payload.utf8))
            } catch {
                if let tooDeep = JSONNesting.tooDeep(JSONNesting.depth(of: job.payload.utf8), what: "the payload") {
                    return .rejected(.undecodablePayload(kind: job.kind, [.init(path: "payload", reason: tooDeep)]))
                }
                return .rejected(.undecodablePayload(kind: job.kind, Self.problems(in: error)))
            }
            do {
                return try await handler.run(payload, job: job, context: context)
            } catch let error as JobError {
                return .retry(after: nil, error: error)
            } catch {
                return .retry(after: nil, error: .unexpected(error))
            }
        }
    }

    /// Adds a handler that reads the payload itself (for kinds whose payload types report every problem
    /// rather than the first decoding error).
    public mutating func register(
        kind: String, retryPolicy: RetryPolicy, run: @escaping @Sendable (ClaimedJob, JobContext) async -> JobOutcome
    ) {
        self.entries[kind] = Entry(retryPolicy: retryPolicy, run: run)
    }

    /// Runs one job: the handler's outcome, or `rejected` when no handler knows the kind.
    func run(_ job: ClaimedJob, context: JobContext) async -> (JobOutcome, RetryPolicy) {
        guard let entry = self.entries[job.kind] else {
            return (.rejected(.unknownKind(job.kind)), RetryPolicy())
        }
        return (await entry.run(job, context), entry.retryPolicy)
    }

    /// Turns a `DecodingError` into field-level problems an upstream developer can act on.
    static func problems(in error: any Error) -> [JobError.Problem] {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "payload" : text
        }
        guard let decoding = error as? DecodingError else {
            return [.init(path: "payload", reason: String(describing: error))]
        }
        switch decoding {
        case .keyNotFound(let key, let context):
            return [.init(path: path(context.codingPath + [key]), reason: "is required")]
        case .typeMismatch(let type, let context):
            return [.init(path: path(context.codingPath), reason: "must be \(Self.describe(type))")]
        case .valueNotFound(let type, let context):
            return [.init(path: path(context.codingPath), reason: "must be \(Self.describe(type)), not null")]
        case .dataCorrupted(let context):
            return [.init(path: path(context.codingPath), reason: context.debugDescription)]
        @unknown default:
            return [.init(path: "payload", reason: String(describing: decoding))]
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Decimal.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a \(type)"
        }
    }
}
