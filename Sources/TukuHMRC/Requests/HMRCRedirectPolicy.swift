import Foundation
import NIOHTTP1

/// Decides whether and how to follow one redirect of a call to HMRC (RFC 9110 §15.4), and describes each hop for
/// the exchange record.
///
/// - 307 and 308 keep the method and the body (§15.4.8, §15.4.9).
/// - 301 and 302 also keep them. RFC 9110 lets a user agent change POST to GET "for historical reasons" (§15.4.2,
///   §15.4.3) but does not require it, and a VAT return turned into a body-less GET would be lost: a redirect is not
///   a filing, so the POST must reach the new location intact.
/// - 303 means "see other": the server says it handled the request and points at a description of the result. For
///   GET (or HEAD) it is followed as a GET; after a POST it is refused, because the return may have been filed and
///   only a lookup of the period can tell: the caller treats it as an ambiguous outcome.
/// - `Location` is resolved against the URL of the request it answers (§10.2.2), so relative references work.
/// - A redirect to another scheme, host or port is refused unless that host is allowed: the bearer token and the
///   fraud prevention headers must not follow a redirect anywhere else, and never over plain HTTP.
/// - At most ``Configuration/maximumHops`` redirects per call.
public struct HMRCRedirectPolicy: Sendable {
    /// Limits.
    public struct Configuration: Sendable, Hashable {
        /// Redirects followed per call at most. Defaults to 5.
        public var maximumHops: Int
        /// Hosts (lower case) other than the request's own that a redirect may lead to, over `https` only.
        /// Defaults to none.
        public var allowedHosts: Set<String>

        /// Creates a configuration.
        public init(maximumHops: Int = 5, allowedHosts: Set<String> = []) {
            self.maximumHops = maximumHops
            self.allowedHosts = allowedHosts
        }
    }

    /// One followed redirect, for the exchange record.
    public struct Hop: Sendable, Equatable, CustomStringConvertible {
        /// The redirect status (301, 302, 303, 307, 308).
        public var status: Int
        /// The URL that answered with the redirect.
        public var from: URL
        /// The resolved `Location`.
        public var to: URL
        /// The method of the next request.
        public var method: HTTPMethod
        /// Whether the next request carries the body again.
        public var keepsBody: Bool

        /// `308 POST https://…/v0/… → https://…/…`.
        public var description: String { "\(status) \(method.rawValue) \(from.absoluteString) → \(to.absoluteString)" }
    }

    /// What to do with a redirect answer.
    public enum Decision: Sendable, Equatable {
        /// Send the next request as the hop says.
        case follow(Hop)
        /// Do not follow. `mayHaveActed` is `true` when the server says it handled the request (303 after a POST), so
        /// the call's outcome is unknown rather than refused.
        case refuse(reason: String, mayHaveActed: Bool)
    }

    /// The limits.
    public var configuration: Configuration

    /// Creates a policy.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Whether `status` is a redirect this policy reads.
    public static func isRedirect(_ status: Int) -> Bool { [301, 302, 303, 307, 308].contains(status) }

    /// The decision for a redirect `status` with `location`, answering `method` to `url` after `hopsSoFar` redirects.
    /// `nil` when `status` is not a redirect.
    public func decide(status: Int, location: String?, method: HTTPMethod, url: URL, hopsSoFar: Int) -> Decision? {
        guard Self.isRedirect(status) else { return nil }
        guard hopsSoFar < configuration.maximumHops else {
            return .refuse(reason: "more than \(configuration.maximumHops) redirects", mayHaveActed: false)
        }
        guard let location, !location.isEmpty,
            let target = URL(string: location.trimmingCharacters(in: .whitespaces), relativeTo: url)?.absoluteURL,
            let scheme = target.scheme?.lowercased(), let host = target.host?.lowercased()
        else {
            return .refuse(reason: "HTTP \(status) without a usable Location", mayHaveActed: false)
        }
        let sameOrigin =
            scheme == url.scheme?.lowercased() && host == url.host?.lowercased() && Self.port(of: target) == Self.port(of: url)
        if !sameOrigin {
            guard scheme == "https", configuration.allowedHosts.contains(host) else {
                return .refuse(reason: "HTTP \(status) to \(scheme)://\(host), another origin that is not allowed", mayHaveActed: false)
            }
        }
        let nextMethod: HTTPMethod
        let keepsBody: Bool
        switch status {
        case 303:
            guard method == .GET || method == .HEAD else {
                return .refuse(reason: "HTTP 303 after \(method.rawValue): the server may have acted on the request", mayHaveActed: true)
            }
            nextMethod = method
            keepsBody = false
        default:
            nextMethod = method
            keepsBody = method != .GET && method != .HEAD
        }
        return .follow(Hop(status: status, from: url, to: target, method: nextMethod, keepsBody: keepsBody))
    }

    private static func port(of url: URL) -> Int? {
        url.port ?? (url.scheme?.lowercased() == "https" ? 443 : url.scheme?.lowercased() == "http" ? 80 : nil)
    }
}
