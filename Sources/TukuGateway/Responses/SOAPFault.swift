/// A SOAP 1.2 fault (`env:Fault` with `env:Code` and `env:Reason`).
public struct SOAPFault: Sendable, Hashable {
    /// A fault code value (an XML qualified name), resolved to its namespace and local name.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The namespace URI the code's prefix resolves to, if it resolves.
        public var namespace: String?
        /// The local name, e.g. `Receiver`, `Sender`.
        public var localName: String

        /// Creates a code.
        public init(namespace: String?, localName: String) {
            self.namespace = namespace
            self.localName = localName
        }

        /// Whether this is the SOAP 1.2 code `localName` (in the envelope namespace).
        public func isSOAP(_ localName: String) -> Bool {
            namespace == IRDNamespace.soapEnvelope && self.localName == localName
        }

        /// The local name.
        public var description: String { localName }
    }

    /// `env:Code/env:Value`.
    public var code: Code
    /// `env:Subcode/env:Value`s, outermost first.
    public var subcodes: [Code]
    /// `env:Reason/env:Text` (the English text when several languages are given).
    public var reason: String
    /// `env:Detail` text content, if present.
    public var detail: String?

    /// Creates a fault.
    public init(code: Code, subcodes: [Code] = [], reason: String, detail: String? = nil) {
        self.code = code
        self.subcodes = subcodes
        self.reason = reason
        self.detail = detail
    }

    /// Whether this is IRD's "UnAuthorised" fault: an unexpected technical fault, to be retried after at least five
    /// seconds (or, with HTTP 429, the provider's maximum concurrency being exceeded).
    public var isUnauthorised: Bool {
        func matches(_ text: String) -> Bool {
            let folded = text.lowercased()
            return folded.contains("unauthorised") || folded.contains("unauthorized")
        }
        return matches(reason) || subcodes.contains { matches($0.localName) }
    }
}
