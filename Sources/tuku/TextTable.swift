/// A plain text table for terminal output: columns padded to their widest cell.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: String...) {
        self.header = header
    }

    mutating func append(_ row: [String]) {
        self.rows.append(row)
    }

    func render() -> String {
        var widths = self.header.map(\.count)
        for row in self.rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(self.header), line(widths.map { String(repeating: "-", count: $0) })] + self.rows.map(line))
            .joined(separator: "\n")
    }
}
