import TukuCore
import TukuWorker

/// The handlers this build of Tuku runs, from the kind definitions in `jobs/`.
public enum StandardHandlers {
    /// `noop` always; the IRD kinds (`"gateway": "ird"`) when IRD's gateway is configured (`filing` is not `nil`);
    /// the HMRC kinds (`"gateway": "hmrc"`) when HMRC's is (`hmrc` is not `nil`).
    ///
    /// - Throws: when a definition in `jobs/` is invalid: the worker refuses to start.
    public static func registry(
        definitions: [String: KindDefinition], filing: IRDFilingHandler.Dependencies?, hmrc: HMRCVATHandler.Dependencies? = nil
    ) throws -> HandlerRegistry {
        var registry = HandlerRegistry()
        guard let noop = definitions["noop"] else {
            throw JobError(code: "kind_definitions_invalid", message: "jobs/noop/kind.json is missing")
        }
        registry.register(NoopHandler(retryPolicy: noop.retryPolicy))
        let sorted = definitions.values.sorted(by: { $0.kind < $1.kind })
        if let filing {
            for definition in sorted where definition.gateway == .ird {
                try IRDFilingHandler.register(
                    definition, reconcilingWith: definition.reconcileWith.flatMap { definitions[$0] }, dependencies: filing, in: &registry)
            }
        }
        if let hmrc {
            for definition in sorted where definition.gateway == .hmrc {
                try HMRCVATHandler.register(definition, dependencies: hmrc, in: &registry)
            }
        }
        return registry
    }
}
