import Foundation

/// Which faults the sandbox injects into SOAP calls: a scripted sequence first, then random faults at given rates.
///
/// The script holds one entry per SOAP call, in arrival order (`ok` for a call without a fault); when it runs out,
/// each call draws at most one fault from the rates.
public struct FaultPlan: Sendable, Hashable {
    /// Each fault's probability per SOAP call, in the order given; the sum is at most 1.
    public var rates: [Rate]
    /// Faults for successive SOAP calls (`nil` = no fault for that call), applied before the rates.
    public var script: [SandboxFault?]
    /// The random seed. Defaults to 1.
    public var seed: UInt64

    /// One fault and its probability.
    public struct Rate: Sendable, Hashable {
        /// The fault.
        public var fault: SandboxFault
        /// Its probability per call, 0…1.
        public var probability: Double

        /// Creates a rate.
        public init(_ fault: SandboxFault, _ probability: Double) {
            self.fault = fault
            self.probability = probability
        }
    }

    /// No faults.
    public static let none = FaultPlan(rates: [], script: [], seed: 1)

    /// Creates a plan.
    public init(rates: [Rate] = [], script: [SandboxFault?] = [], seed: UInt64 = 1) {
        self.rates = rates
        self.script = script
        self.seed = seed
    }

    /// Parses rates such as `429:0.05,503:0.05,504-after-store:0.05,reset:0.02`.
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` for an unknown fault, a probability outside 0…1, or
    ///   probabilities that add up to more than 1.
    public static func parseRates(_ text: String) throws(SandboxError) -> [Rate] {
        var rates: [Rate] = []
        for item in text.split(separator: ",") where !item.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw SandboxError(.invalidConfiguration, "fault rate '\(item)' is not NAME:PROBABILITY")
            }
            guard let fault = SandboxFault(name: parts[0]) else {
                throw SandboxError(.invalidConfiguration, "unknown fault '\(parts[0])'; known: \(Self.knownNames)")
            }
            guard let probability = Double(parts[1].trimmingCharacters(in: .whitespaces)), probability >= 0, probability <= 1 else {
                throw SandboxError(.invalidConfiguration, "fault rate '\(item)' needs a probability between 0 and 1")
            }
            rates.append(Rate(fault, probability))
        }
        guard rates.reduce(0, { $0 + $1.probability }) <= 1 + 1e-9 else {
            throw SandboxError(.invalidConfiguration, "fault probabilities add up to more than 1")
        }
        return rates
    }

    /// Parses a fault script: one fault name per line (`ok` for none); blank lines and `#` comments are skipped.
    ///
    /// - Throws: ``SandboxError/Code/invalidConfiguration`` naming the line of an unknown fault.
    public static func parseScript(_ text: String) throws(SandboxError) -> [SandboxFault?] {
        var script: [SandboxFault?] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if line.isEmpty { continue }
            if line.lowercased() == "ok" {
                script.append(nil)
            } else if let fault = SandboxFault(name: line) {
                script.append(fault)
            } else {
                throw SandboxError(
                    .invalidConfiguration, "fault script line \(index + 1): unknown fault '\(line)'; known: ok, \(Self.knownNames)")
            }
        }
        return script
    }

    private static var knownNames: String { SandboxFault.allCases.map(\.rawValue).joined(separator: ", ") }
}
