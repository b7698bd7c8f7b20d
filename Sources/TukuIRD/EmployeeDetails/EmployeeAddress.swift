/// An employee's address (`cmn:OpenAddressType`): exactly one of the three forms.
public struct EmployeeAddress: Codable, Sendable, Hashable {
    /// A New Zealand address in NZ Post form.
    public var nzPostAddress: NZPostAddress?
    /// An address outside New Zealand.
    public var foreignAddress: ForeignAddress?
    /// A single free-format line, 1–250 characters (IRD accepts this "for a limited time").
    public var freeFormAddress: String?

    /// Creates an address; set exactly one form.
    public init(
        nzPostAddress: NZPostAddress? = nil, foreignAddress: ForeignAddress? = nil, freeFormAddress: String? = nil
    ) {
        self.nzPostAddress = nzPostAddress
        self.foreignAddress = foreignAddress
        self.freeFormAddress = freeFormAddress
    }

    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        let forms = [nzPostAddress != nil, foreignAddress != nil, freeFormAddress != nil].filter { $0 }.count
        if forms != 1 {
            problems.add(path, "must have exactly one of nzPostAddress, foreignAddress, freeFormAddress")
        }
        if let nzPostAddress {
            let base = join(path, "nzPostAddress")
            problems.append(contentsOf: nzPostAddress.street.validate(at: base))
            problems.text(nzPostAddress.townCity, join(base, "townCity"), required: true, length: 1...50)
            problems.digits(nzPostAddress.postCode, join(base, "postCode"), required: true, length: 4...4)
        }
        if let foreignAddress {
            let base = join(path, "foreignAddress")
            problems.append(contentsOf: foreignAddress.street.validate(at: base))
            problems.text(foreignAddress.townCity, join(base, "townCity"), required: true, length: 1...50)
            problems.text(foreignAddress.stateProvince, join(base, "stateProvince"), required: true, length: 2...4)
            problems.text(foreignAddress.country, join(base, "country"), required: true, length: 3...3)
        }
        problems.text(freeFormAddress, join(path, "freeFormAddress"), required: false, length: 1...250)
        return problems.problems
    }
}

/// The street part shared by NZ Post and foreign addresses, with an optional unit.
public struct StreetAddress: Codable, Sendable, Hashable {
    /// Street number, 1–8 characters (e.g. `24C`, `2/46`). Required.
    public var streetNumber: String?
    /// Street name, 1–50 characters. Required.
    public var streetName: String?
    /// Unit type, 1–15 characters (e.g. `Flat`). Optional; needs `unitNumber`.
    public var unitType: String?
    /// Unit number, 1–15 characters. Optional; needs `unitType`.
    public var unitNumber: String?

    /// Creates a street address.
    public init(streetNumber: String?, streetName: String?, unitType: String? = nil, unitNumber: String? = nil) {
        self.streetNumber = streetNumber
        self.streetName = streetName
        self.unitType = unitType
        self.unitNumber = unitNumber
    }

    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.text(streetNumber, join(path, "streetNumber"), required: true, length: 1...8)
        problems.text(streetName, join(path, "streetName"), required: true, length: 1...50)
        let hasUnit = unitType != nil || unitNumber != nil
        problems.text(unitType, join(path, "unitType"), required: hasUnit, length: 1...15)
        problems.text(unitNumber, join(path, "unitNumber"), required: hasUnit, length: 1...15)
        return problems.problems
    }
}

/// A New Zealand address (`cmn:NZPostAddressType`); the country is always `NZL`.
public struct NZPostAddress: Codable, Sendable, Hashable {
    /// Street and unit.
    public var street: StreetAddress
    /// Town or city, 1–50 characters. Required.
    public var townCity: String?
    /// Four-digit post code. Required.
    public var postCode: String?

    /// Creates an address.
    public init(street: StreetAddress, townCity: String?, postCode: String?) {
        self.street = street
        self.townCity = townCity
        self.postCode = postCode
    }
}

/// An address outside New Zealand (`cmn:ForeignAddressType`).
public struct ForeignAddress: Codable, Sendable, Hashable {
    /// Street and unit.
    public var street: StreetAddress
    /// Town or city, 1–50 characters. Required.
    public var townCity: String?
    /// State or province, 2–4 characters. Required.
    public var stateProvince: String?
    /// ISO 3166 alpha-3 country code. Required.
    public var country: String?

    /// Creates an address.
    public init(street: StreetAddress, townCity: String?, stateProvince: String?, country: String?) {
        self.street = street
        self.townCity = townCity
        self.stateProvince = stateProvince
        self.country = country
    }
}
