import Foundation

/// One field of a payload read without throwing, so that decoding can report every problem with its path: the value,
/// or the reason it could not be read. A missing (or `null`) field decodes through `decodeIfPresent` as `nil`.
enum LooseField<Value: Decodable & Sendable & Hashable>: Decodable, Sendable, Hashable {
    case value(Value)
    case invalid(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Value.self) {
            self = .value(value)
        } else {
            self = .invalid("has the wrong JSON type (expected \(LooseField.typeName))")
        }
    }

    private static var typeName: String {
        switch Value.self {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "an integer"
        default: "\(Value.self)"
        }
    }
}

/// A money field read exactly from a JSON string or number (see ``HMRCMoney``); `true`/`false` are not numbers.
struct LooseMoney: Decodable, Sendable, Hashable {
    var result: Result<HMRCMoney, HMRCValueError>

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if (try? container.decode(Bool.self)) != nil {
            result = .failure(HMRCValueError("must be a number, not true or false"))
        } else if let text = try? container.decode(String.self) {
            result = HMRCMoney.parse(text)
        } else if let decimal = try? container.decode(Decimal.self) {
            result = HMRCMoney.exactly(decimal)
        } else {
            result = .failure(HMRCValueError("must be a number (or a decimal string) with at most 2 decimal places"))
        }
    }
}

/// Collects problems with their JSON paths; each check records its problem and carries on.
struct HMRCProblems {
    private(set) var list: [HMRCPayloadProblem] = []

    mutating func add(_ path: String, _ reason: String) {
        list.append(HMRCPayloadProblem(path: path, reason: reason))
    }

    /// A required field's value, or `nil` after recording that it is missing or unreadable.
    mutating func required<Value>(_ field: LooseField<Value>?, _ path: String) -> Value? {
        switch field {
        case nil:
            add(path, "is required")
            return nil
        case .invalid(let reason)?:
            add(path, reason)
            return nil
        case .value(let value)?:
            return value
        }
    }

    /// An optional field's value, or `nil` (recording a problem only when it is present and unreadable).
    mutating func optional<Value>(_ field: LooseField<Value>?, _ path: String) -> Value? {
        if case .invalid(let reason)? = field { add(path, reason) }
        if case .value(let value)? = field { return value }
        return nil
    }

    /// Keys of `object` not in `known`, each reported as a problem under `prefix`.
    mutating func unknownKeys(_ object: [String: Any], known: Set<String>, prefix: String) {
        for key in object.keys.sorted() where !known.contains(key) && !(object[key] is NSNull) {
            add(Self.join(prefix, key), "is not a field of this payload")
        }
    }

    static func join(_ prefix: String, _ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
}

/// One problem with one field of an HMRC payload.
public struct HMRCPayloadProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where, e.g. `vatDueSales` or `fraudPrevention.screens[0].width`.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    /// Creates a problem.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: reason`.
    public var description: String { "\(path): \(reason)" }
}
