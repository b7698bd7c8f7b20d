/// A JSON value decoded strictly by type (`true` is never a number, `1` never a boolean), for HMRC's validation.
enum HMRCJSONValue: Decodable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([HMRCJSONValue])
    case object([String: HMRCJSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([HMRCJSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: HMRCJSONValue].self))
        }
    }
}
