/// An answer from the OAuth routes: an HTTP status, a JSON body and, for the authorize route, a redirect.
public struct OAuthReply: Sendable, Hashable {
    /// The HTTP status.
    public var status: Int
    /// The JSON body (empty for redirects).
    public var json: String
    /// The `Location` of a redirect.
    public var location: String?

    /// A JSON answer.
    public static func json(_ status: Int, _ json: String) -> OAuthReply {
        OAuthReply(status: status, json: json, location: nil)
    }

    /// An OAuth error answer `{"error": …, "error_description": …}`.
    public static func error(_ status: Int, _ error: String, _ description: String) -> OAuthReply {
        .json(status, "{\"error\":\(Arrival.quoted(error)),\"error_description\":\(Arrival.quoted(description))}")
    }

    /// A `302 Found` redirect.
    public static func redirect(_ location: String) -> OAuthReply {
        OAuthReply(status: 302, json: "", location: location)
    }
}
