import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Tuku on this machine and print figures.",
        subcommands: [QueueBenchCommand.self, GatewayBenchCommand.self]
    )
}
