/// The checksum that ends the repository's JSON files (`config`, `source.json`; docs/FORMAT.md,
/// "Checksums of JSON files"): a last member `"checksum"` whose value is the SHA-256, in 64
/// lowercase hex digits, of every byte of the file before that member's name. It covers the
/// bytes as written, so no JSON library's formatting has to be reproduced to check it, and
/// readers that do not know it ignore it as an unknown key.
enum SealedJSON {
    static let key = Array("\"checksum\"".utf8)

    /// How the checksum member is laid out after the bytes it covers.
    struct Layout {
        /// Between the comma that ends the previous member and the name `"checksum"`.
        var separator: String
        /// Between the name and the value.
        var colon: String
        /// After the value's closing quote: the object's end and the file's.
        var end: String

        /// As Foundation's pretty printer lays out members (source.json).
        static let pretty = Layout(separator: "\n  ", colon: " : ", end: "\n}\n")
        /// On one line (config).
        static let line = Layout(separator: " ", colon: ": ", end: "}\n")
    }

    /// What a file's checksum says about it.
    enum Verdict: Equatable {
        case intact
        /// Written before files carried one (or its name was damaged: the caller decides).
        case absent
        case damaged(String)
    }

    /// `object`: a JSON object's text with at least one member, as a writer made it; returns
    /// it with the checksum member added as its last.
    static func seal(_ object: [UInt8], _ layout: Layout) -> [UInt8] {
        var body = object
        while let last = body.last, isSpace(last) { body.removeLast() }
        // Only ever given an encoder's object; anything else is left as it is (and reads as unsealed).
        guard body.last == UInt8(ascii: "}") else { return object }
        body.removeLast()
        while let last = body.last, isSpace(last) { body.removeLast() }
        body += Array(",\(layout.separator)".utf8)
        return body + key + Array("\(layout.colon)\"\(Digest.of(body).hex)\"\(layout.end)".utf8)
    }

    /// Checks a file's checksum: the last `"checksum"` in it (inside a JSON string a quote
    /// is escaped, so these bytes are only ever a member's name) must be followed by exactly
    /// one of the layouts' colon, a quoted digest of 64 lowercase hex digits and that layout's
    /// end, and the digest must be that of every byte before the name. No byte of the file is
    /// left unchecked, white space included.
    static func check(_ bytes: [UInt8]) -> Verdict {
        guard let at = lastIndex(of: key, in: bytes) else { return .absent }
        let tail = Array(bytes[(at + key.count)...])
        for layout in [Layout.pretty, Layout.line] {
            let colon = Array("\(layout.colon)\"".utf8), end = Array("\"\(layout.end)".utf8)
            guard tail.count == colon.count + 64 + end.count, tail.starts(with: colon), tail.suffix(end.count).elementsEqual(end) else { continue }
            let hex = tail[colon.count..<(colon.count + 64)]
            guard hex.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return .damaged("its checksum member is damaged") }
            guard Digest.of(Array(bytes[..<at])).hex.utf8.elementsEqual(hex) else { return .damaged("its checksum does not match its contents") }
            return .intact
        }
        return .damaged("its checksum member is cut or damaged")
    }

    /// The file as it was written when `bytes` differs from it by one flipped bit (bit rot,
    /// a bad sector's single error): every single-bit change is tried, and the one whose
    /// checksum matches is the original (a SHA-256 match by chance is out of reach). Nil when
    /// none is. Costs 8 × size checks of the file (a few MB of hashing for a 1 KB file).
    static func correctingOneBit(_ bytes: [UInt8], limit: Int = 4096) -> [UInt8]? {
        guard bytes.count <= limit else { return nil }
        var candidate = bytes
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                candidate[i] ^= 1 << UInt8(bit)
                if check(candidate) == .intact { return candidate }
                candidate[i] ^= 1 << UInt8(bit)
            }
        }
        return nil
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    private static func lastIndex(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var i = bytes.count - needle.count
        while i >= 0 {
            if bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }
}
