import Foundation
import FoundationXML
import Testing

/// Runs `xmllint --noout --schema` over documents and reports which failed.
///
/// A missing `xmllint` is an error, never a silent pass: CI installs `libxml2-utils`.
struct SchemaValidator {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func xmllintPath() throws -> String {
        for candidate in ["/usr/bin/xmllint", "/usr/local/bin/xmllint", "/opt/homebrew/bin/xmllint"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw Failure(description: "xmllint is not installed; install libxml2-utils (apt-get install -y libxml2-utils)")
    }

    /// Validates each document against `schema`; returns the xmllint messages of every document that failed,
    /// keyed by its index. Runs one xmllint process for all documents.
    static func failures(of documents: [String], against schema: URL) throws -> [Int: String] {
        let xmllint = try xmllintPath()
        guard FileManager.default.fileExists(atPath: schema.path) else {
            throw Failure(description: "schema not found at \(schema.path)")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tuku-xsd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for (index, document) in documents.enumerated() {
            let file = directory.appendingPathComponent("doc-\(index).xml")
            try Data(document.utf8).write(to: file)
            files.append(file.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: xmllint)
        process.arguments = ["--noout", "--nonet", "--schema", schema.path] + files
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()

        var failures: [Int: String] = [:]
        for (index, file) in files.enumerated() {
            let lines = output.split(separator: "\n").filter { $0.hasPrefix(file) }
            if !lines.contains(where: { $0 == "\(file) validates" }) {
                failures[index] = lines.joined(separator: "\n")
            }
        }
        if failures.isEmpty && process.terminationStatus != 0 {
            throw Failure(description: "xmllint exited \(process.terminationStatus): \(output.prefix(2000))")
        }
        return failures
    }

    /// The payload element (e.g. `fileRequest`) of a SOAP envelope as a standalone document. Copying the element
    /// into a new document lets libxml2 carry along namespace declarations made on ancestors (IRD's samples
    /// declare them on the envelope).
    static func payloadDocument(of envelope: Data, namespace: String, localName: String) throws -> String {
        let document = try XMLDocument(data: envelope, options: [])
        guard let root = document.rootElement(),
            let element = find(in: root, namespace: namespace, localName: localName)
        else {
            throw Failure(description: "no {\(namespace)}\(localName) in envelope")
        }
        let copy = try #require(element.copy() as? XMLElement)
        let standalone = XMLDocument(rootElement: copy)
        standalone.characterEncoding = "UTF-8"
        return String(decoding: standalone.xmlData(options: []), as: UTF8.self)
    }

    static func find(in element: XMLElement, namespace: String, localName: String) -> XMLElement? {
        if element.uri == namespace && element.localName == localName { return element }
        for case let child as XMLElement in element.children ?? [] {
            if let found = find(in: child, namespace: namespace, localName: localName) { return found }
        }
        return nil
    }
}
