import Foundation
import FoundationXML
import Testing
import TukuGateway
import TukuIRD

@Suite("SOAP envelope builder")
struct SOAPEnvelopeBuilderTests {
    static let builder = SOAPEnvelopeBuilder(
        configuration: .init(
            softwareProvider: "Tuku & Co <NZ>", softwarePlatform: "tuku-linux", softwareRelease: "0.1.0"
        ))

    static func payload(_ kind: IRDJobKind, _ json: String) throws -> IRDJobPayload {
        try IRDJobPayload.decode(kind, from: Data(json.utf8))
    }

    /// The chain of {namespace}localName from the root down to the first element named `payload`.
    static func chain(_ data: Data, to payload: String) throws -> [String] {
        let document = try XMLDocument(data: data, options: [])
        var element = try #require(document.rootElement())
        var names: [String] = []
        while true {
            names.append("{\(element.uri ?? "")}\(element.localName ?? "")")
            if element.localName == payload { return names }
            let children = (element.children ?? []).compactMap { $0 as? XMLElement }
            let next = children.first { $0.localName != "Header" }
            element = try #require(next, "no path to \(payload)")
        }
    }

    static func action(_ data: Data) throws -> String? {
        let document = try XMLDocument(data: data, options: [])
        let root = try #require(document.rootElement())
        let header = root.elements(forLocalName: "Header", uri: IRDNamespace.soapEnvelope).first
        return header?.elements(forLocalName: "Action", uri: IRDNamespace.addressing).first?.stringValue
    }

    @Test(
        "each operation's body nests the same wrappers, in the same namespaces, as IRD's sample request",
        arguments: [
            ("body-ei-returnfile-request.xml", IRDJobKind.eiFile, "fileRequest"),
            ("body-ei-returnstatus-request.xml", IRDJobKind.eiStatus, "retrieveEIRequest"),
            ("body-employment-create-request.xml", IRDJobKind.edCreate, "createRequest"),
            ("body-employment-terminate-request.xml", IRDJobKind.edTerminate, "terminateRequest"),
        ])
    func matchesSampleStructure(sample: String, kind: IRDJobKind, payloadElement: String) throws {
        var generator = PayloadGenerator(seed: 99)
        let payload: IRDJobPayload =
            switch kind {
            case .eiFile: .eiFile(generator.eiFile(index: 3))
            case .eiStatus: .eiStatus(generator.eiStatus())
            case .edCreate: .edCreate(generator.edCreate())
            case .edUpdate: .edUpdate(generator.edUpdate())
            case .edTerminate: .edTerminate(generator.edTerminate())
            }
        let envelope = try Self.builder.envelope(for: payload)
        let sampleData = try ReferencePaths.sample(sample)
        #expect(try Self.chain(envelope.body, to: payloadElement) == Self.chain(sampleData, to: payloadElement))
        #expect(try Self.action(envelope.body) == Self.action(sampleData))
        #expect(envelope.contentType.hasPrefix("application/soap+xml; charset=utf-8; action=\""))
    }

    @Test("RetrieveReturn nests IRD's sample request's wrappers under its action, with a payload valid against ReturnEI.v2.xsd")
    func retrieveReturnEnvelope() throws {
        var generator = PayloadGenerator(seed: 7)
        let payloads = (0..<20).map { _ in generator.eiStatus() }
        let envelopes = try payloads.map { try Self.builder.retrieveReturn($0) }
        // IRD's only EI RetrieveReturn sample is in the v1 namespaces: the same chain, v1's payload element.
        let sample = try ReferencePaths.v1Sample("body-ei-retrievereturn-request.xml")
        let published = try Self.chain(sample, to: "retrieveEIRequest")
        #expect(published.last == "{\(IRDNamespace.returnEIV1)}retrieveEIRequest")
        for envelope in envelopes {
            let built = try Self.chain(envelope.body, to: "retrieveEIRequest")
            #expect(built.dropLast() == published.dropLast())
            #expect(built.last == "{\(IRDNamespace.returnEI)}retrieveEIRequest")
            #expect(try Self.action(envelope.body) == Self.action(sample))
            #expect(envelope.operation == .retrieveReturn)
        }
        let documents = try envelopes.map {
            try SchemaValidator.payloadDocument(of: $0.body, namespace: IRDNamespace.returnEI, localName: "retrieveEIRequest")
        }
        #expect(try SchemaValidator.failures(of: documents, against: ReferencePaths.returnEISchema).isEmpty)
        // The request is RetrieveStatus's, under other wrappers.
        let status = try Self.builder.retrieveReturnStatus(payloads[0])
        let statusRequest = try SchemaValidator.payloadDocument(
            of: status.body, namespace: IRDNamespace.returnEI, localName: "retrieveEIRequest")
        #expect(statusRequest == documents[0])
        #expect(GatewayOperation.retrieveReturn.requestMessageElement == "RetrieveReturnRequestMsg")
        #expect(GatewayOperation.retrieveReturn.responseAction == "https://services.ird.govt.nz/GWS/Returns/Return/RetrieveReturnResponse")
    }

    @Test("actions are exactly the WSDL soapAction URIs")
    func actions() {
        #expect(GatewayOperation.fileReturn.action == "https://services.ird.govt.nz/GWS/Returns/Return/File")
        #expect(
            GatewayOperation.retrieveReturnStatus.action
                == "https://services.ird.govt.nz/GWS/Returns/Return/RetrieveStatus")
        #expect(
            GatewayOperation.retrieveReturn.action
                == "https://services.ird.govt.nz/GWS/Returns/Return/RetrieveReturn")
        #expect(
            GatewayOperation.createEmployment.action
                == "https://services.ird.govt.nz/GWS/Employment/v2/Employment/Create")
        #expect(
            GatewayOperation.updateEmployment.action
                == "https://services.ird.govt.nz/GWS/Employment/v2/Employment/Update")
        #expect(
            GatewayOperation.terminateEmployment.action
                == "https://services.ird.govt.nz/GWS/Employment/v2/Employment/Terminate")
        #expect(
            GatewayOperation.updateEmployment.requestWrapperNamespace
                == "https://services.ird.govt.nz/GWS/Employment/v2/:types/UpdateRequest")
    }

    @Test("an employee line with every field has the element order of IRD's sample line")
    func employeeElementOrder() throws {
        let json = """
            {"employerIrdNumber":"123041607","payDayDate":"2018-04-10","isNilReturn":false,"lines":[
              {"referenceId":"9ea0bb55","irdNumber":"123028198","employeeName":"Keith Kalish","taxCode":"M",
               "payPeriodStartDate":"2018-04-01","payPeriodEndDate":"2018-04-10","employmentStartDate":"2017-12-01",
               "employeePayFrequency":"MT","grossEarnings":"1000.00","earningsNotLiableACC":"1001.00",
               "lumpSumIndicator":false,"payeSchedularTaxDeductions":"1002.00","childSupportCode":"C",
               "childSupportDeductions":"1003.00","studentLoansDeductions":"1004.00",
               "kiwisaverEmployerContributions":"1005.00","kiwisaverDeductions":"1006.00","essEarnings":"0",
               "slcirDeductions":"0","slborDeductions":"0","taxCreditPayrollDonations":"1007.00",
               "esctDeducted":"1008.00","familyTaxCredits":"1009.00","hoursPaid":"5","priorPeriodGrossAdjustment":"0",
               "priorPeriodPAYEAdjustment":"0"}]}
            """
        let envelope = try Self.builder.envelope(for: Self.payload(.eiFile, json))
        func lineNames(_ data: Data) throws -> [String] {
            let document = try XMLDocument(data: data, options: [])
            let root = try #require(document.rootElement())
            let employee = try #require(
                SchemaValidator.find(
                    in: root, namespace: IRDNamespace.returnEI, localName: "employee"
                ))
            return (employee.children ?? []).compactMap { ($0 as? XMLElement)?.localName }
        }
        #expect(try lineNames(envelope.body) == lineNames(ReferencePaths.sample("body-ei-returnfile-request.xml")))
    }

    @Test("text is escaped by libxml2 and reads back exactly, macrons and XML specials included")
    func escaping() throws {
        let name = "Tāne & \"Mere\" <O'Brien> Ōtautahi a\u{0304}"
        let line = EILine(
            referenceId: "<&>", irdNumber: .valid(.unknown), employeeName: name, taxCode: .valid(.nd),
            payPeriodStartDate: .valid(try CalendarDate("2024-05-01")),
            payPeriodEndDate: .valid(try CalendarDate("2024-05-15")), employeePayFrequency: .valid(.weekly)
        )
        let payload = EIFilePayload(
            employerIrdNumber: .valid(try IRDNumber("49091850")), payDayDate: .valid(try CalendarDate("2024-05-15")),
            isNilReturn: false, lines: [line]
        )
        let envelope = try Self.builder.fileReturn(payload)
        let text = String(decoding: envelope.body, as: UTF8.self)
        #expect(text.contains("Tāne &amp; "))
        #expect(text.contains("&lt;O'Brien&gt;"))
        #expect(text.contains("<ei:referenceId>&lt;&amp;&gt;</ei:referenceId>"))
        #expect(text.contains("Tuku &amp; Co &lt;NZ&gt;"))
        let document = try XMLDocument(data: envelope.body, options: [])
        let root = try #require(document.rootElement())
        let nameElement = try #require(
            SchemaValidator.find(
                in: root, namespace: IRDNamespace.returnEI, localName: "employeeName"
            ))
        #expect(nameElement.stringValue == name)
        let ird = try #require(SchemaValidator.find(in: root, namespace: IRDNamespace.returnEI, localName: "irdNumber"))
        #expect(ird.stringValue == "000000000")
    }

    @Test("the envelope carries the employer IRD number zero-padded, the period end and no credentials")
    func headerValues() throws {
        let json = #"{"employerIrdNumber":"49-091-850","payDayDate":"2024-02-10","isNilReturn":true}"#
        let text = String(decoding: try Self.builder.envelope(for: Self.payload(.eiFile, json)).body, as: UTF8.self)
        #expect(text.contains(#"<cmn:identifier IdentifierValueType="ACCIRD">049091850</cmn:identifier>"#))
        #expect(text.contains("<rc:periodEndDate>2024-02-29</rc:periodEndDate>"))
        #expect(text.contains("<rc:majorFormType>EI2</rc:majorFormType>"))
        #expect(text.contains("<rc:isNilReturn>true</rc:isNilReturn>"))
        #expect(text.contains("<cmn:accountType>EMP</cmn:accountType>"))
        #expect(!text.lowercased().contains("bearer"))
        #expect(!text.contains("Security"))
    }

    @Test("a payload with problems is refused with every problem, and nothing is built")
    func refusesInvalidPayloads() throws {
        let json = #"{"employerIrdNumber":"136410133","payDayDate":"2024-02-30"}"#
        let payload = try Self.payload(.eiFile, json)
        do {
            _ = try Self.builder.envelope(for: payload)
            Issue.record("built an envelope for an invalid payload")
        } catch {
            #expect(error.code == .invalidPayload)
            #expect(Set(error.problems.map(\.path)) == ["employerIrdNumber", "payDayDate", "isNilReturn"])
        }
    }

    @Test("a software identification outside IRD's limits is refused")
    func refusesBadConfiguration() throws {
        let builder = SOAPEnvelopeBuilder(
            configuration: .init(
                softwareProvider: "", softwarePlatform: String(repeating: "p", count: 51), softwareRelease: "1"
            ))
        let json = #"{"employerIrdNumber":"49091850","payDayDate":"2024-02-10","isNilReturn":true}"#
        #expect(throws: GatewayError.self) { try builder.envelope(for: Self.payload(.eiFile, json)) }
        #expect(
            builder.configurationProblems().map(\.path)
                == ["configuration.softwareProvider", "configuration.softwarePlatform"])
    }
}
