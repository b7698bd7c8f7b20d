/// A job a worker has claimed and holds a lease on.
public struct ClaimedJob: Sendable, Hashable {
    /// `tuku.jobs.id`.
    public var id: Int64
    /// Selects the handler.
    public var kind: String
    /// The employer or customer the job belongs to.
    public var tenant: String
    /// The JSON payload as inserted (a JSON object), as UTF-8 text.
    public var payload: String
    /// This run's attempt number (1 on the first run).
    public var attempt: Int
    /// After this many failed attempts the job is dead.
    public var maxAttempts: Int
    /// The fencing token that the ack for this run must present.
    public var leaseToken: Int64
    /// `last_error.code` from the previous run, if any (for example `outcome_unknown`, which a gateway
    /// handler reconciles before sending again).
    public var lastErrorCode: String?

    public init(
        id: Int64, kind: String, tenant: String, payload: String, attempt: Int, maxAttempts: Int, leaseToken: Int64,
        lastErrorCode: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.tenant = tenant
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.leaseToken = leaseToken
        self.lastErrorCode = lastErrorCode
    }
}
