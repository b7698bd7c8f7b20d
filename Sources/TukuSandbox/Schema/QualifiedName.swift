/// An XML element name by namespace URI and local name (never by prefix).
public struct QualifiedName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace URI (empty for none).
    public var namespace: String
    /// The local name.
    public var localName: String

    /// Creates a name.
    public init(_ namespace: String, _ localName: String) {
        self.namespace = namespace
        self.localName = localName
    }

    /// `{namespace}localName`, as libxml2 and Xerces write names in their messages.
    public var description: String { "{\(namespace)}\(localName)" }
}
