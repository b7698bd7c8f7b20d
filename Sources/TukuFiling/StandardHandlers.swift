import TukuCore
import TukuWorker

/// The handlers this build of Tuku runs, from the kind definitions in `jobs/`.
public enum StandardHandlers {
    /// `noop` always; the IRD kinds (`"gateway": "ird"`) when the gateway is configured (`filing` is not `nil`).
    ///
    /// - Throws: when a definition in `jobs/` is invalid: the worker refuses to start.
    public static func registry(
        definitions: [String: KindDefinition], filing: IRDFilingHandler.Dependencies?
    ) throws -> HandlerRegistry {
        var registry = HandlerRegistry()
        guard let noop = definitions["noop"] else {
            throw JobError(code: "kind_definitions_invalid", message: "jobs/noop/kind.json is missing")
        }
        registry.register(NoopHandler(retryPolicy: noop.retryPolicy))
        if let filing {
            for definition in definitions.values.sorted(by: { $0.kind < $1.kind }) where definition.gateway == .ird {
                try IRDFilingHandler.register(
                    definition, reconcilingWith: definition.reconcileWith.flatMap { definitions[$0] }, dependencies: filing, in: &registry)
            }
        }
        return registry
    }
}
