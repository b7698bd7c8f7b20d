import Foundation

/// Finds the keys of a payload's JSON that its model does not know.
///
/// Synthesised `Decodable` ignores keys it has no property for, so a misspelt optional key (say
/// `kiwisaverDeduction` for `kiwisaverDeductions`) would decode, validate, and silently leave an amount out of a
/// filing. The payload is encoded again and every key of the submitted JSON must be found at the same place in
/// the result. A key whose value is `null` is not reported: it carries nothing that could be lost.
enum UnknownKeys {
    static func problems(in json: Data, decodedAs payload: IRDJobPayload) -> [ValidationProblem] {
        let submitted: Any
        let known: Any
        do {
            submitted = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
            known = try JSONSerialization.jsonObject(with: try payload.encoded(), options: [.fragmentsAllowed])
        } catch {
            // Decoding succeeded, so neither can really fail; should one, do not file what could not be checked.
            return [ValidationProblem(path: "", reason: "could not be checked for keys the payload model does not know")]
        }
        var problems: [ValidationProblem] = []
        Self.compare(submitted, known, path: "", into: &problems)
        return problems.sorted { $0.path < $1.path }
    }

    /// Reports keys of `submitted` missing from `known`, descending only where both hold an object (or both an
    /// array): a field given an object where a string belongs is already reported by validation.
    private static func compare(_ submitted: Any, _ known: Any, path: String, into problems: inout [ValidationProblem]) {
        if let object = submitted as? [String: Any] {
            guard let knownObject = known as? [String: Any] else { return }
            for (key, child) in object where !(child is NSNull) {
                let childPath = join(path, key)
                guard let knownChild = knownObject[key] else {
                    problems.append(
                        ValidationProblem(path: childPath, reason: "is not a field of this payload; it would be left out of the filing"))
                    continue
                }
                compare(child, knownChild, path: childPath, into: &problems)
            }
        } else if let array = submitted as? [Any], let knownArray = known as? [Any] {
            for (index, child) in array.enumerated() where index < knownArray.count {
                compare(child, knownArray[index], path: join(path, index), into: &problems)
            }
        }
    }
}
