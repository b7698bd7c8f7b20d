/// How often an employee is paid (EI `employeePayFrequency`).
public enum PayFrequency: String, IRDCode {
    /// Weekly.
    case weekly = "WK"
    /// Fortnightly.
    case fortnightly = "FT"
    /// Four-weekly.
    case fourWeekly = "4W"
    /// Monthly.
    case monthly = "MT"
    /// Half-monthly (twice a month).
    case halfMonthly = "HM"
    /// Daily.
    case daily = "DA"
    /// Irregular or ad hoc.
    case adHoc = "AH"
    /// Backdated lump sum payment (only applicable to ACC).
    case backdatedLumpSum = "BP"
}
