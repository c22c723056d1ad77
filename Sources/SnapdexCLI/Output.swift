import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Buffered writes to standard output and error. Everything the commands print goes through
/// here, so that tests can capture it and long listings are not written a line at a time.
public final class Output: @unchecked Sendable {
    public nonisolated(unsafe) static var current = Output()

    private var buffer: [UInt8] = []
    private let capture: Bool
    public private(set) var captured: [UInt8] = []
    public private(set) var capturedErrors: [UInt8] = []

    /// Where standard output goes instead of file descriptor 1 (the browse shell's pager).
    private var sink: (([UInt8]) -> Void)?

    public init(capture: Bool = false) { self.capture = capture }

    init(sink: @escaping ([UInt8]) -> Void) {
        capture = false
        self.sink = sink
    }

    /// The repository the command runs on, as advice must name it (`--repo`), when a
    /// command typed without --repo in another shell would act on another one
    /// (`RepositoryOptions.adviceRepository`); nil when it would not.
    public var adviceRepository: String?

    /// `text` with `--repo` put into each `snapdex ...` command between backticks that names
    /// no repository, when advice must name it: run as printed, from any folder and without
    /// SNAPDEX_REPO, the command acts on this repository.
    public func naming(_ text: String) -> String {
        guard let adviceRepository, text.contains("`snapdex ") else { return text }
        return ShellWord.naming(repository: adviceRepository, in: text)
    }

    /// `snapdex`, with `--repo` when advice must name the repository: the start of a command
    /// printed without backticks.
    public var snapdexCommand: String {
        adviceRepository.map { "snapdex --repo \(ShellWord.quoted($0))" } ?? "snapdex"
    }

    /// A line of standard output that advises commands (`naming`).
    public func advice(_ text: String) { line(naming(text)) }

    public var stdoutIsTerminal: Bool { !capture && isatty(1) == 1 }
    public var stderrIsTerminal: Bool { !capture && isatty(2) == 1 }

    public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    public func line(_ text: String) {
        write(PathString.bytes(text))  // a path's raw bytes as typed
        write([10])
    }

    public func line(bytes: [UInt8]) {
        write(bytes)
        write([10])
    }

    /// What a command that changes things did (`created …`, `forgot …`): not printed with
    /// -q, which leaves only errors; listings asked for (--dry-run, --json) print anyway.
    public func result(_ text: String) {
        if !Log.quiet { line(text) }
    }

    /// A line on standard error (warnings, progress, errors).
    /// Errors and warnings advise commands: they name the repository as `naming` says.
    public func error(_ text: String, newline: Bool = true) {
        flush()
        let bytes = PathString.bytes(naming(text)) + (newline ? [10] : [])
        if capture {
            capturedErrors.append(contentsOf: bytes)
        } else {
            _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        }
    }

    public func flush() {
        guard !buffer.isEmpty else { return }
        if let sink {
            sink(buffer)
        } else if capture {
            captured.append(contentsOf: buffer)
        } else {
            var done = 0
            while done < buffer.count {
                let n = buffer.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + done, $0.count - done) }
                if n <= 0 {
                    if errno == EINTR { continue }
                    break
                }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    public var capturedText: String { String(decoding: captured, as: UTF8.self) }
    public var capturedErrorText: String { String(decoding: capturedErrors, as: UTF8.self) }
}

/// One JSON object, written with its keys in the order they are added.
public struct JSONObject {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    public init() {}

    private mutating func key(_ k: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        JSONObject.appendString(Array(k.utf8), to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ k: String, _ v: String?) {
        key(k)
        if let v { JSONObject.appendString(Array(v.utf8), to: &bytes) } else { bytes += Array("null".utf8) }
    }

    /// Bytes as a string; invalid UTF-8 is replaced (add the exact bytes with `bytesBase64`).
    public mutating func string(_ k: String, bytes v: [UInt8]) {
        key(k)
        JSONObject.appendString(Array(String(decoding: v, as: UTF8.self).utf8), to: &bytes)
    }

    public mutating func number<N: BinaryInteger>(_ k: String, _ v: N?) {
        key(k)
        bytes += Array((v.map { "\($0)" } ?? "null").utf8)
    }

    public mutating func double(_ k: String, _ v: Double) {
        key(k)
        bytes += Array(String(format: "%.3f", v).utf8)
    }

    public mutating func bool(_ k: String, _ v: Bool) {
        key(k)
        bytes += Array((v ? "true" : "false").utf8)
    }

    public mutating func strings(_ k: String, _ v: [String]) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        for (i, s) in v.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONObject.appendString(Array(s.utf8), to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func raw(_ k: String, json: [UInt8]) {
        key(k)
        bytes += json
    }

    public var encoded: [UInt8] { bytes + [UInt8(ascii: "}")] }

    static func appendString(_ s: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s {
            switch b {
            case UInt8(ascii: "\""): out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<0x20, 0x7f:
                out += Array(String(format: "\\u%04x", b).utf8)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

enum Format {
    /// Quotes a name the way GNU ls does by default on a terminal (shell-escape style):
    /// plain when safe, in single quotes when it has shell metacharacters, and with `$'…'`
    /// escapes for control characters and bytes that are not UTF-8.
    static func quoted(_ name: [UInt8]) -> [UInt8] { PathBytes.quoted(name) }

    static func permissions(_ e: FileEntry) -> String {
        let p = e.permissions
        var s = String(e.type.letter)
        let bits: [(UInt32, Character)] = [(0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"),
                                           (0o004, "r"), (0o002, "w"), (0o001, "x")]
        for (i, (bit, c)) in bits.enumerated() {
            var ch: Character = p & bit != 0 ? c : "-"
            if i == 2 && p & 0o4000 != 0 { ch = p & bit != 0 ? "s" : "S" }
            if i == 5 && p & 0o2000 != 0 { ch = p & bit != 0 ? "s" : "S" }
            if i == 8 && p & 0o1000 != 0 { ch = p & bit != 0 ? "t" : "T" }
            s.append(ch)
        }
        return s
    }

    static func octalMode(_ p: UInt32) -> String {
        let s = String(p, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    static func bytes(_ n: UInt64) -> String {
        var out: [UInt8] = []
        appendBytes(n, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let byteUnits: [[UInt8]] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"].map { Array($0.utf8) }

    /// The bytes of `bytes(n)`, appended to `out` (`points` prints 20,000 sizes).
    static func appendBytes(_ n: UInt64, to out: inout [UInt8]) {
        var v = Double(n)
        var i = 0
        while v >= 1024 && i < byteUnits.count - 1 {
            v /= 1024
            i += 1
        }
        guard i > 0 else {
            DecimalText.append(n, to: &out)
            out.append(32)
            out.append(contentsOf: byteUnits[0])
            return
        }
        // "%.1f" without String(format:), which costs microseconds: v is n / 1024^i exactly,
        // so below 2^49 bytes v * 10 is exact and rounds as printf does, ties to even.
        let tenths = UInt64((v * 10).rounded(.toNearestOrEven))
        DecimalText.append(tenths / 10, to: &out)
        out.append(UInt8(ascii: "."))
        out.append(UInt8(ascii: "0") + UInt8(tenths % 10))
        out.append(32)
        out.append(contentsOf: byteUnits[i])
    }

    /// GNU `ls -h` style: `512`, `4.0K`, `12M` (powers of 1024, rounded up as GNU does).
    static func shortBytes(_ n: UInt64) -> String {
        let units = ["K", "M", "G", "T", "P", "E"]
        guard n >= 1024 else { return "\(n)" }
        var v = Double(n) / 1024
        var i = 0
        while v >= 1024 && i < units.count - 1 {
            v /= 1024
            i += 1
        }
        if v < 10 {
            let tenths = (v * 10).rounded(.up) / 10
            if tenths < 10 { return String(format: "%.1f%@", tenths, units[i]) }
        }
        let whole = v.rounded(.up)
        if whole >= 1024 && i < units.count - 1 { return "1.0\(units[i + 1])" }
        return "\(Int(whole))\(units[i])"
    }

    /// The one width every id in a table is cut to: the longest unique prefix any of them
    /// needs (`Repository.shortIDs`; an id no longer in the repository needs the usual 8), so
    /// a column never mixes 8- and 12-character ids.
    static func idWidth<S: Sequence>(_ ids: S, short: [String: String]) -> Int where S.Element == String {
        ids.map { short[$0]?.count ?? 8 }.max() ?? 8
    }

    /// `1 file`, `2 files`; `1 entry`, `3 entries` with the plural given.
    static func count<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let n = s.count
        if n >= width { return s }
        let fill = String(repeating: " ", count: width - n)
        return right ? fill + s : s + fill
    }

    static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        guard let first = rows.first else { return [] }
        // `points` prints 10,000 rows: a cell's width is counted once, by its UTF-8 length when
        // it is ASCII (counting characters walks grapheme clusters), and lines are built as bytes.
        let counts = rows.map { $0.map { c in c.utf8.allSatisfy { $0 < 0x80 } ? c.utf8.count : c.count } }
        var widths = [Int](repeating: 0, count: first.count)
        for r in counts { for (i, n) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], n) } }
        let right = widths.indices.map { rightAligned.contains($0) }
        var line: [UInt8] = []
        return zip(rows, counts).map { r, n in
            line.removeAll(keepingCapacity: true)
            for (i, c) in r.enumerated() {
                if i > 0 { line += [32, 32] }
                let alignRight = i < right.count && right[i]
                let fill = i == r.count - 1 && !alignRight ? 0 : max(0, (i < widths.count ? widths[i] : 0) - n[i])
                if alignRight { line.append(contentsOf: repeatElement(32, count: fill)) }
                line.append(contentsOf: c.utf8)
                if !alignRight && fill > 0 { line.append(contentsOf: repeatElement(32, count: fill)) }
            }
            return String(decoding: line, as: UTF8.self)
        }
    }
}

/// A table built cell by cell into one buffer and printed with `Format.table`'s layout, the
/// same bytes, for tables of thousands of rows (`points` prints 10,000): no String per cell
/// or line.
struct TextTable {
    private var bytes: [UInt8] = []
    /// Where each cell ends in `bytes`, and its width (as `Format.table` counts it).
    private var ends: [Int] = []
    private var counts: [Int] = []
    private var widths: [Int]
    private var column = 0

    init(header: [String]) {
        widths = Array(repeating: 0, count: header.count)
        for h in header { cell(h) }
    }

    mutating func cell(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        endCell()
    }

    /// A cell whose bytes `write` appends (UTF-8, as a String's).
    mutating func cell(_ write: (inout [UInt8]) -> Void) {
        write(&bytes)
        endCell()
    }

    private mutating func endCell() {
        let start = ends.last ?? 0
        let cell = bytes[start...]
        let n = cell.allSatisfy { $0 < 0x80 } ? cell.count : String(decoding: cell, as: UTF8.self).count
        widths[column] = max(widths[column], n)
        ends.append(bytes.count)
        counts.append(n)
        column = (column + 1) % widths.count
    }

    /// Prints the rows, each cell padded to its column's width (the last one only when it is
    /// right-aligned), two spaces apart.
    func print(to out: Output, rightAligned: Set<Int> = []) {
        let right = widths.indices.map { rightAligned.contains($0) }
        let last = widths.count - 1
        var line: [UInt8] = []
        var start = 0
        for (k, end) in ends.enumerated() {
            let i = k % widths.count
            if i > 0 {
                line.append(32)
                line.append(32)
            }
            let fill = i == last && !right[i] ? 0 : widths[i] - counts[k]
            if right[i] { line.append(contentsOf: repeatElement(32, count: fill)) }
            line.append(contentsOf: bytes[start..<end])
            if !right[i] { line.append(contentsOf: repeatElement(32, count: fill)) }
            start = end
            if i == last {
                // As `Output.line` prints a String: a path's raw bytes as typed.
                if line.contains(0xEF) { line = PathString.bytes(String(decoding: line, as: UTF8.self)) }
                line.append(10)
                out.write(line)
                line.removeAll(keepingCapacity: true)
            }
        }
    }
}
