/// One problem found while validating a job payload.
///
/// Validation never stops at the first problem: every check runs and each failure becomes one
/// `ValidationProblem`, so an upstream payroll system can fix a payload in one round trip.
public struct ValidationProblem: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Where the problem is, in the payload's JSON, e.g. `lines[3].irdNumber`. Empty for the payload as a whole.
    public var path: String
    /// Why the value is not acceptable, in words safe to show to anyone.
    public var reason: String

    /// Creates a problem at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `path: reason`.
    public var description: String {
        path.isEmpty ? reason : "\(path): \(reason)"
    }
}
