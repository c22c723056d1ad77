import Foundation
import SnapdexCore

/// The line `index` redraws on a terminal's standard error while it walks: entries so far,
/// the rate, and, when the source's previous index gives the expected number of entries, the
/// share done and an ETA. A pure function of its numbers, so tests need no terminal.
struct ProgressLine {
    /// Which point of how many (`[2/5]`), shown when a run indexes more than one.
    var point = 1, points = 1
    /// Entries of the previous index of the source: the likely size of this one.
    var expected: UInt64?

    func text(entries: UInt64, bytes: UInt64, seconds: Double) -> String {
        let rate = seconds > 0 ? Double(entries) / seconds : 0
        var parts: [String] = []
        if points > 1 { parts.append("[\(point)/\(points)]") }
        if let expected, expected > entries {
            let percent = Int(Double(entries) * 100 / Double(expected))
            parts.append("\(entries) of ~\(expected) entries (\(percent)%)")
        } else {
            parts.append("\(entries) entries")
        }
        parts.append("\(Int(rate))/s")
        parts.append(Format.bytes(bytes))
        if let expected, expected > entries, rate > 0 {
            parts.append("ETA " + ProgressLine.duration(Double(expected - entries) / rate))
        } else {
            parts.append(String(format: "%.1f s", seconds))
        }
        return parts.joined(separator: "  ")
    }

    /// `0:07`, `12:30`, `1:02:03`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60)
        let two = { (v: Int) in v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(sec))" : "\(m):\(two(sec))"
    }
}
