/// The tax authority's gateway a job kind files to and a token set authorises for.
///
/// Stored as text in `tuku.oauth_tokens.gateway` (checked by the `oauth_tokens_gateway_known` constraint) and
/// named by `gateway` in `jobs/<kind>/kind.json`. A third authority adds a case here and to that constraint.
public enum TaxGateway: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// New Zealand Inland Revenue's gateway services (SOAP 1.2 over mutual TLS).
    case ird
    /// HMRC's API platform (JSON over one-way TLS).
    case hmrc

    public var description: String { self.rawValue }
}
