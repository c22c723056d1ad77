/// Helpers for paths held as raw bytes. Catalog paths are relative to the snapshot root, with
/// no leading slash; people see them with one.
public enum PathBytes {
    public static let slash = UInt8(ascii: "/")

    /// `dir` joined with `name` (`[]` + `a` = `a`, `a` + `b` = `a/b`).
    @inline(__always)
    public static func join(_ dir: [UInt8], _ name: [UInt8]) -> [UInt8] {
        if dir.isEmpty { return name }
        if name.isEmpty { return dir }
        var p = dir
        p.reserveCapacity(dir.count + 1 + name.count)
        p.append(slash)
        p.append(contentsOf: name)
        return p
    }

    /// Splits a relative path into its parent and its last name.
    public static func split(_ path: [UInt8]) -> (dir: [UInt8], name: [UInt8]) {
        guard let i = path.lastIndex(of: slash) else { return ([], path) }
        return (Array(path[..<i]), Array(path[(i + 1)...]))
    }

    /// Turns a path a user typed (`/alice/docs/`, `alice//docs`, `/`) into catalog form;
    /// nil when it climbs with `..`.
    public static func normalize(_ text: String) -> [UInt8]? { normalize(Array(text.utf8)) }

    public static func normalize(_ bytes: [UInt8]) -> [UInt8]? {
        var parts: [ArraySlice<UInt8>] = []
        for part in bytes.split(separator: slash, omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return Array(parts.joined(separator: [slash]))
    }

    /// Quotes a name the way GNU ls does by default on a terminal (shell-escape style):
    /// plain when safe, in single quotes when it has shell metacharacters, and with `$'…'`
    /// escapes for control characters and bytes that are not UTF-8. The result is UTF-8.
    public static func quoted(_ name: [UInt8]) -> [UInt8] {
        let safe = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%+,-./:=@_".utf8))
        if !name.isEmpty && name.allSatisfy({ safe.contains($0) }) { return name }
        let valid = String(validatingUTF8: name.map { CChar(bitPattern: $0) } + [0]) != nil
        var out: [UInt8] = []
        var inQuote = false
        func open() { if !inQuote { out.append(39); inQuote = true } }
        func close() { if inQuote { out.append(39); inQuote = false } }
        for b in name {
            let control = b < 0x20 || b == 0x7f || (!valid && b >= 0x80)
            if control {
                close()
                out += Array("$'".utf8)
                switch b {
                case 10: out += Array("\\n".utf8)
                case 9: out += Array("\\t".utf8)
                case 13: out += Array("\\r".utf8)
                default: out += Array(("\\" + String(b, radix: 8)).utf8)
                }
                out.append(39)
            } else if b == 39 {
                close()
                out += Array("\\'".utf8)
            } else {
                open()
                out.append(b)
            }
        }
        close()
        return out
    }

    /// `display(path)`, quoted as `ls` would, for a message that names a path.
    public static func shown(_ path: [UInt8]) -> String { String(decoding: quoted(display(path)), as: UTF8.self) }

    /// The path as users see it: `/` + relative path.
    public static func display(_ path: [UInt8]) -> [UInt8] { [slash] + path }

    /// True when `ancestor` is `path` itself or one of its parent directories.
    public static func isWithin(_ path: [UInt8], _ ancestor: [UInt8]) -> Bool {
        if ancestor.isEmpty { return true }
        guard path.count >= ancestor.count, path.starts(with: ancestor) else { return false }
        return path.count == ancestor.count || path[ancestor.count] == slash
    }
}
