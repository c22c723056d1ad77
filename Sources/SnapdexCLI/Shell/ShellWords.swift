/// Splits a shell line into words, reading back every quoting `ls` prints: whitespace
/// separates, '…' and "…" quote, \ escapes, and $'…' holds C escapes (\n, \t, \r, \\, \',
/// \NNN octal, \xHH) for control characters and bytes that are not UTF-8.
enum ShellWords {
    struct Unterminated: Error, CustomStringConvertible {
        var description: String { "unterminated quote; close it and try again" }
    }

    /// One word: its bytes (quoting removed) and where it starts in the line, in Unicode
    /// scalars (what libedit counts when it deletes).
    struct Word: Equatable {
        var start: Int
        var bytes: [UInt8]
    }

    /// The words of `line`, as strings for the argument parser (`ShellBytes` carries bytes
    /// that are not UTF-8 through them).
    static func split(_ line: String) throws -> [String] {
        let t = tokenize(line)
        if t.unterminated { throw Unterminated() }
        return t.words.map { ShellBytes.string($0.bytes) }
    }

    /// The words of `line`; `unterminated` when it ends inside a quote (completion reads the
    /// word being typed that way), `endsInSpace` when a new word would start at the end.
    static func tokenize(_ line: String) -> (words: [Word], unterminated: Bool, endsInSpace: Bool) {
        let chars = line.unicodeScalars.map(Character.init)
        var words: [Word] = []
        var current: [UInt8] = []
        var start: Int?
        var i = 0
        var unterminated = false
        func append(_ c: Character) { current += Array(String(c).utf8) }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" {
                if let s = start {
                    words.append(Word(start: s, bytes: current))
                    current = []
                    start = nil
                }
                i += 1
                continue
            }
            if start == nil { start = i }
            switch c {
            case "\\":
                if i + 1 < chars.count { append(chars[i + 1]) }
                i += 2
            case "'":
                i += 1
                while i < chars.count && chars[i] != "'" { append(chars[i]); i += 1 }
                if i >= chars.count { unterminated = true }
                i += 1
            case "\"":
                i += 1
                while i < chars.count && chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count, "\"\\$`".contains(chars[i + 1]) { i += 1 }
                    append(chars[i])
                    i += 1
                }
                if i >= chars.count { unterminated = true }
                i += 1
            case "$" where i + 1 < chars.count && chars[i + 1] == "'":
                i += 2
                while i < chars.count && chars[i] != "'" {
                    guard chars[i] == "\\", i + 1 < chars.count else { append(chars[i]); i += 1; continue }
                    let e = chars[i + 1]
                    i += 2
                    switch e {
                    case "n": current.append(10)
                    case "t": current.append(9)
                    case "r": current.append(13)
                    case "0"..."7":
                        var v = Int(String(e))!
                        var digits = 1
                        while digits < 3, i < chars.count, let d = Int(String(chars[i])), d < 8 { v = v * 8 + d; i += 1; digits += 1 }
                        current.append(UInt8(truncatingIfNeeded: v))
                    case "x":
                        var v = 0
                        var digits = 0
                        while digits < 2, i < chars.count, let d = chars[i].hexDigitValue { v = v * 16 + d; i += 1; digits += 1 }
                        current.append(UInt8(v))
                    default: append(e)
                    }
                }
                if i >= chars.count { unterminated = true }
                i += 1
            default:
                append(c)
                i += 1
            }
        }
        if let s = start { words.append(Word(start: s, bytes: current)) }
        let endsInSpace = start == nil && !unterminated
        return (words, unterminated, endsInSpace)
    }
}

/// Names that are not UTF-8 inside Strings: each byte of an invalid sequence becomes the
/// private-use character U+F700 + byte, and back. The argument parser takes Strings, so a
/// typed `$'\351'` reaches the command as bytes this way.
enum ShellBytes {
    static func string(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0
            if need > 0, i + need <= bytes.count, let s = String(validating: bytes[i..<(i + need)], as: UTF8.self) {
                out.append(contentsOf: s.unicodeScalars)
                i += need
            } else {
                out.append(Unicode.Scalar(0xf700 + UInt32(b))!)
                i += 1
            }
        }
        return String(out)
    }

    static func bytes(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for u in s.unicodeScalars {
            if (0xf780...0xf7ff).contains(u.value) { out.append(UInt8(u.value - 0xf700)) } else { out += Array(String(u).utf8) }
        }
        return out
    }
}
