/// Collects validation problems; each check records its problem and carries on.
struct ProblemCollector {
    private(set) var problems: [ValidationProblem] = []

    mutating func add(_ path: String, _ reason: String) {
        problems.append(ValidationProblem(path: path, reason: reason))
    }

    mutating func append(contentsOf other: [ValidationProblem]) {
        problems.append(contentsOf: other)
    }

    /// A required field: reports missing or invalid, returns the value when valid.
    @discardableResult
    mutating func required<Value>(_ field: Field<Value>, _ path: String) -> Value? {
        switch field {
        case .missing:
            add(path, "is required")
            return nil
        case .invalid(_, let reason):
            add(path, reason)
            return nil
        case .valid(let value):
            return value
        }
    }

    /// An optional field: reports only invalid text.
    @discardableResult
    mutating func optional<Value>(_ field: Field<Value>, _ path: String) -> Value? {
        if case .invalid(_, let reason) = field {
            add(path, reason)
        }
        return field.value
    }

    /// An IRD number field; `allowUnknown` says whether the all-zeros number is acceptable here.
    @discardableResult
    mutating func irdNumber(
        _ field: Field<IRDNumber>, _ path: String, required isRequired: Bool, allowUnknown: Bool
    ) -> IRDNumber? {
        let number = isRequired ? required(field, path) : optional(field, path)
        if let number, number.isUnknown, !allowUnknown {
            add(path, "must be a real IRD number; all zeros is only allowed for an employee whose number is unknown")
            return nil
        }
        return number
    }

    /// An amount field; `cmn:MoneyTypePositive` fields pass `allowNegative: false`.
    @discardableResult
    mutating func amount(
        _ field: Field<Money>, _ path: String, required isRequired: Bool = false, allowNegative: Bool
    ) -> Money? {
        let money = isRequired ? required(field, path) : optional(field, path)
        if let money, money.isNegative, !allowNegative {
            add(path, "must not be negative")
            return nil
        }
        return money
    }

    /// A text field: length in Unicode scalars (as XSD counts characters), no control characters.
    mutating func text(_ value: String?, _ path: String, required isRequired: Bool, length: ClosedRange<Int>) {
        guard let value else {
            if isRequired { add(path, "is required") }
            return
        }
        let count = value.unicodeScalars.count
        if isRequired, value.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
            add(path, "must not be empty")
            return
        }
        if count < length.lowerBound || count > length.upperBound {
            if length.lowerBound == length.upperBound {
                add(path, "must be exactly \(length.lowerBound) characters, found \(count)")
            } else {
                add(path, "must be \(length.lowerBound) to \(length.upperBound) characters, found \(count)")
            }
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            add(path, "must not contain control characters (tabs, line breaks, …)")
        } else if value.unicodeScalars.contains(where: {
            $0.properties.generalCategory == .unassigned
                || $0.properties.generalCategory == .privateUse || $0.value == 0xFFFE || $0.value == 0xFFFF
        }) {
            add(path, "must not contain unassigned or private-use characters")
        }
    }

    /// A field of ASCII digits whose count lies in `length`.
    mutating func digits(_ value: String?, _ path: String, required isRequired: Bool, length: ClosedRange<Int>) {
        guard let value else {
            if isRequired { add(path, "is required") }
            return
        }
        let count = value.unicodeScalars.count
        if !value.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) || !length.contains(count) {
            if length.lowerBound == length.upperBound {
                add(path, "must be exactly \(length.lowerBound) digits")
            } else {
                add(path, "must be \(length.lowerBound) to \(length.upperBound) digits")
            }
        }
    }

    /// An email address matching `cmn:EmailAddressType`'s pattern.
    mutating func email(_ value: String?, _ path: String) {
        guard let value else { return }
        if !EmailAddress.isAcceptable(value) {
            add(path, "must be an email address like name@example.co.nz")
        }
    }

    /// A date range: `end` must not be before `start`.
    mutating func order(_ start: CalendarDate?, _ end: CalendarDate?, _ endPath: String, _ reason: String) {
        if let start, let end, end < start {
            add(endPath, reason)
        }
    }
}

/// `base.key`, or `key` at the root.
func join(_ base: String, _ key: String) -> String {
    base.isEmpty ? key : base + "." + key
}

/// `base[index]`.
func join(_ base: String, _ index: Int) -> String {
    base + "[\(index)]"
}
