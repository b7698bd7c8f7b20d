import ArgumentParser
import Foundation
import TukuCore

/// How the gateway options read their settings: an option wins over its environment variable; empty counts as
/// unset. Secrets come only from the environment, from a file (a mounted secret) before the variable itself.
enum EnvironmentValues {
    /// `option` if given, else the variable `variable`, else `nil`.
    static func value(_ option: String?, _ variable: String) -> String? {
        if let option, !option.isEmpty { return option }
        if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty { return value }
        return nil
    }

    /// The secret in the file named by `\(variable)_FILE` (trimmed), else in `variable`. `what` names it in the
    /// error, which never holds the secret.
    static func secret(_ variable: String, what: String) throws -> Secret {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["\(variable)_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read \(variable)_FILE")
            }
            return Secret(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let secret = environment[variable], !secret.isEmpty else {
            throw ValidationError("no \(what): set \(variable)_FILE or \(variable)")
        }
        return Secret(secret)
    }
}
