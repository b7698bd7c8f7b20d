import ArgumentParser

/// `tuku`: files payroll submissions to tax-authority gateways from a PostgreSQL queue.
@main
struct Tuku: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "tuku",
        abstract: "File payroll submissions to tax-authority gateways from a PostgreSQL queue.",
        version: Self.version,
        subcommands: [
            MigrateCommand.self,
            WorkerCommand.self,
            EnqueueCommand.self,
            JobsCommand.self,
            StatusCommand.self,
            TokensCommand.self,
            RenderCommand.self,
            DecodeCommand.self,
            AuthCommand.self,
            BenchCommand.self,
            SandboxCommand.self,
        ]
    )
}
