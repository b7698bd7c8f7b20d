import Foundation

/// The fraud prevention values of the person behind a job, captured upstream in the user's session and carried in the
/// job payload as `fraudPrevention`. With `BATCH_PROCESS_DIRECT` there is no user and the object holds only the
/// connection method: the values then describe the process itself and come from ``FraudPreventionHeaders/Configuration``.
///
/// Decoding only reads the shape (types); presence and format are checked by ``FraudPreventionHeaders`` so that a
/// missing value is reported naming the header it feeds.
public struct FraudPreventionClientValues: Sendable, Hashable {
    /// The connection methods Tuku files under (HMRC defines more; these are the two whose data Tuku can supply).
    public enum ConnectionMethod: String, Sendable, Hashable, CaseIterable {
        /// A server filing for users of an upstream web application; the client values travel with the job.
        case webAppViaServer = "WEB_APP_VIA_SERVER"
        /// A process with no user behind it.
        case batchProcessDirect = "BATCH_PROCESS_DIRECT"
    }

    /// One screen of the originating device (`Gov-Client-Screens`).
    public struct Screen: Sendable, Hashable {
        /// Width in pixels.
        public var width: Int?
        /// Height in pixels.
        public var height: Int?
        /// The device's scaling factor, e.g. `1` or `1.25`.
        public var scalingFactor: Decimal?
        /// Colour depth in bits.
        public var colourDepth: Int?

        /// Creates a screen.
        public init(width: Int?, height: Int?, scalingFactor: Decimal?, colourDepth: Int?) {
            self.width = width
            self.height = height
            self.scalingFactor = scalingFactor
            self.colourDepth = colourDepth
        }
    }

    /// The browser window (`Gov-Client-Window-Size`).
    public struct WindowSize: Sendable, Hashable {
        /// Width in pixels.
        public var width: Int?
        /// Height in pixels.
        public var height: Int?

        /// Creates a window size.
        public init(width: Int?, height: Int?) {
            self.width = width
            self.height = height
        }
    }

    /// One multi-factor authentication of the user (`Gov-Client-Multi-Factor`).
    public struct MultiFactor: Sendable, Hashable {
        /// `TOTP`, `AUTH_CODE` or `OTHER`.
        public var type: String?
        /// When, as `yyyy-MM-ddThh:mmZ` (UTC).
        public var timestamp: String?
        /// A reference unique to the factor (e.g. a hash of the phone number).
        public var uniqueReference: String?

        /// Creates a factor.
        public init(type: String?, timestamp: String?, uniqueReference: String?) {
            self.type = type
            self.timestamp = timestamp
            self.uniqueReference = uniqueReference
        }
    }

    /// `Gov-Client-Connection-Method`.
    public var connectionMethod: ConnectionMethod
    /// `Gov-Client-Public-IP`: the user's public IP address as the upstream server saw it.
    public var publicIP: String?
    /// `Gov-Client-Public-IP-Timestamp`: when `publicIP` was collected, `yyyy-MM-ddThh:mm:ss.sssZ`.
    public var publicIPTimestamp: String?
    /// `Gov-Client-Public-Port`: the user's source port as the upstream server saw it.
    public var publicPort: Int?
    /// `Gov-Client-Device-ID`: a UUID persisted on the user's device.
    public var deviceID: String?
    /// `Gov-Client-User-IDs`: the user's identifiers in the upstream application (name → id).
    public var userIDs: [String: String]?
    /// `Gov-Client-Timezone`: `UTC±hh:mm`.
    public var timezone: String?
    /// `Gov-Client-Screens`.
    public var screens: [Screen]?
    /// `Gov-Client-Window-Size`.
    public var windowSize: WindowSize?
    /// `Gov-Client-Browser-JS-User-Agent`: `navigator.userAgent`, as the browser reported it.
    public var browserJSUserAgent: String?
    /// `Gov-Client-Multi-Factor`.
    public var multiFactor: [MultiFactor]?

    /// Creates client values.
    public init(
        connectionMethod: ConnectionMethod, publicIP: String? = nil, publicIPTimestamp: String? = nil, publicPort: Int? = nil,
        deviceID: String? = nil, userIDs: [String: String]? = nil, timezone: String? = nil, screens: [Screen]? = nil,
        windowSize: WindowSize? = nil, browserJSUserAgent: String? = nil, multiFactor: [MultiFactor]? = nil
    ) {
        self.connectionMethod = connectionMethod
        self.publicIP = publicIP
        self.publicIPTimestamp = publicIPTimestamp
        self.publicPort = publicPort
        self.deviceID = deviceID
        self.userIDs = userIDs
        self.timezone = timezone
        self.screens = screens
        self.windowSize = windowSize
        self.browserJSUserAgent = browserJSUserAgent
        self.multiFactor = multiFactor
    }

    /// The payload keys of the `fraudPrevention` object.
    static let keys: Set<String> = [
        "connectionMethod", "publicIP", "publicIPTimestamp", "publicPort", "deviceID", "userIDs", "timezone", "screens",
        "windowSize", "browserJSUserAgent", "multiFactor",
    ]
}

/// The `fraudPrevention` object as read from JSON, every field loose so every problem is reported.
struct RawFraudPrevention: Decodable, Sendable, Hashable {
    struct RawScreen: Decodable, Sendable, Hashable {
        var width: LooseField<Int>?
        var height: LooseField<Int>?
        var scalingFactor: LooseField<Decimal>?
        var colourDepth: LooseField<Int>?
    }

    struct RawWindowSize: Decodable, Sendable, Hashable {
        var width: LooseField<Int>?
        var height: LooseField<Int>?
    }

    struct RawMultiFactor: Decodable, Sendable, Hashable {
        var type: LooseField<String>?
        var timestamp: LooseField<String>?
        var uniqueReference: LooseField<String>?
    }

    var connectionMethod: LooseField<String>?
    var publicIP: LooseField<String>?
    var publicIPTimestamp: LooseField<String>?
    var publicPort: LooseField<Int>?
    var deviceID: LooseField<String>?
    var userIDs: LooseField<[String: String]>?
    var timezone: LooseField<String>?
    var screens: LooseField<[RawScreen]>?
    var windowSize: LooseField<RawWindowSize>?
    var browserJSUserAgent: LooseField<String>?
    var multiFactor: LooseField<[RawMultiFactor]>?

    /// The typed values, recording type problems under `prefix` (e.g. `fraudPrevention`).
    func values(_ problems: inout HMRCProblems, raw: [String: Any]?, prefix: String) -> FraudPreventionClientValues? {
        if let raw {
            problems.unknownKeys(raw, known: FraudPreventionClientValues.keys, prefix: prefix)
            for (index, screen) in (raw["screens"] as? [Any] ?? []).enumerated() {
                if let screen = screen as? [String: Any] {
                    problems.unknownKeys(
                        screen, known: ["width", "height", "scalingFactor", "colourDepth"], prefix: "\(prefix).screens[\(index)]")
                }
            }
            if let window = raw["windowSize"] as? [String: Any] {
                problems.unknownKeys(window, known: ["width", "height"], prefix: "\(prefix).windowSize")
            }
            for (index, factor) in (raw["multiFactor"] as? [Any] ?? []).enumerated() {
                if let factor = factor as? [String: Any] {
                    problems.unknownKeys(
                        factor, known: ["type", "timestamp", "uniqueReference"], prefix: "\(prefix).multiFactor[\(index)]")
                }
            }
        }
        func path(_ key: String) -> String { HMRCProblems.join(prefix, key) }
        let methodText = problems.required(connectionMethod, path("connectionMethod"))
        var method: FraudPreventionClientValues.ConnectionMethod?
        if let methodText {
            method = FraudPreventionClientValues.ConnectionMethod(rawValue: methodText)
            if method == nil {
                problems.add(path("connectionMethod"), "must be WEB_APP_VIA_SERVER or BATCH_PROCESS_DIRECT")
            }
        }
        let screens = problems.optional(self.screens, path("screens"))?.enumerated().map { index, screen in
            let at = path("screens[\(index)]")
            return FraudPreventionClientValues.Screen(
                width: problems.optional(screen.width, at + ".width"), height: problems.optional(screen.height, at + ".height"),
                scalingFactor: problems.optional(screen.scalingFactor, at + ".scalingFactor"),
                colourDepth: problems.optional(screen.colourDepth, at + ".colourDepth"))
        }
        let window = problems.optional(self.windowSize, path("windowSize")).map {
            FraudPreventionClientValues.WindowSize(
                width: problems.optional($0.width, path("windowSize.width")),
                height: problems.optional($0.height, path("windowSize.height")))
        }
        let factors = problems.optional(self.multiFactor, path("multiFactor"))?.enumerated().map { index, factor in
            let at = path("multiFactor[\(index)]")
            return FraudPreventionClientValues.MultiFactor(
                type: problems.optional(factor.type, at + ".type"), timestamp: problems.optional(factor.timestamp, at + ".timestamp"),
                uniqueReference: problems.optional(factor.uniqueReference, at + ".uniqueReference"))
        }
        let values = FraudPreventionClientValues(
            connectionMethod: method ?? .batchProcessDirect,
            publicIP: problems.optional(publicIP, path("publicIP")),
            publicIPTimestamp: problems.optional(publicIPTimestamp, path("publicIPTimestamp")),
            publicPort: problems.optional(publicPort, path("publicPort")),
            deviceID: problems.optional(deviceID, path("deviceID")),
            userIDs: problems.optional(userIDs, path("userIDs")),
            timezone: problems.optional(timezone, path("timezone")),
            screens: screens, windowSize: window,
            browserJSUserAgent: problems.optional(browserJSUserAgent, path("browserJSUserAgent")),
            multiFactor: factors)
        return method == nil ? nil : values
    }
}
