import Foundation
import PackagePlugin

/// Embeds the repository's operator-facing files into the target that applies them.
///
/// `TukuPostgres` gets every file under `sql/` (migrations and dashboards); `TukuFiling` gets every
/// file under `jobs/` (job kind definitions and examples); `TukuSandbox` gets IRD's XSDs under `sandbox/ird-schemas/`. The binary therefore applies the very files a
/// DBA reads in the repository, never a copy that can drift.
@main
struct TukuEmbedPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let folder: String
        let typeName: String
        switch target.name {
        case "TukuPostgres":
            folder = "sql"
            typeName = "EmbeddedSQL"
        case "TukuFiling":
            folder = "jobs"
            typeName = "EmbeddedJobKinds"
        case "TukuSandbox":
            folder = "sandbox/ird-schemas"
            typeName = "EmbeddedIRDSchemas"
        default:
            return []
        }
        let root = context.package.directoryURL.appending(path: folder)
        let files = Self.files(under: root)
        let output = context.pluginWorkDirectoryURL.appending(path: "\(typeName).swift")
        var arguments = [typeName, output.path(percentEncoded: false)]
        for file in files {
            let relative = String(file.path(percentEncoded: false).dropFirst(root.path(percentEncoded: false).count))
                .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            arguments.append(relative)
            arguments.append(file.path(percentEncoded: false))
        }
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) files from \(folder)/ into \(target.name)",
                executable: try context.tool(named: "tuku-embed").url,
                arguments: arguments,
                inputFiles: files + [root],
                outputFiles: [output]
            )
        ]
    }

    private static func files(under root: URL) -> [URL] {
        guard
            let enumerator = FileManager.default.enumerator(
                at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]
            )
        else { return [] }
        var result: [URL] = []
        for case let url as URL in enumerator {
            let isFile = (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) ?? false
            if isFile { result.append(url) }
        }
        return result.sorted { $0.path < $1.path }
    }
}
