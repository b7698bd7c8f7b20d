import FoundationXML

extension XMLElement {
    /// Whether this element has the namespace URI and local name.
    func matches(_ namespace: String, _ localName: String) -> Bool {
        uri == namespace && self.localName == localName
    }

    /// Child elements with this namespace URI and local name.
    func elements(_ namespace: String, _ localName: String) -> [XMLElement] {
        (children ?? []).compactMap { $0 as? XMLElement }.filter { $0.matches(namespace, localName) }
    }

    /// The first child element with this namespace URI and local name.
    func element(_ namespace: String, _ localName: String) -> XMLElement? {
        for case let child as XMLElement in children ?? [] where child.matches(namespace, localName) {
            return child
        }
        return nil
    }

    /// The trimmed text of the first child element with this namespace URI and local name.
    func text(_ namespace: String, _ localName: String) -> String? {
        element(namespace, localName)?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every child element, in document order.
    var childElements: [XMLElement] { (children ?? []).compactMap { $0 as? XMLElement } }

    /// Every descendant element with this namespace URI and local name, in document order.
    func descendants(_ namespace: String, _ localName: String) -> [XMLElement] {
        var found: [XMLElement] = []
        for child in childElements {
            if child.matches(namespace, localName) { found.append(child) }
            found += child.descendants(namespace, localName)
        }
        return found
    }

    /// The value of an unprefixed attribute, matched by its name (reading `localName` or `uri` of attribute nodes
    /// crashes intermittently in swift-corelibs-foundation).
    func plainAttribute(_ name: String) -> String? {
        for attribute in attributes ?? [] where attribute.name == name {
            return attribute.stringValue
        }
        return nil
    }

    /// This element's content re-serialised with every element as `prefix:localName` (all of them in one namespace,
    /// which the caller declares for `prefix`), text escaped, whitespace-only text between elements dropped. Used to
    /// store an EI return's `formFields` (all in the ReturnEI namespace once the body passed the XSDs) and answer
    /// them again in a RetrieveReturn response, whatever prefixes the filer chose.
    func contentXML(prefix: String, skipping skipped: Set<String> = []) -> String {
        var out = ""
        for node in children ?? [] {
            if let element = node as? XMLElement {
                let name = element.localName ?? element.name ?? ""
                if skipped.contains(name) { continue }
                let inner = element.contentXML(prefix: prefix)
                out += inner.isEmpty ? "<\(prefix):\(name)/>" : "<\(prefix):\(name)>\(inner)</\(prefix):\(name)>"
            } else if node.kind == .text, let text = node.stringValue,
                !text.allSatisfy({ $0.isWhitespace }) || childElements.isEmpty
            {
                out += SOAPResponseWriter.escape(text)
            }
        }
        return out
    }
}
