/// Turns one gateway exchange into a ``GatewayOutcome``. A pure function of its input and configuration.
///
/// The mapping, with IRD's sources, is `docs/outcomes.md`; the tests check every row.
public struct GatewayOutcomeClassifier: Sendable {
    /// Delays used when IRD gives none.
    public struct Configuration: Sendable, Hashable {
        /// Minimum delay before retrying a transient failure (−1, 108, HTTP 5xx, a request that never left).
        /// Defaults to 60 seconds.
        public var retryDelay: Duration
        /// Delay after IRD's "UnAuthorised" SOAP fault; never less than 5 seconds (IRD's minimum).
        /// Defaults to 5 seconds.
        public var unauthorisedFaultDelay: Duration
        /// Delay after HTTP 429 when there is no `Retry-After`. Defaults to 10 seconds.
        public var throttleDelay: Duration
        /// Upper bound on any server-requested `Retry-After`. Defaults to 1 hour.
        public var maximumRetryAfter: Duration

        /// Creates a configuration.
        public init(
            retryDelay: Duration = .seconds(60),
            unauthorisedFaultDelay: Duration = .seconds(5),
            throttleDelay: Duration = .seconds(10),
            maximumRetryAfter: Duration = .seconds(3600)
        ) {
            self.retryDelay = retryDelay
            self.unauthorisedFaultDelay = unauthorisedFaultDelay
            self.throttleDelay = throttleDelay
            self.maximumRetryAfter = maximumRetryAfter
        }
    }

    /// IRD's minimum wait after an "UnAuthorised" fault.
    public static let minimumUnauthorisedFaultDelay: Duration = .seconds(5)
    /// Delay for EI v1's code 166 ("EI temporarily locked — try again in 10 minutes").
    public static let temporarilyLockedDelay: Duration = .seconds(600)

    /// The delays.
    public var configuration: Configuration

    /// Creates a classifier.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Classifies one exchange.
    public func classify(_ exchange: GatewayExchange) -> GatewayOutcome {
        switch exchange {
        case .noResponse(requestSent: true):
            return .outcomeUnknown(reason: "no response after the request was sent (timeout or connection lost)")
        case .noResponse(requestSent: false):
            return .retry(after: configuration.retryDelay)
        case .response(let status, let retryAfter, let body):
            return classify(status: status, retryAfter: retryAfter.map(clamp), body: body)
        }
    }

    private func classify(
        status: Int, retryAfter: Duration?, body: Result<GatewayResponse, GatewayError>
    ) -> GatewayOutcome {
        // Transport-level statuses come first: whatever the body says, they decide.
        switch status {
        case 429:
            return .throttled(retryAfter: retryAfter ?? configuration.throttleDelay)
        case 504:
            return .outcomeUnknown(reason: "HTTP 504: the gateway timed out waiting for IRD")
        case 503:
            return .retry(after: retryAfter ?? configuration.retryDelay)
        default:
            break
        }
        switch body {
        case .success(let response):
            switch response.content {
            case .fault(let fault):
                return classify(fault)
            case .result(let result):
                return classify(result)
            }
        case .failure(let error):
            switch status {
            case 200..<300:
                return .outcomeUnknown(reason: "HTTP \(status) with an unreadable reply (\(error.code))")
            case 401:
                return .reauthorize
            case 500..<600:
                return .retry(after: retryAfter ?? configuration.retryDelay)
            default:
                return .rejected(code: nil, message: "HTTP \(status) with an unreadable reply (\(error.code))")
            }
        }
    }

    private func classify(_ fault: SOAPFault) -> GatewayOutcome {
        if fault.isUnauthorised {
            return .retryAfterUnauthorisedFault(
                after: max(configuration.unauthorisedFaultDelay, Self.minimumUnauthorisedFaultDelay)
            )
        }
        if fault.code.isSOAP("Receiver") {
            return .retry(after: configuration.retryDelay)
        }
        return .rejected(code: nil, message: "SOAP fault \(fault.code): \(fault.reason)")
    }

    private func classify(_ result: GatewayResult) -> GatewayOutcome {
        guard let error = result.firstError else {
            return .succeeded(gatewayId: result.gatewayId, submissionKey: result.submissionKey)
        }
        switch error.statusCode {
        case 1:
            return .reauthorize
        case -1, 108:
            return .retry(after: configuration.retryDelay)
        case 166:
            return .retry(after: Self.temporarilyLockedDelay)
        case 160:
            return .outcomeUnknown(
                reason: "IRD code 160: an identical payday submission was made in the last hour; check its status"
            )
        default:
            let message = [error.errorMessage, error.errorDescription ?? ""]
                .filter { !$0.isEmpty }.joined(separator: ": ")
            return .rejected(code: error.statusCode, message: message)
        }
    }

    private func clamp(_ delay: Duration) -> Duration {
        min(max(delay, .zero), configuration.maximumRetryAfter)
    }
}
