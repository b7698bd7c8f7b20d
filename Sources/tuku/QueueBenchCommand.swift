import ArgumentParser
struct QueueBenchCommand: AsyncParsableCommand { static let configuration = CommandConfiguration(commandName: "queue") ; func run() async throws {} }
