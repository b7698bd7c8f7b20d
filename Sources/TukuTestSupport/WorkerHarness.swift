import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TukuPostgres
import TukuWorker

/// Runs an in-process ``Worker`` for the length of a test body, then shuts it down gracefully.
public enum WorkerHarness {
    /// A configuration with short intervals, so tests do not wait on production timings.
    public static func fastConfiguration() -> Worker.Configuration {
        var configuration = Worker.Configuration()
        configuration.concurrency = 50
        configuration.claimBatchSize = 25
        configuration.lease = .seconds(5)
        configuration.heartbeatInterval = .seconds(1)
        configuration.pollInterval = .milliseconds(100)
        configuration.rescueInterval = .milliseconds(500)
        configuration.shutdownGracePeriod = .seconds(5)
        configuration.version = "test"
        return configuration
    }

    /// Runs a worker while `body` runs; `body` gets the worker's id.
    public static func withWorker<Result: Sendable>(
        client: PostgresClient,
        handlers: HandlerRegistry,
        configuration: Worker.Configuration = Self.fastConfiguration(),
        _ body: @Sendable (Int64) async throws -> Result
    ) async throws -> Result {
        let logger = Logger.test("tuku.test.worker")
        let registered = AsyncStream<Int64>.makeStream()
        let worker = Worker(
            queue: JobQueue(client: client, logger: logger), handlers: handlers, configuration: configuration,
            logger: logger,
            onRegistered: { id in
                registered.continuation.yield(id)
                registered.continuation.finish()
            })
        let group = ServiceGroup(services: [worker], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var ids = registered.stream.makeAsyncIterator()
            guard let workerID = await ids.next() else { throw TestSupportError("the worker never registered") }
            do {
                let result = try await body(workerID)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
