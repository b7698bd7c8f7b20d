/// The email address rule of IRD's `cmn:EmailAddressType`:
/// `[a-zA-Z0-9._!#$%*+=?^`{|}~/&'-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]+`, matched against the whole text.
enum EmailAddress {
    private static let localCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._!#$%*+=?^`{|}~/&'-".unicodeScalars
    )
    private static let domainCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-".unicodeScalars
    )

    static func isAcceptable(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        guard let at = scalars.firstIndex(of: "@"), at > 0 else { return false }
        let local = scalars[..<at]
        let domain = scalars[(at + 1)...]
        guard local.allSatisfy(localCharacters.contains), domain.allSatisfy(domainCharacters.contains),
            let dot = domain.lastIndex(of: "."), dot > domain.startIndex
        else { return false }
        let tld = domain[(dot + 1)...]
        return !tld.isEmpty && tld.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
    }
}
