import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` with a client whose `run()` is going, and stops the client when `body` returns or throws.
    ///
    /// `body` starts only once the task running the client has begun: leasing a connection before `run()` was
    /// called makes PostgresNIO warn ("`PostgresClient.run()` hasn't been called yet"), which short commands such
    /// as `tuku jobs list` would otherwise print now and then.
    public static func withRunning<Result: Sendable>(
        configuration: PostgresClient.Configuration, backgroundLogger: Logger,
        _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger)
        let (started, starting) = AsyncStream.makeStream(of: Void.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                starting.finish()
                await client.run()
            }
            defer { group.cancelAll() }
            for await _ in started {}
            return try await body(client)
        }
    }
}
