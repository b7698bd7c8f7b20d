import CLibXML2
import Foundation

/// IRD's published XSDs (`sandbox/ird-schemas/`, embedded at build time), compiled once by libxml2, and the
/// validation of one element of a document against them.
///
/// The compiled schema is read-only once parsed and shared by every call; each call parses its own document and
/// uses its own validation context (libxml2's contexts are not thread-safe), so calls may run concurrently.
public final class IRDSchemaValidator: @unchecked Sendable {
    // Safety: `schema` is written once in `init` and only read afterwards (libxml2 documents a parsed schema as
    // shareable between validation contexts on different threads); it is freed in `deinit`.
    private let schema: xmlSchemaPtr
    /// The file names of the schemas compiled, e.g. `ReturnEI.v2.xsd`.
    public let schemaFiles: [String]

    /// The target namespace of the small schema that imports IRD's two payday-filing schemas.
    static let driverNamespace = "urn:tuku:sandbox:ird-schemas"

    /// A schema importing ReturnEI.v2 (which imports ReturnCommon.v2 and Common.v2) and Employment.v2, so one compiled
    /// schema covers every request and response of the payday-filing services.
    static let driver = """
        <xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="\(driverNamespace)">
          <xsd:import namespace="urn:www.ird.govt.nz/GWS:types/ReturnEI.v2" schemaLocation="ReturnEI.v2.xsd"/>
          <xsd:import namespace="urn:www.ird.govt.nz/GWS:types/Employment.v2" schemaLocation="Employment.v2.xsd"/>
        </xsd:schema>
        """

    /// Compiles the embedded schemas.
    ///
    /// libxml2 resolves `xsd:import/@schemaLocation` against the importing file, so the schemas are written to a
    /// private temporary directory, compiled, and the directory removed before this returns.
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` when the schemas cannot be staged or do not compile.
    public init() throws(SandboxError) {
        xmlInitParser()
        let files = EmbeddedIRDSchemas.files.filter { $0.path.hasSuffix(".xsd") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tuku-ird-schemas-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            for file in files {
                try Data(file.contents.utf8).write(to: directory.appendingPathComponent(file.path))
            }
            try Data(Self.driver.utf8).write(to: directory.appendingPathComponent("tuku-driver.xsd"))
        } catch {
            throw SandboxError(.invalidConfiguration, "cannot stage IRD's schemas in \(directory.path)", underlying: error)
        }
        let collector = ProblemCollector()
        let driverPath = directory.appendingPathComponent("tuku-driver.xsd").path
        guard let parser = xmlSchemaNewParserCtxt(driverPath) else {
            throw SandboxError(.invalidConfiguration, "libxml2 cannot create a schema parser")
        }
        defer { xmlSchemaFreeParserCtxt(parser) }
        xmlSchemaSetParserStructuredErrors(parser, collectProblem, Unmanaged.passUnretained(collector).toOpaque())
        guard let schema = withExtendedLifetime(collector, { xmlSchemaParse(parser) }) else {
            let detail = collector.raw.prefix(3).map(\.message).joined(separator: "; ")
            throw SandboxError(.invalidConfiguration, "IRD's schemas do not compile: \(detail)")
        }
        self.schema = schema
        self.schemaFiles = files.map(\.path).sorted()
    }

    deinit {
        xmlSchemaFree(schema)
    }

    /// Validates the first child element of the element at `path` (root first) of `document` against IRD's schemas,
    /// e.g. the `fileRequest` inside `Envelope/Body/File/ReturnFileRequestMsg/FileRequestWrapper`.
    ///
    /// An element that no schema declares (an unknown name, or a known name in the wrong namespace) is invalid.
    public func validate(_ document: Data, childOf path: [QualifiedName]) -> SchemaVerdict {
        guard !document.isEmpty, document.count < Int(Int32.max) else { return .notXML }
        let options = Int32(
            bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
                | XML_PARSE_BIG_LINES.rawValue)
        let parsed = document.withUnsafeBytes { bytes -> xmlDocPtr? in
            guard let base = bytes.baseAddress else { return nil }
            return xmlReadMemory(base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), "request.xml", nil, options)
        }
        guard let parsed else { return .notXML }
        defer { xmlFreeDoc(parsed) }
        guard var node = xmlDocGetRootElement(parsed), let first = path.first, Self.matches(node, first) else { return .notFound }
        for name in path.dropFirst() {
            guard let child = Self.childElements(of: node).first(where: { Self.matches($0, name) }) else { return .notFound }
            node = child
        }
        guard let target = Self.childElements(of: node).first else { return .notFound }
        guard let context = xmlSchemaNewValidCtxt(schema) else {
            return .invalid([SchemaProblem(line: 1, column: 1, message: "the validator could not be started")])
        }
        defer { xmlSchemaFreeValidCtxt(context) }
        let collector = ProblemCollector()
        xmlSchemaSetValidStructuredErrors(context, collectProblem, Unmanaged.passUnretained(collector).toOpaque())
        let result = withExtendedLifetime(collector) { xmlSchemaValidateOneElement(context, target) }
        if result == 0, collector.raw.isEmpty { return .valid(Self.name(of: target), line: Int(xmlGetLineNo(target))) }
        var problems = collector.problems(in: document)
        if problems.isEmpty {
            problems = [SchemaProblem(line: Int(xmlGetLineNo(target)), column: 1, message: "the element failed validation")]
        }
        return .invalid(problems)
    }

    // MARK: Tree helpers

    static func childElements(of node: xmlNodePtr) -> [xmlNodePtr] {
        var result: [xmlNodePtr] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(current) }
            child = current.pointee.next
        }
        return result
    }

    static func name(of node: xmlNodePtr) -> QualifiedName {
        let namespace = node.pointee.ns.flatMap { $0.pointee.href }.map { String(cString: $0) } ?? ""
        let local = node.pointee.name.map { String(cString: $0) } ?? ""
        return QualifiedName(namespace, local)
    }

    static func matches(_ node: xmlNodePtr, _ name: QualifiedName) -> Bool {
        self.name(of: node) == name
    }
}

/// Collects libxml2's structured errors during one parse or validation (used by one thread at a time).
private final class ProblemCollector {
    struct Raw {
        var line: Int
        var column: Int
        /// The start tag to look for on the line, e.g. `ei:employee`.
        var tag: String?
        var message: String
    }

    var raw: [Raw] = []

    /// The problems, with columns found in `document`'s text.
    func problems(in document: Data) -> [SchemaProblem] {
        guard !raw.isEmpty else { return [] }
        let bytes = [UInt8](document)
        var lineStarts = [0]
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { lineStarts.append(index + 1) }
        return raw.map { problem in
            var column = problem.column
            if column <= 0 {
                column = 1
                if let tag = problem.tag, problem.line >= 1, problem.line <= lineStarts.count {
                    let start = lineStarts[problem.line - 1]
                    let end = problem.line < lineStarts.count ? lineStarts[problem.line] : bytes.count
                    let text = String(decoding: bytes[start..<end], as: UTF8.self)
                    if let close = Self.endOfStartTag(tag, in: text) {
                        column = text.utf8.distance(from: text.startIndex, to: close) + 2
                    }
                }
            }
            return SchemaProblem(line: max(1, problem.line), column: column, message: problem.message)
        }
    }

    /// The `>` closing the first start tag named `tag` (not a longer name that begins with it) in `text`.
    static func endOfStartTag(_ tag: String, in text: String) -> String.Index? {
        var searchFrom = text.startIndex
        while let open = text.range(of: "<" + tag, range: searchFrom..<text.endIndex) {
            let next = open.upperBound < text.endIndex ? text[open.upperBound] : ">"
            if next == ">" || next == "/" || next.isWhitespace {
                return text[open.upperBound...].firstIndex(of: ">")
            }
            searchFrom = open.upperBound
        }
        return nil
    }
}

/// libxml2's structured error callback: appends the error to the ``ProblemCollector`` passed as user data.
private func collectProblem(_ userData: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
    guard let userData, let error else { return }
    let collector = Unmanaged<ProblemCollector>.fromOpaque(userData).takeUnretainedValue()
    let message = error.pointee.message.map { String(cString: $0) } ?? "validation error"
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
    var tag: String?
    if let raw = error.pointee.node {
        var node = raw.assumingMemoryBound(to: xmlNode.self)
        if node.pointee.type == XML_ATTRIBUTE_NODE, let parent = node.pointee.parent { node = parent }
        if node.pointee.type == XML_ELEMENT_NODE, let name = node.pointee.name {
            let local = String(cString: name)
            if let prefix = node.pointee.ns?.pointee.prefix {
                tag = String(cString: prefix) + ":" + local
            } else {
                tag = local
            }
        }
    }
    collector.raw.append(
        ProblemCollector.Raw(line: Int(error.pointee.line), column: Int(error.pointee.int2), tag: tag, message: oneLine))
}
