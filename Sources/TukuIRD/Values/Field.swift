import Foundation

/// A value type that a payload field holds, parsed from the field's JSON text.
public protocol FieldValue: Sendable, Hashable {
    /// Parses the field's text. Throws ``PayloadError`` whose `reason` says why the text is not acceptable.
    init(fieldText: String) throws(PayloadError)
    /// The canonical text, used when the field is encoded back to JSON.
    var fieldText: String { get }
    /// Whether a JSON number is accepted as well as a string (its exact decimal text is parsed).
    static var acceptsJSONNumbers: Bool { get }
}

extension FieldValue {
    /// By default only JSON strings are accepted.
    public static var acceptsJSONNumbers: Bool { false }
}

/// One field of a job payload as submitted: absent, a valid value, or text that failed to parse.
///
/// Decoding a payload never fails because one field's content is wrong; the problem is kept here and reported,
/// with every other problem, by the payload's `validate()`. Absent keys and JSON `null` decode as ``missing``.
public enum Field<Value: FieldValue>: Sendable, Hashable {
    /// The key was absent or `null`.
    case missing
    /// The text parsed.
    case valid(Value)
    /// The text (or a short stand-in for a non-string JSON value) and why it was rejected.
    case invalid(text: String, reason: String)

    /// Wraps an optional value: `nil` becomes ``missing``.
    public init(_ value: Value?) {
        self = value.map(Field.valid) ?? .missing
    }

    /// The value when valid, else `nil`.
    public var value: Value? {
        if case .valid(let value) = self { return value }
        return nil
    }

    /// Whether the field was absent or `null`.
    public var isMissing: Bool {
        if case .missing = self { return true }
        return false
    }
}

extension Field: Codable {
    /// Decodes from a JSON string (or number, when `Value.acceptsJSONNumbers`); any other JSON becomes ``invalid``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .missing
            return
        }
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else if let number = try? container.decode(Decimal.self) {
            text = Money.plainText(of: number)
            guard Value.acceptsJSONNumbers else {
                self = .invalid(text: text, reason: "must be a JSON string")
                return
            }
        } else if let flag = try? container.decode(Bool.self) {
            self = .invalid(text: String(flag), reason: "must be a JSON string")
            return
        } else {
            self = .invalid(text: "(object or array)", reason: "must be a JSON string")
            return
        }
        do {
            self = .valid(try Value(fieldText: text))
        } catch {
            self = .invalid(text: text, reason: error.reason)
        }
    }

    /// Encodes the canonical text of a valid value, or the original text of an invalid one.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .missing: try container.encodeNil()
        case .valid(let value): try container.encode(value.fieldText)
        case .invalid(let text, _): try container.encode(text)
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes a ``Field``, treating an absent key as ``Field/missing`` instead of throwing.
    ///
    /// Synthesised `Decodable` conformances pick this overload for `Field` properties, so a payload with a missing
    /// required field still decodes and validation can report it alongside every other problem.
    public func decode<Value>(_ type: Field<Value>.Type, forKey key: Key) throws -> Field<Value> {
        try decodeIfPresent(type, forKey: key) ?? .missing
    }
}

extension KeyedEncodingContainer {
    /// Encodes a ``Field``, omitting the key when the field is ``Field/missing``.
    public mutating func encode<Value>(_ field: Field<Value>, forKey key: Key) throws {
        switch field {
        case .missing: return
        case .valid(let value): try encode(value.fieldText, forKey: key)
        case .invalid(let text, _): try encode(text, forKey: key)
        }
    }
}
