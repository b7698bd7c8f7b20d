import Foundation

/// Locates IRD's reference material relative to this file: `<repo>/../shared/reference/ird`, as in CI where
/// `shared/` sits beside the clone.
enum ReferencePaths {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // TukuIRDTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root

    static let ird = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/ird")
    static let schemas = ird.appendingPathComponent("schemas")
    static let samples = ird.appendingPathComponent("samples")

    static let returnEISchema = schemas.appendingPathComponent("ReturnEI.v2.xsd")
    static let employmentSchema = schemas.appendingPathComponent("Employment.v2.xsd")

    static func sample(_ name: String) throws -> Data {
        try Data(contentsOf: samples.appendingPathComponent(name))
    }

    static func sampleNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: samples.path).filter { $0.hasSuffix(".xml") }.sorted()
    }
}

extension ReferencePaths {
    /// IRD's v1-namespace sample replies, kept in the repository (`Tests/Fixtures/ird-v1`).
    static let v1Samples = repositoryRoot.appendingPathComponent("Tests/Fixtures/ird-v1")

    static func v1Sample(_ name: String) throws -> Data {
        try Data(contentsOf: v1Samples.appendingPathComponent(name))
    }
}
