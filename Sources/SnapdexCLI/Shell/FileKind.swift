/// What a file's first bytes say it is, in the spirit of file(1): enough for the shell's
/// `cat` to tell a person why it did not print a binary file.
enum FileKind {
    private static let signatures: [([UInt8], String)] = [
        ([0x89, 0x50, 0x4e, 0x47], "PNG image"), ([0xff, 0xd8, 0xff], "JPEG image"), (Array("GIF8".utf8), "GIF image"),
        (Array("%PDF".utf8), "PDF document"), ([0x50, 0x4b, 0x03, 0x04], "Zip archive (also docx, xlsx, odt, jar)"),
        ([0x1f, 0x8b], "gzip compressed data"), ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz compressed data"),
        (Array("BZh".utf8), "bzip2 compressed data"), ([0x28, 0xb5, 0x2f, 0xfd], "Zstandard compressed data"),
        ([0x7f, 0x45, 0x4c, 0x46], "ELF executable"), (Array("SQLite format 3".utf8), "SQLite database"),
    ]

    /// A description when `head` (a file's first bytes) looks binary: a known signature, a
    /// NUL byte, or bytes that are not UTF-8 (a sequence cut at the end of `head` is fine);
    /// nil for text.
    static func binary(_ head: [UInt8]) -> String? {
        for (magic, name) in signatures where head.starts(with: magic) { return name }
        if head.contains(0) { return "binary data" }
        var end = head.count
        while end > 0, head.count - end < 3, head[end - 1] >= 0x80 { end -= 1 }  // a character cut short
        if String(validating: head[..<end], as: UTF8.self) == nil
            && String(validating: head, as: UTF8.self) == nil { return "binary data (not UTF-8 text)" }
        return nil
    }
}
