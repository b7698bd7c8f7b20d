import Synchronization
import TukuIRD

/// The employment relationships the sandbox has been told about, in memory, with the Employment service v2 rules
/// that need stored state (ED build pack §5.2):
///
/// - **Create** of an employee who already has a current relationship with the employer (no finish date, or one
///   on or after the new start) is refused with code 106, "A relationship between this account and employee IRD already exists". This is what
///   a Create sent again after an ambiguous answer meets.
/// - **Terminate** records the finish date; one before the relationship's start is refused with code 107. Sending
///   the same Terminate again is accepted (it states the same fact).
/// - **Update** replaces what IRD holds of the relationship's details, which the sandbox does not keep.
///
/// IRD knows employments the sandbox never saw (created before it started, or by another provider), so an Update
/// or Terminate of an employee the sandbox does not know is accepted and remembered, not refused with code 101.
public final class EmploymentRegistry: Sendable {
    /// One relationship.
    public struct Relationship: Sendable, Hashable {
        public var startDate: CalendarDate?
        public var finishDate: CalendarDate?
        /// The client whose call created (or first mentioned) it.
        public var client: String
    }

    /// What the registry made of a request.
    public enum Decision: Sendable, Hashable {
        /// Accepted and recorded.
        case accepted
        /// Refused with an IRD status code; `duplicate` names the rule when it is a duplicate Create.
        case refused(code: Int, message: String, duplicate: String?)
    }

    private struct Key: Hashable {
        var employer: String
        var employee: EmploymentRequest.Employee
    }

    private let relationships = Mutex<[Key: [Relationship]]>([:])

    /// Creates an empty registry.
    public init() {}

    /// How many relationships it holds: created, or remembered from an Update or Terminate.
    public var count: Int {
        relationships.withLock { $0.values.reduce(0) { $0 + $1.count } }
    }

    /// The relationships recorded for an employee of an employer, oldest first.
    public func relationships(employer: String, employee: EmploymentRequest.Employee) -> [Relationship] {
        relationships.withLock { $0[Key(employer: employer, employee: employee)] ?? [] }
    }

    /// Applies `request` from `client`.
    public func apply(_ request: EmploymentRequest, client: String) -> Decision {
        let key = Key(employer: request.employer, employee: request.employee)
        return relationships.withLock { all -> Decision in
            var list = all[key] ?? []
            defer { all[key] = list.isEmpty ? nil : list }
            switch request.operation {
            case .create:
                if list.contains(where: { Self.isCurrent($0, at: request.startDate) }) {
                    return .refused(
                        code: 106, message: "A relationship between this account and employee IRD already exists",
                        duplicate: "employment-exists")
                }
                list.append(Relationship(startDate: request.startDate, finishDate: request.finishDate, client: client))
                return .accepted
            case .update:
                if Self.latest(in: list, startingOn: request.startDate) == nil {
                    list.append(Relationship(startDate: request.startDate, finishDate: nil, client: client))
                }
                return .accepted
            case .terminate:
                let index =
                    Self.latest(in: list, startingOn: request.startDate)
                    ?? { list.append(Relationship(startDate: request.startDate, finishDate: nil, client: client)); return list.count - 1 }()
                if let finish = request.finishDate, let start = list[index].startDate, finish < start {
                    return .refused(code: 107, message: "The cease date cannot be before the commence date", duplicate: nil)
                }
                list[index].finishDate = request.finishDate
                return .accepted
            }
        }
    }

    /// Whether a relationship still runs on `date` (or, with no date, has not been ended).
    private static func isCurrent(_ relationship: Relationship, at date: CalendarDate?) -> Bool {
        guard let finish = relationship.finishDate else { return true }
        guard let date else { return false }
        return finish >= date
    }

    /// The relationship an Update or Terminate means: the one with that start date when one is given, else the
    /// latest.
    private static func latest(in list: [Relationship], startingOn start: CalendarDate?) -> Int? {
        if let start, let index = list.lastIndex(where: { $0.startDate == start }) { return index }
        return list.indices.last
    }
}
