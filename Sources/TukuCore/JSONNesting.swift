/// How deeply JSON text nests objects and arrays, against the depth Foundation's JSON decoder reads.
///
/// PostgreSQL's `jsonb` stores far deeper documents than Foundation's `JSONDecoder` and `JSONSerialization` read:
/// past ``limit`` levels they fail with "The given data was not valid JSON". A payload refused for its depth is
/// reported with its depth and the limit, not as invalid JSON.
public enum JSONNesting {
    /// The deepest nesting of objects and arrays Foundation's JSON decoder reads (`{"a":[[]]}` is 3 levels deep);
    /// measured: 512 levels decode, 513 fail.
    public static let limit = 512

    /// The deepest nesting of objects and arrays in `text` (0 for a scalar), counting brackets outside strings. The
    /// text need not be valid JSON.
    public static func depth(of text: some Sequence<UInt8>) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in text {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// A sentence for JSON `depth` levels deep that the decoder refused, or `nil` when the depth is within the limit
    /// (and the failure has another cause).
    public static func tooDeep(_ depth: Int, what: String) -> String? {
        guard depth > Self.limit else { return nil }
        return "\(what) nests objects and arrays \(depth) levels deep; Tuku reads JSON at most \(Self.limit) levels deep"
    }
}
