/// A person's name in parts (`NameMandatoryFirstNameType`, and `cmn:NamePersonType` for an account holder).
public struct EmployeeName: Codable, Sendable, Hashable {
    /// Title, 2–6 characters (e.g. `Ms`, `Dr`). Optional.
    public var nameTitle: String?
    /// First name, 1–100 characters. Required.
    public var nameFirst: String?
    /// Middle name(s), 1–100 characters. Optional.
    public var nameMiddle: String?
    /// Surname, 1–100 characters. Optional for an employee, required for a bank account holder.
    public var nameSurname: String?

    /// Creates a name.
    public init(nameTitle: String? = nil, nameFirst: String?, nameMiddle: String? = nil, nameSurname: String? = nil) {
        self.nameTitle = nameTitle
        self.nameFirst = nameFirst
        self.nameMiddle = nameMiddle
        self.nameSurname = nameSurname
    }

    func validate(at path: String, surnameRequired: Bool) -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.text(nameTitle, join(path, "nameTitle"), required: false, length: 2...6)
        problems.text(nameFirst, join(path, "nameFirst"), required: true, length: 1...100)
        problems.text(nameMiddle, join(path, "nameMiddle"), required: false, length: 1...100)
        problems.text(nameSurname, join(path, "nameSurname"), required: surnameRequired, length: 1...100)
        return problems.problems
    }
}
