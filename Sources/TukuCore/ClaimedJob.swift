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
    /// `last_error.code` from the previous run, if any. For reading only: whether an earlier request may have
    /// reached the gateway is ``mayHaveReachedGateway``, not this.
    public var lastErrorCode: String?
    /// Whether an earlier run's request may have reached the gateway without anyone learning what became of it
    /// (`tuku.jobs.unsettled_since` is set). A gateway handler settles that (a status query) before it sends
    /// anything again.
    public var mayHaveReachedGateway: Bool

    public init(
        id: Int64, kind: String, tenant: String, payload: String, attempt: Int, maxAttempts: Int, leaseToken: Int64,
        lastErrorCode: String? = nil, mayHaveReachedGateway: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.tenant = tenant
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.leaseToken = leaseToken
        self.lastErrorCode = lastErrorCode
        self.mayHaveReachedGateway = mayHaveReachedGateway
    }
}
