/// One problem the schema validator found in a request, with its place in the request body.
public struct SchemaProblem: Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line of the element the problem is about.
    public var line: Int
    /// The 1-based column just after that element's start tag on its line (libxml2 records no columns for the
    /// nodes of a tree, so the sandbox finds the start tag in the body's text).
    public var column: Int
    /// The validator's message, on one line.
    public var message: String

    /// Creates a problem.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// The problem in the shape of IRD's schema-error sample (`body-gst-returnfile-schema-error-response.xml`):
    /// `ValidationProblem { line=25, column=55, type=ERROR, message='…' }`.
    public var description: String {
        "ValidationProblem { line=\(line), column=\(column), type=ERROR, message='\(message)' }"
    }
}
