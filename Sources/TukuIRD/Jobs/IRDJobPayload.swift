import Foundation
import TukuCore

/// A decoded payload of one of the ``IRDJobKind``s.
public enum IRDJobPayload: Sendable, Hashable {
    /// `ird.ei.file`.
    case eiFile(EIFilePayload)
    /// `ird.ei.status`.
    case eiStatus(EIStatusPayload)
    /// `ird.ed.create`.
    case edCreate(EDCreatePayload)
    /// `ird.ed.update`.
    case edUpdate(EDUpdatePayload)
    /// `ird.ed.terminate`.
    case edTerminate(EDTerminatePayload)

    /// The payload's job kind.
    public var kind: IRDJobKind {
        switch self {
        case .eiFile: .eiFile
        case .eiStatus: .eiStatus
        case .edCreate: .edCreate
        case .edUpdate: .edUpdate
        case .edTerminate: .edTerminate
        }
    }

    /// The wrapped payload as JSON, in the shape ``decode(_:from:)`` reads.
    public func encoded(with encoder: JSONEncoder = JSONEncoder()) throws -> Data {
        switch self {
        case .eiFile(let payload): try encoder.encode(payload)
        case .eiStatus(let payload): try encoder.encode(payload)
        case .edCreate(let payload): try encoder.encode(payload)
        case .edUpdate(let payload): try encoder.encode(payload)
        case .edTerminate(let payload): try encoder.encode(payload)
        }
    }

    /// Every validation problem of the wrapped payload.
    public func validate() -> [ValidationProblem] {
        switch self {
        case .eiFile(let payload): payload.validate()
        case .eiStatus(let payload): payload.validate()
        case .edCreate(let payload): payload.validate()
        case .edUpdate(let payload): payload.validate()
        case .edTerminate(let payload): payload.validate()
        }
    }

    /// Decodes `json` as the payload of `kind`, without validating it.
    ///
    /// Throws ``PayloadError`` `.invalidJSON` when the JSON is malformed or has the wrong shape (a problem with
    /// the path where decoding stopped); field contents never make decoding fail (see ``Field``).
    public static func decode(_ kind: IRDJobKind, from json: Data) throws(PayloadError) -> IRDJobPayload {
        let decoder = JSONDecoder()
        do {
            switch kind {
            case .eiFile: return .eiFile(try decoder.decode(EIFilePayload.self, from: json))
            case .eiStatus: return .eiStatus(try decoder.decode(EIStatusPayload.self, from: json))
            case .edCreate: return .edCreate(try decoder.decode(EDCreatePayload.self, from: json))
            case .edUpdate: return .edUpdate(try decoder.decode(EDUpdatePayload.self, from: json))
            case .edTerminate: return .edTerminate(try decoder.decode(EDTerminatePayload.self, from: json))
            }
        } catch let error as DecodingError {
            if let tooDeep = JSONNesting.tooDeep(JSONNesting.depth(of: json), what: "the payload") {
                throw PayloadError(code: .invalidJSON, reason: tooDeep)
            }
            throw PayloadError(
                code: .invalidJSON, reason: "payload is not valid JSON of the expected shape",
                problems: [Self.problem(from: error)])
        } catch {
            throw PayloadError(code: .invalidJSON, reason: "payload could not be decoded")
        }
    }

    /// Decodes and validates: the payload when it has no problems, else ``PayloadError`` `.validationFailed` with
    /// every problem, including every key the payload model does not know (a misspelt optional key would
    /// otherwise be dropped without a word). An unknown `kind` string throws `.unknownJobKind`.
    public static func decodeValidated(kind: String, from json: Data) throws(PayloadError) -> IRDJobPayload {
        guard let knownKind = IRDJobKind(rawValue: kind) else {
            throw PayloadError(code: .unknownJobKind, reason: "'\(kind)' is not an IRD job kind")
        }
        let payload = try decode(knownKind, from: json)
        let problems = payload.validate() + UnknownKeys.problems(in: json, decodedAs: payload)
        guard problems.isEmpty else {
            throw PayloadError(
                code: .validationFailed, reason: "payload has \(problems.count) problem(s)",
                problems: problems)
        }
        return payload
    }

    private static func problem(from error: DecodingError) -> ValidationProblem {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text = join(text, key.stringValue)
                }
            }
            return text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return ValidationProblem(path: path(context.codingPath), reason: "has the wrong JSON type (expected \(type))")
        case .valueNotFound(_, let context):
            return ValidationProblem(path: path(context.codingPath), reason: "is required")
        case .keyNotFound(let key, let context):
            return ValidationProblem(path: path(context.codingPath + [key]), reason: "is required")
        case .dataCorrupted(let context):
            return ValidationProblem(path: path(context.codingPath), reason: "is not valid JSON")
        @unknown default:
            return ValidationProblem(path: "", reason: "could not be decoded")
        }
    }
}
