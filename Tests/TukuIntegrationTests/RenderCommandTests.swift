import Foundation
import Testing
import TukuTestSupport

/// `tuku render` as its help promises: the envelope alone on standard output, so it pipes into `xmllint`.
@Suite("tuku render pipes into xmllint")
struct RenderCommandTests {
    static let schemas = TestCertificates.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/reference/ird/schemas")

    /// Runs a shell pipeline; (exit status, standard output, standard error).
    static func shell(_ script: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", script, "render-test"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }

    static func example(_ kind: String, _ name: String) -> String {
        TestCertificates.repositoryRoot.appendingPathComponent("jobs/\(kind)/examples/\(name).json").path
    }

    @Test("standard output is the envelope alone (well-formed XML); the request line and headers go to standard error")
    func envelopeAloneOnStandardOutput() throws {
        let tuku = try TukuProcess.executableURL().path
        let (status, out, err) = try Self.shell(
            "\"$1\" render ird.ei.file \"$2\" | tee /dev/stderr | xmllint --noout --nonet -", [tuku, Self.example("ird.ei.file", "three-employees")])
        #expect(status == 0, "\(err)")
        #expect(out.isEmpty)
        #expect(err.contains("POST <gateway>/gws/returns/"))
        #expect(err.contains("Authorization: <left out>"))
        let (_, envelope, _) = try Self.shell("\"$1\" render ird.ei.file \"$2\" 2>/dev/null", [tuku, Self.example("ird.ei.file", "three-employees")])
        #expect(envelope.hasPrefix("<"))
        #expect(envelope.contains("Envelope"))
        #expect(!envelope.contains("POST "))
    }

    @Test("--payload-only | xmllint --schema: the request inside the body validates against IRD's XSD, and a wrong schema fails")
    func payloadValidatesAgainstIRDSchema() throws {
        let tuku = try TukuProcess.executableURL().path
        let returns = Self.schemas.appendingPathComponent("ReturnEI.v2.xsd").path
        let employment = Self.schemas.appendingPathComponent("Employment.v2.xsd").path
        let pipe = "\"$1\" render --payload-only \"$2\" \"$3\" 2>/dev/null | xmllint --noout --nonet --schema \"$4\" -"
        for (kind, name, schema) in [
            ("ird.ei.file", "three-employees", returns), ("ird.ei.file", "nil-return", returns), ("ird.ed.create", "new-employee", employment),
        ] {
            let (status, _, err) = try Self.shell(pipe, [tuku, kind, Self.example(kind, name), schema])
            #expect(status == 0, "\(kind) \(name): \(err)")
            #expect(err.contains("- validates"), "\(err)")
        }
        // The pipe can fail: a return is not an employment request.
        let (status, _, err) = try Self.shell(pipe, [tuku, "ird.ei.file", Self.example("ird.ei.file", "three-employees"), employment])
        #expect(status != 0)
        #expect(err.contains("fails to validate") || err.contains("validity error"))
    }

    @Test("--operation RetrieveReturn renders an ird.ei.status payload as RetrieveReturn, XSD-valid; tuku decode reads the answer")
    func retrieveReturn() throws {
        let tuku = try TukuProcess.executableURL().path
        let returns = Self.schemas.appendingPathComponent("ReturnEI.v2.xsd").path
        let example = Self.example("ird.ei.status", "by-payday")
        let (status, envelope, err) = try Self.shell("\"$1\" render --operation RetrieveReturn ird.ei.status \"$2\"", [tuku, example])
        #expect(status == 0, "\(err)")
        #expect(envelope.contains(">https://services.ird.govt.nz/GWS/Returns/Return/RetrieveReturn<"))
        #expect(envelope.contains("RetrieveReturnRequestMsg>") && envelope.contains("RetrieveReturnRequestWrapper "))
        let pipe =
            "\"$1\" render --operation RetrieveReturn --payload-only ird.ei.status \"$2\" 2>/dev/null"
            + " | xmllint --noout --nonet --schema \"$3\" -"
        let (valid, _, validation) = try Self.shell(pipe, [tuku, example, returns])
        #expect(valid == 0, "\(validation)")
        #expect(validation.contains("- validates"))
        // A File payload has no RetrieveReturn form.
        let (refused, _, message) = try Self.shell(
            "\"$1\" render --operation RetrieveReturn ird.ei.file \"$2\"", [tuku, Self.example("ird.ei.file", "three-employees")])
        #expect(refused == 2)
        #expect(message.contains("--operation RetrieveReturn is not available"))

        // IRD's published RetrieveReturn response shape (GST, v1 namespaces), decoded.
        let sample = TestCertificates.repositoryRoot
            .appendingPathComponent("Tests/Fixtures/ird-v1/body-gst-retrievereturn-response.xml").path
        let (decoded, out, decodeErr) = try Self.shell("\"$1\" decode \"$2\"", [tuku, sample])
        #expect(decoded == 0, "\(decodeErr)")
        #expect(out.contains("response        retrieveReturnResponse"))
        #expect(out.contains("return          key - payday - nil false lines 0"))
        #expect(out.contains("outcome         succeeded"))
    }

    static let hmrcReturn = TestCertificates.repositoryRoot.appendingPathComponent("Tests/Fixtures/hmrc-payloads/vat-return.json").path

    @Test("render hmrc.vat.return: the JSON body alone on stdout passes HMRC's OpenAPI schema; headers, no credentials, on stderr")
    func hmrcReturn() throws {
        let tuku = try TukuProcess.executableURL().path
        let root = TestCertificates.repositoryRoot
        let check =
            "\"$1\" render hmrc.vat.return \"$2\" | sed 's/^/VATReturnDeclaration\\t/' | python3 \"$3\" \"$4\""
        let (status, out, err) = try Self.shell(
            check,
            [
                tuku, Self.hmrcReturn, root.appendingPathComponent("scripts/lib/hmrc-schema-check.py").path,
                root.appendingPathComponent("Tests/Fixtures/hmrc-vat-1.0/vat-api-1.0.openapi.yaml").path,
            ])
        #expect(status == 0, "\(err)")
        #expect(out == "ok\n", "\(out)")
        #expect(err.contains("POST <hmrc>/organisations/vat/123456789/returns\n"))
        #expect(err.contains("Accept: application/vnd.hmrc.1.0+json\n"))
        #expect(err.contains("Gov-Vendor-Forwarded: by=203.0.113.6&for=198.51.100.7\n"))
        #expect(err.contains("Authorization: Bearer <left out>\n"))
        let (_, body, _) = try Self.shell("\"$1\" render hmrc.vat.return \"$2\" 2>/dev/null", [tuku, Self.hmrcReturn])
        #expect(body.hasPrefix(##"{"periodKey":"#001","vatDueSales":105.50,"##))
        // The lookup of the same period: a GET with # as %23 and no body.
        let (viewStatus, viewBody, viewHead) = try Self.shell("\"$1\" render --operation view hmrc.vat.return \"$2\"", [tuku, Self.hmrcReturn])
        #expect(viewStatus == 0)
        #expect(viewBody.isEmpty)
        #expect(viewHead.contains("GET <hmrc>/organisations/vat/123456789/returns/%23001\n"))
    }

    @Test("render hmrc.vat.return refuses a bad payload or a missing fraud header with every problem, exit 2")
    func hmrcProblems() throws {
        let tuku = try TukuProcess.executableURL().path
        let (status, out, err) = try Self.shell(
            "sed 's/\"netVatDue\": 100.10/\"netVatDue\": 100.11/; s/\"vrn\": \"123456789\"/\"vrn\": \"12345678\"/' \"$2\" | \"$1\" render hmrc.vat.return -",
            [tuku, Self.hmrcReturn])
        #expect(status == 2)
        #expect(out.isEmpty)
        #expect(err.contains("payload_invalid"))
        #expect(err.contains("  vrn: must be exactly 9 digits (VRN_INVALID)"))
        #expect(err.contains("  netVatDue: must equal |totalVatDue − vatReclaimedCurrPeriod| (100.10) (VAT_NET_VALUE)"))
        let (missingStatus, _, missing) = try Self.shell(
            "sed 's/\"publicPort\": 51234,//' \"$2\" | \"$1\" render hmrc.vat.return -", [tuku, Self.hmrcReturn])
        #expect(missingStatus == 2)
        #expect(missing.contains("fraud_header_missing"))
        #expect(missing.contains("  fraudPrevention.publicPort: Gov-Client-Public-Port: required for WEB_APP_VIA_SERVER"))
    }

    @Test("tuku decode reads HMRC's JSON answers: errors with paths, the receipt, the lookup, and the outcome")
    func decodeHMRC() throws {
        let tuku = try TukuProcess.executableURL().path
        let rejected = #"{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_MONETARY_AMOUNT","message":"bad","path":"/vatDueSales"}]}"#
        let (status, out, err) = try Self.shell("printf '%s' \"$2\" | \"$1\" decode --http-status 400 -", [tuku, rejected])
        #expect(status == 0, "\(err)")
        #expect(out.contains("error           /vatDueSales INVALID_MONETARY_AMOUNT: bad\n"))
        #expect(out.contains("outcome         rejected\n"))
        #expect(out.contains("jobError        gateway_rejected: HMRC HTTP 400 INVALID_REQUEST: Invalid request (vatDueSales: INVALID_MONETARY_AMOUNT: bad)"))
        let (_, filed, _) = try Self.shell(
            "printf '%s' '{\"processingDate\":\"2026-12-05T06:41:02Z\",\"formBundleNumber\":\"256660290587\"}' | \"$1\" decode --http-status 201 --header 'Receipt-ID: 2dd537bc-4244-4ebf-bac9-96321be13cdc' -",
            [tuku])
        #expect(filed.contains("receiptID       2dd537bc-4244-4ebf-bac9-96321be13cdc\n"))
        #expect(filed.contains("formBundle      256660290587\n"))
        #expect(filed.contains("outcome         succeeded\n"))
        let (_, duplicate, _) = try Self.shell(
            "printf '%s' '{\"code\":\"DUPLICATE_SUBMISSION\",\"message\":\"m\"}' | \"$1\" decode --http-status 403 -", [tuku])
        #expect(duplicate.contains("outcome         duplicateSubmission\n"))
        let (_, none, _) = try Self.shell(
            "printf '%s' '{\"code\":\"NOT_FOUND\",\"message\":\"m\"}' | \"$1\" decode --hmrc lookup --http-status 404 -", [tuku])
        #expect(none.contains("lookup          none"))
        let (_, periods, _) = try Self.shell(
            "printf '%s' '{\"obligations\":[{\"start\":\"2026-01-01\",\"end\":\"2026-03-31\",\"due\":\"2026-05-07\",\"status\":\"O\",\"periodKey\":\"26A1\"}]}' | \"$1\" decode --hmrc obligations --http-status 200 -",
            [tuku])
        #expect(periods.contains("obligation      26A1 O 2026-01-01…2026-03-31 due 2026-05-07\n"))
        #expect(!periods.contains("receiptID"))
        let (_, timeout, _) = try Self.shell("printf '' | \"$1\" decode --hmrc submit --http-status 504 -", [tuku])
        #expect(timeout.contains("outcome         outcomeUnknown\n"))
    }
}
