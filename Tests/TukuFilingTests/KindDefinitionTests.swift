import Foundation
import Testing
import TukuCore
import TukuFiling
import TukuGateway

@Suite("Kind definitions: every key typed and applied")
struct KindDefinitionTests {
    static let file = """
        {
          "kind": "ird.ei.file", "description": "Files a return.", "gateway": "ird", "operation": "File",
          "soapAction": "https://services.ird.govt.nz/GWS/Returns/Return/File", "service": "returns",
          "rateLimitKey": "ird.gateway", "timeoutSeconds": 60,
          "retry": { "baseSeconds": 30, "capSeconds": 3600, "jitter": 0.1 }, "reconcileWith": "ird.ei.status"
        }
        """
    static let status = """
        {
          "kind": "ird.ei.status", "description": "Asks.", "gateway": "ird", "operation": "RetrieveStatus",
          "soapAction": "https://services.ird.govt.nz/GWS/Returns/Return/RetrieveStatus", "service": "returns",
          "rateLimitKey": "ird.status", "timeoutSeconds": 7,
          "retry": { "baseSeconds": 30, "capSeconds": 3600, "jitter": 0.1 }
        }
        """

    /// The problems `load` reports for the two definitions, with `edit` applied to the File one's JSON object.
    static func problems(editing edit: (inout [String: Any]) -> Void) throws -> [String] {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(Self.file.utf8)) as? [String: Any])
        edit(&object)
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        do {
            _ = try KindDefinition.load(files: [("ird.ei.file/kind.json", text), ("ird.ei.status/kind.json", Self.status)])
            return []
        } catch let error as JobError {
            return (error.problems ?? []).map(\.reason)
        }
    }

    @Test("the bundled definitions decode into typed values: gateway, operation and service")
    func bundled() throws {
        let definitions = try KindDefinition.bundled()
        let file = try #require(definitions["ird.ei.file"])
        #expect(file.gateway == .ird)
        #expect(file.operation == .file)
        #expect(file.service == .returns)
        #expect(file.gatewayOperation == .fileReturn)
        #expect(file.reconcileWith == "ird.ei.status")
        #expect(definitions["ird.ed.create"]?.service == .employment)
        #expect(definitions["noop"]?.gateway == nil)
        for definition in definitions.values where definition.kind.hasPrefix("ird.") {
            #expect(definition.gateway == .ird, "\(definition.kind)")
        }
    }

    @Test("keys nothing applied are refused now: maxAttempts, endpointProfile, auth")
    func removedKeys() throws {
        for (key, value) in [("maxAttempts", 10 as Any), ("endpointProfile", "cloud"), ("auth", "oauth-bearer")] {
            #expect(try Self.problems { $0[key] = value } == ["unknown key '\(key)'"])
        }
        #expect(try Self.problems { _ in }.isEmpty)
    }

    @Test("an unknown gateway, operation or service is a decoding error, not a string passed along")
    func typedValues() throws {
        for (key, value) in [("gateway", "ato"), ("operation", "Amend"), ("service", "payroll")] {
            let problems = try Self.problems { $0[key] = value }
            #expect(problems.count == 1 && problems[0].hasPrefix("is not a valid kind definition"), "\(key): \(problems)")
        }
    }

    @Test("an ird.* kind names gateway ird; a File reconciles through a RetrieveStatus kind of its gateway")
    func gatewayAndReconciliation() throws {
        #expect(try Self.problems { $0["gateway"] = nil }.contains("gateway must be ird for an ird.* kind"))
        #expect(try Self.problems { $0["gateway"] = "hmrc" }.contains("gateway must be ird for an ird.* kind"))
        #expect(
            try Self.problems { $0["reconcileWith"] = nil }.contains(
                "a File kind names its status kind in reconcileWith, and only a File kind does"))
        #expect(
            try Self.problems { $0["reconcileWith"] = "ird.ei.file" }.contains(
                "reconcileWith must name a RetrieveStatus kind of the same gateway"))
        #expect(try Self.problems { $0["reconcileWith"] = "ird.ei.nothing" }.contains("reconcileWith names unknown kind 'ird.ei.nothing'"))
    }

    @Test("the HMRC kinds name gateway hmrc and share HMRC's per-application key; IRD's SOAP keys are refused on them")
    func hmrcKinds() throws {
        let definitions = try KindDefinition.bundled()
        for kind in ["hmrc.vat.return", "hmrc.vat.obligations"] {
            let definition = try #require(definitions[kind])
            #expect(definition.gateway == .hmrc)
            #expect(definition.rateLimitKey == "hmrc.api")
            #expect(definition.operation == nil && definition.reconcileWith == nil)
        }
        let hmrc = """
            { "kind": "hmrc.vat.return", "description": "Files.", "gateway": "hmrc", "rateLimitKey": "hmrc.api",
              "timeoutSeconds": 60, "retry": { "baseSeconds": 30, "capSeconds": 3600, "jitter": 0.1 }, "operation": "File" }
            """
        #expect(throws: JobError.self) { try KindDefinition.load(files: [("hmrc.vat.return/kind.json", hmrc)]) }
        let unknown = hmrc.replacingOccurrences(of: #", "operation": "File""#, with: "")
            .replacingOccurrences(of: "hmrc.vat.return", with: "hmrc.vat.liabilities")
        do {
            _ = try KindDefinition.load(files: [("hmrc.vat.liabilities/kind.json", unknown)])
            Issue.record("an unknown HMRC kind loaded")
        } catch let error as JobError {
            #expect(error.problems?.map(\.reason) == ["'hmrc.vat.liabilities' is not a known HMRC kind"])
        }
    }

    @Test("a local kind declares no gateway keys")
    func localKind() throws {
        let noop = """
            { "kind": "noop", "description": "Nothing.", "rateLimitKey": "x", "timeoutSeconds": 5,
              "retry": { "baseSeconds": 5, "capSeconds": 60, "jitter": 0.1 } }
            """
        #expect(throws: JobError.self) { try KindDefinition.load(files: [("noop/kind.json", noop)]) }
    }
}
