/// What ``IRDSchemaValidator`` made of a document.
public enum SchemaVerdict: Sendable, Hashable {
    /// The element (named here, on this 1-based line) is valid against IRD's schemas.
    case valid(QualifiedName, line: Int)
    /// The element fails validation: the validator's problems, in document order.
    case invalid([SchemaProblem])
    /// The document is not well-formed XML.
    case notXML
    /// The document has no element at the given path, or nothing inside it to validate.
    case notFound
}
