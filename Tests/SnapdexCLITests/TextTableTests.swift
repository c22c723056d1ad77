import Testing
@testable import SnapdexCLI
@testable import SnapdexCore

/// `points` prints its 10,000 rows through `TextTable` and `Format.appendBytes`: they must
/// print what `Format.table` and `Format.bytes` print, byte for byte.
struct TextTableTests {
    @Test func textTablePrintsWhatFormatTablePrints() {
        let raw = PathString.string(Array("/snap/caf".utf8) + [0xE9])  // not UTF-8
        let rows = [["ID", "NAME", "SIZE", "WHEN", "PATH"],
                     ["a", "café", "1", "", "/x"],
                     ["bbbbbbbbbbbb", "e\u{301}t\u{E9}", "12345", "2026-11-21 03:00:00 +0000", raw],
                     ["", "日本語", "0", "now", raw + " (gone)"],
                     ["c", "", "", "x", ""]]
        for right: Set<Int> in [[], [2], [0, 2, 4], [4]] {
            let want = Output(capture: true)
            Format.table(rows, rightAligned: right).forEach(want.line)
            want.flush()
            var table = TextTable(header: rows[0])
            for (k, row) in rows.dropFirst().enumerated() {
                for (i, cell) in row.enumerated() {
                    if (k + i) % 2 == 0 { table.cell(cell) } else { table.cell { $0.append(contentsOf: cell.utf8) } }
                }
            }
            let got = Output(capture: true)
            table.print(to: got, rightAligned: right)
            got.flush()
            #expect(got.captured == want.captured, "right-aligned \(right)")
        }
    }

    /// `Format.bytes` as it was written with strings.
    static func stringBytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024 && i < units.count - 1 {
            v /= 1024
            i += 1
        }
        guard i > 0 else { return "\(n) B" }
        let tenths = UInt64((v * 10).rounded(.toNearestOrEven))
        return "\(tenths / 10).\(tenths % 10) \(units[i])"
    }

    @Test func appendBytesWritesWhatBytesSays() {
        let sizes: [UInt64] = [0, 1, 999, 1023, 1024, 1025, 1535, 1536, 1587, 10_240, 1_048_575, 1_048_576, 5_000_000_000,
                               1 << 49, (1 << 50) + 12_345, UInt64.max]
        for n in sizes {
            var out: [UInt8] = [65]
            Format.appendBytes(n, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "A" + Self.stringBytes(n))
            #expect(Format.bytes(n) == Self.stringBytes(n))
        }
        #expect(Format.bytes(0) == "0 B")
        #expect(Format.bytes(1023) == "1023 B")
        #expect(Format.bytes(1536) == "1.5 KiB")
        #expect(Format.bytes(1_048_576) == "1.0 MiB")
        var out: [UInt8] = []
        DecimalText.append(Int64.min, to: &out)
        DecimalText.append(0, to: &out)
        DecimalText.append(UInt64.max, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\(Int64.min)0\(UInt64.max)")
    }
}
