/// The tax codes IRD accepts on EI v2 lines and in the Employment service v2 (build packs, "Accepted tax codes").
///
/// ESS, SLCIR and SLBOR are no longer tax codes in v2 (IRD codes 171 and 137); their amounts have their own fields.
public enum TaxCode: String, IRDCode {
    /// Main employment.
    case m = "M"
    /// Main employment, with independent earner tax credit.
    case me = "ME"
    /// Main employment, student loan.
    case msl = "MSL"
    /// Main employment, independent earner tax credit, student loan.
    case mesl = "MESL"
    /// Secondary employment, lowest band.
    case sb = "SB"
    /// Secondary employment, lowest band, student loan.
    case sbsl = "SBSL"
    /// Secondary employment.
    case s = "S"
    /// Secondary employment, student loan.
    case ssl = "SSL"
    /// Secondary employment, higher band.
    case sh = "SH"
    /// Secondary employment, higher band, student loan.
    case shsl = "SHSL"
    /// Secondary employment, top band.
    case st = "ST"
    /// Secondary employment, top band, student loan.
    case stsl = "STSL"
    /// Secondary employment, highest band.
    case sa = "SA"
    /// Secondary employment, highest band, student loan.
    case sasl = "SASL"
    /// No notification (non-declaration) rate.
    case nd = "ND"
    /// No notification, non-resident seasonal worker.
    case nsw = "NSW"
    /// Casual agricultural employee.
    case cae = "CAE"
    /// Election day worker.
    case edw = "EDW"
    /// Schedular payments (withholding tax).
    case wt = "WT"
    /// Special tax code.
    case stc = "STC"
}
