extension EIFilePayload {
    /// The most lines IRD accepts in one return (`employeeFields/employee maxOccurs`).
    public static let maximumLines = 1_000_000

    /// Every problem that would make IRD reject this return or make its body fail `ReturnEI.v2.xsd`.
    ///
    /// Checks: IRD numbers (range, mod-11; all zeros only on lines), dates, the payday inside the period's month
    /// (IRD code 161) and the period ending on a month end, nil return ⇔ no lines (136), required and unique line
    /// `referenceId`s (131, 137), tax codes and pay frequencies from IRD's lists (171, 174), pay period order (163),
    /// amounts (two decimals, non-negative except prior-period adjustments), totals within range, text lengths.
    public func validate() -> [ValidationProblem] {
        var problems = ProblemCollector()
        problems.irdNumber(employerIrdNumber, "employerIrdNumber", required: true, allowUnknown: false)
        problems.optional(accountType, "accountType")
        let payDay = problems.required(payDayDate, "payDayDate")
        if let periodEnd = problems.optional(periodEndDate, "periodEndDate") {
            if periodEnd != periodEnd.lastDayOfMonth {
                problems.add("periodEndDate", "must be the last day of a month (EI filing periods are calendar months)")
            }
            if let payDay, !payDay.isInSameMonth(as: periodEnd) {
                problems.add("payDayDate", "must be in the same month as periodEndDate (IRD code 161)")
            }
        }

        let lines = lines ?? []
        switch isNilReturn {
        case nil:
            problems.add("isNilReturn", "is required")
        case true? where !lines.isEmpty:
            problems.add("isNilReturn", "must be false when there are lines")
        case false? where lines.isEmpty:
            problems.add("isNilReturn", "must be true when there are no lines (IRD code 136)")
        default:
            break
        }

        if let amendment {
            problems.append(contentsOf: amendment.validate(at: "amendment"))
        }
        problems.irdNumber(piIrdNumber, "piIrdNumber", required: false, allowUnknown: false)
        problems.text(contactName, "contactName", required: false, length: 1...20)
        problems.text(contactPhoneNumber, "contactPhoneNumber", required: false, length: 4...12)
        problems.email(contactEmail, "contactEmail")

        if lines.count > Self.maximumLines {
            problems.add("lines", "must have at most \(Self.maximumLines) lines, found \(lines.count)")
        }
        var firstLineForReference: [String: Int] = [:]
        for (index, line) in lines.enumerated() {
            let path = join("lines", index)
            problems.append(contentsOf: line.validate(at: path))
            if let referenceId = line.referenceId {
                if let first = firstLineForReference[referenceId] {
                    problems.add(
                        join(path, "referenceId"),
                        "duplicates lines[\(first)].referenceId; each line needs its own (IRD code 131)"
                    )
                } else {
                    firstLineForReference[referenceId] = index
                }
            }
        }

        if let totals {
            for (key, field, allowsNegative) in totals.orderedFields {
                problems.amount(field, join("totals", key), allowNegative: allowsNegative)
            }
        } else if EITotals(summing: lines) == nil {
            problems.add("lines", "the sum of an amount over all lines exceeds IRD's money range")
        }
        return problems.problems
    }
}

extension EIAmendment {
    /// The largest `submissionKey` IRD issues (`cmn:Quantity32TypePositive`).
    public static let maximumSubmissionKey: Int64 = 2_147_483_647

    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        if let submissionKey {
            if !(0...Self.maximumSubmissionKey).contains(submissionKey) {
                problems.add(join(path, "submissionKey"), "must be 0 to \(Self.maximumSubmissionKey)")
            }
        } else {
            problems.add(join(path, "submissionKey"), "is required to amend a return")
        }
        problems.required(amendReason, join(path, "amendReason"))
        problems.text(amendDetails, join(path, "amendDetails"), required: false, length: 0...1000)
        return problems.problems
    }
}

extension EILine {
    func validate(at path: String) -> [ValidationProblem] {
        var problems = ProblemCollector()
        if referenceId == nil {
            problems.add(join(path, "referenceId"), "is required (IRD code 137)")
        } else {
            problems.text(referenceId, join(path, "referenceId"), required: true, length: 1...50)
        }
        problems.irdNumber(irdNumber, join(path, "irdNumber"), required: true, allowUnknown: true)
        problems.text(employeeName, join(path, "employeeName"), required: true, length: 1...255)
        problems.required(taxCode, join(path, "taxCode"))
        let start = problems.required(payPeriodStartDate, join(path, "payPeriodStartDate"))
        let end = problems.required(payPeriodEndDate, join(path, "payPeriodEndDate"))
        problems.order(start, end, join(path, "payPeriodEndDate"), "must not be before payPeriodStartDate (IRD code 163)")
        let employmentStart = problems.optional(employmentStartDate, join(path, "employmentStartDate"))
        let employmentFinish = problems.optional(employmentFinishDate, join(path, "employmentFinishDate"))
        problems.order(
            employmentStart, employmentFinish, join(path, "employmentFinishDate"),
            "must not be before employmentStartDate"
        )
        problems.required(employeePayFrequency, join(path, "employeePayFrequency"))
        problems.optional(childSupportCode, join(path, "childSupportCode"))
        for (key, field) in positiveAmounts {
            problems.amount(field, join(path, key), allowNegative: false)
        }
        problems.amount(priorPeriodGrossAdjustment, join(path, "priorPeriodGrossAdjustment"), allowNegative: true)
        problems.amount(priorPeriodPAYEAdjustment, join(path, "priorPeriodPAYEAdjustment"), allowNegative: true)
        return problems.problems
    }
}
