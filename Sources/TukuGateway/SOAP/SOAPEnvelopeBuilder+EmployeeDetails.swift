import FoundationXML
import TukuIRD

extension SOAPEnvelopeBuilder {
    /// Employment service v2 `Create` with a `createRequest`.
    public func createEmployment(_ payload: EDCreatePayload) throws(GatewayError) -> SOAPEnvelope {
        try check(payload.validate())
        let request = employmentRequest(
            "createRequest", employer: payload.employerIrdNumber, accountType: payload.accountType
        )
        // CreateBodyType, in schema order.
        let body = request.appendElement("ed:createBody")
        body.append("ed:employeeIRD", required(payload.employeeIrdNumber, "employeeIrdNumber").wireForm)
        appendName(payload.employeeName, as: "ed:employeeName", childPrefix: "ed", to: body)
        body.append("ed:employeeNameOnEILine", payload.employeeNameOnEILine)
        appendTaxCodes(payload.taxCodes, to: body)
        body.append("ed:employmentStartDate", payload.employmentStartDate)
        body.append("ed:employmentFinishDate", payload.employmentFinishDate)
        body.append("ed:employeeDateOfBirth", payload.employeeDateOfBirth)
        appendContactDetails(
            address: payload.employeeAddress, email: payload.employeeEmailAddress,
            mobile: payload.employeeMobilePhoneNumber, day: payload.employeeDayPhoneNumber, to: body
        )
        body.append("ed:kiwiSaverStatus", payload.kiwiSaverStatus)
        body.append("ed:employeeKiwiSaverEligibility", payload.employeeKiwiSaverEligibility)
        body.append("ed:employeeExemptIncome", payload.employeeExemptIncome)
        return envelope(.createEmployment, payload: request)
    }

    /// Employment service v2 `Update` with an `updateRequest`.
    public func updateEmployment(_ payload: EDUpdatePayload) throws(GatewayError) -> SOAPEnvelope {
        try check(payload.validate())
        guard let identifier = payload.employeeIdentifier else {
            preconditionFailure("validated ED update payload has no employeeIdentifier")
        }
        let request = employmentRequest(
            "updateRequest", employer: payload.employerIrdNumber, accountType: payload.accountType
        )
        appendIdentifier(identifier, to: request)
        // UpdateBodyType, in schema order.
        let body = request.appendElement("ed:updateBody")
        body.append("ed:employeeIRD", required(payload.employeeIrdNumber, "employeeIrdNumber").wireForm)
        appendName(payload.employeeName, as: "ed:employeeName", childPrefix: "ed", to: body)
        body.append("ed:employeeNameOnEILine", payload.employeeNameOnEILine)
        body.append("ed:employmentStartDate", payload.employmentStartDate)
        body.append("ed:employeeDateOfBirth", payload.employeeDateOfBirth)
        appendTaxCodes(payload.taxCodes, to: body)
        appendContactDetails(
            address: payload.employeeAddress, email: payload.employeeEmailAddress,
            mobile: payload.employeeMobilePhoneNumber, day: payload.employeeDayPhoneNumber, to: body
        )
        body.append("ed:employeeKiwiSaverEligibility", payload.employeeKiwiSaverEligibility)
        body.append("ed:optedOut", payload.optedOut)
        if let account = payload.employeeBankAccountNumber {
            let bank = body.appendElement("ed:employeeBankAccountNumber").appendElement("cmn:nzBankStandard")
            bank.append("cmn:bank", account.bank)
            bank.append("cmn:branch", account.branch)
            bank.append("cmn:account", account.wireAccount)
            bank.append("cmn:suffix", account.wireSuffix)
        }
        // accountHolderName is cmn:NamePersonType, so its parts are in the Common namespace.
        appendName(payload.accountHolderName, as: "ed:accountHolderName", childPrefix: "cmn", to: body)
        body.append("ed:optedOutSignatureDate", payload.optedOutSignatureDate)
        body.append("ed:validRelationship", payload.validRelationship)
        body.append("ed:lateOptOutReason", payload.lateOptOutReason)
        body.append("ed:otherLateOptOutReason", payload.otherLateOptOutReason)
        return envelope(.updateEmployment, payload: request)
    }

    /// Employment service v2 `Terminate` with a `terminateRequest`.
    public func terminateEmployment(_ payload: EDTerminatePayload) throws(GatewayError) -> SOAPEnvelope {
        try check(payload.validate())
        guard let identifier = payload.employeeIdentifier else {
            preconditionFailure("validated ED terminate payload has no employeeIdentifier")
        }
        let request = employmentRequest(
            "terminateRequest", employer: payload.employerIrdNumber, accountType: payload.accountType
        )
        appendIdentifier(identifier, to: request)
        request.appendElement("ed:terminateBody").append("ed:employmentFinishDate", payload.employmentFinishDate)
        return envelope(.terminateEmployment, payload: request)
    }

    // MARK: - Parts

    /// `ed:<name>` declaring the Employment and Common namespaces, with its `ed:header`.
    private func employmentRequest(
        _ name: String, employer: Field<IRDNumber>, accountType: Field<EmployerAccountType>
    ) -> XMLElement {
        let request = XMLElement(prefix: "ed", name, declaring: IRDNamespace.employment)
        request.declare("cmn", IRDNamespace.common)
        let header = request.appendElement("ed:header")
        appendHeaderFields(to: header, employer: required(employer, "employerIrdNumber"), accountType: accountType.value)
        return request
    }

    /// `ed:employeeIdentifier` (`EmployeeIdentifierType`).
    private func appendIdentifier(_ identifier: EmployeeIdentifier, to parent: XMLElement) {
        let element = parent.appendElement("ed:employeeIdentifier")
        element.append("ed:employeeIRD", required(identifier.employeeIrdNumber, "employeeIrdNumber").wireForm)
        element.append("ed:employeeNameOnEILine", identifier.employeeNameOnEILine)
        element.append("ed:employeeDateOfBirth", identifier.employeeDateOfBirth)
        element.append("ed:employmentStartDate", identifier.employmentStartDate)
    }

    /// A name: title?, first, surname?, middle? — the schemas' order, which puts the surname before the middle name.
    private func appendName(_ name: EmployeeName?, as elementName: String, childPrefix: String, to parent: XMLElement) {
        guard let name else { return }
        let element = parent.appendElement(elementName)
        element.append("\(childPrefix):nameTitle", name.nameTitle)
        element.append("\(childPrefix):nameFirst", name.nameFirst)
        element.append("\(childPrefix):nameSurname", name.nameSurname)
        element.append("\(childPrefix):nameMiddle", name.nameMiddle)
    }

    private func appendTaxCodes(_ codes: [Field<TaxCode>]?, to parent: XMLElement) {
        let element = parent.appendElement("ed:taxCodes")
        for code in codes ?? [] {
            element.append("ed:taxCode", code)
        }
    }

    private func appendContactDetails(
        address: EmployeeAddress?, email: String?, mobile: PhoneNumber?, day: PhoneNumber?, to parent: XMLElement
    ) {
        if let address {
            let element = parent.appendElement("ed:employeeAddress")
            if let nz = address.nzPostAddress {
                let form = element.appendElement("cmn:nzPostAddress")
                appendStreet(nz.street, to: form)
                form.append("cmn:townCity", nz.townCity)
                form.append("cmn:postCode", nz.postCode)
                form.append("cmn:country", "NZL")
            } else if let foreign = address.foreignAddress {
                let form = element.appendElement("cmn:foreignAddress")
                appendStreet(foreign.street, to: form)
                form.append("cmn:townCity", foreign.townCity)
                form.append("cmn:stateProvince", foreign.stateProvince)
                form.append("cmn:country", foreign.country)
            } else {
                element.append("cmn:freeFormAddress", address.freeFormAddress)
            }
        }
        parent.append("ed:employeeEmailAddress", email)
        appendPhone(mobile, as: "ed:employeeMobilePhoneNumber", to: parent)
        appendPhone(day, as: "ed:employeeDayPhoneNumber", to: parent)
    }

    private func appendStreet(_ street: StreetAddress, to parent: XMLElement) {
        let streetElement = parent.appendElement("cmn:streetAddress")
        streetElement.append("cmn:streetNumber", street.streetNumber)
        streetElement.append("cmn:streetName", street.streetName)
        if street.unitType != nil || street.unitNumber != nil {
            let unit = parent.appendElement("cmn:unit")
            unit.append("cmn:type", street.unitType)
            unit.append("cmn:number", street.unitNumber)
        }
    }

    private func appendPhone(_ phone: PhoneNumber?, as name: String, to parent: XMLElement) {
        guard let phone else { return }
        let element = parent.appendElement(name)
        element.append("cmn:phoneType", phone.phoneType)
        element.append("cmn:country", phone.country)
        element.append("cmn:areaCode", phone.areaCode)
        element.append("cmn:number", phone.number)
        element.append("cmn:extension", phone.extension)
    }
}
