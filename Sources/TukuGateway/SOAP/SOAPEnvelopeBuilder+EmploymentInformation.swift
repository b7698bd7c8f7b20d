import FoundationXML
import TukuIRD

extension SOAPEnvelopeBuilder {
    /// The major form type of EI v2 returns.
    static let eiMajorFormType = "EI2"

    /// Returns service `File` with an EI v2 `fileRequest`.
    public func fileReturn(_ payload: EIFilePayload) throws(GatewayError) -> SOAPEnvelope {
        try check(payload.validate())
        guard let periodEnd = payload.effectivePeriodEndDate, let totals = payload.effectiveTotals else {
            preconditionFailure("validated EI payload has no period end date or totals")
        }
        let request = XMLElement(prefix: "ei", "fileRequest", declaring: IRDNamespace.returnEI)
        request.declare("rc", IRDNamespace.returnCommon)
        request.declare("cmn", IRDNamespace.common)
        request.declare("xsi", IRDNamespace.schemaInstance)

        // rc:FileHeaderType = cmn:HeaderType + periodEndDate, majorFormType, minorFormType?
        let header = request.appendElement("rc:fileHeader")
        appendHeaderFields(
            to: header, employer: required(payload.employerIrdNumber, "employerIrdNumber"),
            accountType: payload.accountType.value
        )
        header.append("rc:periodEndDate", periodEnd.description)
        header.append("rc:majorFormType", Self.eiMajorFormType)

        // rc:FileBodyType = standardFields, formFields
        let body = request.appendElement("rc:fileBody")
        let standard = body.appendElement("rc:standardFields")
        standard.append("rc:isNilReturn", payload.isNilReturn ?? (payload.lines ?? []).isEmpty)
        standard.append("rc:isFinalReturn", payload.isFinalReturn ?? false)
        let amendmentRequest = standard.appendElement("rc:amendmentRequest")
        amendmentRequest.append("rc:isAmended", payload.amendment != nil)
        amendmentRequest.append("rc:amendReason", payload.amendment?.amendReason.value?.rawValue ?? "")
        amendmentRequest.append("rc:amendDetails", payload.amendment?.amendDetails ?? "")

        let form = body.appendElement("rc:formFields")
        form.addAttribute(XMLNode.attribute(withName: "xsi:type", stringValue: "ei:FormFieldsType") as! XMLNode)
        if let amendment = payload.amendment {
            form.append("ei:submissionKey", amendment.submissionKey.map(String.init))
            form.append("ei:isReverseReplace", amendment.isReverseReplace ?? false)
        }
        form.append("ei:payDayDate", payload.payDayDate)
        form.append("ei:piIrdNumber", payload.piIrdNumber.value?.wireForm)
        form.append("ei:contactName", payload.contactName)
        form.append("ei:contactPhoneNumber", payload.contactPhoneNumber)
        form.append("ei:contactEmail", payload.contactEmail)
        let employees = form.appendElement("ei:employeeFields")
        for line in payload.lines ?? [] {
            employees.addChild(employeeElement(line))
        }
        for (key, field, _) in totals.orderedFields {
            form.append("ei:\(key)", field)
        }
        return envelope(.fileReturn, payload: request)
    }

    /// Returns service `RetrieveStatus` with an EI v2 `retrieveEIRequest`.
    public func retrieveReturnStatus(_ payload: EIStatusPayload) throws(GatewayError) -> SOAPEnvelope {
        envelope(.retrieveReturnStatus, payload: try retrieveEIRequest(payload))
    }

    /// Returns service `RetrieveReturn` with an EI v2 `retrieveEIRequest` (EI build pack §3.3): the returns filed for
    /// the payday, or only the one with the payload's submission key. The request is the RetrieveStatus one.
    public func retrieveReturn(_ payload: EIStatusPayload) throws(GatewayError) -> SOAPEnvelope {
        envelope(.retrieveReturn, payload: try retrieveEIRequest(payload))
    }

    /// `ei:retrieveEIRequest`, shared by RetrieveStatus and RetrieveReturn.
    private func retrieveEIRequest(_ payload: EIStatusPayload) throws(GatewayError) -> XMLElement {
        try check(payload.validate())
        guard let periodEnd = payload.effectivePeriodEndDate else {
            preconditionFailure("validated EI status payload has no period end date")
        }
        // ei:RetrieveEIRequestType = rc:FormInfoRequestType (cmn:HeaderType + periodEndDate, majorFormType?,
        // minorFormType?, submissionKey?) + payDayDate, submissionKey?
        let request = XMLElement(prefix: "ei", "retrieveEIRequest", declaring: IRDNamespace.returnEI)
        request.declare("rc", IRDNamespace.returnCommon)
        request.declare("cmn", IRDNamespace.common)
        appendHeaderFields(
            to: request, employer: required(payload.employerIrdNumber, "employerIrdNumber"),
            accountType: payload.accountType.value
        )
        request.append("rc:periodEndDate", periodEnd.description)
        request.append("rc:majorFormType", Self.eiMajorFormType)
        request.append("ei:payDayDate", payload.payDayDate)
        request.append("ei:submissionKey", payload.submissionKey.map(String.init))
        return request
    }

    /// One `ei:employee` (`EmployeeInfoType`), in schema order.
    private func employeeElement(_ line: EILine) -> XMLElement {
        let employee = XMLElement(name: "ei:employee")
        employee.append("ei:referenceId", line.referenceId)
        employee.append("ei:irdNumber", required(line.irdNumber, "irdNumber").wireForm)
        employee.append("ei:employeeName", line.employeeName)
        employee.append("ei:taxCode", line.taxCode)
        employee.append("ei:payPeriodStartDate", line.payPeriodStartDate)
        employee.append("ei:payPeriodEndDate", line.payPeriodEndDate)
        employee.append("ei:employmentStartDate", line.employmentStartDate)
        employee.append("ei:employmentFinishDate", line.employmentFinishDate)
        employee.append("ei:employeePayFrequency", line.employeePayFrequency)
        employee.append("ei:grossEarnings", line.grossEarnings)
        employee.append("ei:earningsNotLiableACC", line.earningsNotLiableACC)
        employee.append("ei:lumpSumIndicator", line.lumpSumIndicator)
        employee.append("ei:payeSchedularTaxDeductions", line.payeSchedularTaxDeductions)
        employee.append("ei:childSupportCode", line.childSupportCode)
        employee.append("ei:childSupportDeductions", line.childSupportDeductions)
        employee.append("ei:studentLoansDeductions", line.studentLoansDeductions)
        employee.append("ei:kiwisaverEmployerContributions", line.kiwisaverEmployerContributions)
        employee.append("ei:kiwisaverDeductions", line.kiwisaverDeductions)
        employee.append("ei:essEarnings", line.essEarnings)
        employee.append("ei:slcirDeductions", line.slcirDeductions)
        employee.append("ei:slborDeductions", line.slborDeductions)
        employee.append("ei:taxCreditPayrollDonations", line.taxCreditPayrollDonations)
        employee.append("ei:esctDeducted", line.esctDeducted)
        employee.append("ei:familyTaxCredits", line.familyTaxCredits)
        employee.append("ei:hoursPaid", line.hoursPaid)
        employee.append("ei:priorPeriodGrossAdjustment", line.priorPeriodGrossAdjustment)
        employee.append("ei:priorPeriodPAYEAdjustment", line.priorPeriodPAYEAdjustment)
        return employee
    }
}
