/// Paths are bytes, but arguments, configuration and manifests carry them in Swift strings,
/// which hold only Unicode. A path string keeps every byte: valid UTF-8 as its characters,
/// and each byte of an invalid sequence as the private-use scalar U+F700 + byte (U+F780 to
/// U+F7FF, as the bytes are 0x80 to 0xFF). `bytes` maps them back where a path reaches the
/// kernel or a file. (A name that really holds one of those 128 scalars reads as the byte.)
public enum PathString {
    static let base: UInt32 = 0xF700

    /// The path string of `bytes`.
    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        let a = Array(bytes)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < a.count {
            let b = a[i]
            let length = b < 0x80 ? 1 : (0xC2...0xDF).contains(b) ? 2 : (0xE0...0xEF).contains(b) ? 3 : (0xF0...0xF4).contains(b) ? 4 : 0
            if length > 0, i + length <= a.count, let s = String(validating: a[i..<(i + length)], as: UTF8.self) {
                out.append(contentsOf: s.unicodeScalars)
                i += length
            } else {
                out.append(Unicode.Scalar(base + UInt32(b))!)
                i += 1
            }
        }
        return String(out)
    }

    /// The bytes a path string stands for.
    public static func bytes(_ s: String) -> [UInt8] {
        // U+F780...U+F7FF encode as EF 9E xx or EF 9F xx: without 0xEF the UTF-8 is the path.
        guard s.utf8.contains(0xEF) else { return Array(s.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            if (base + 0x80...base + 0xFF).contains(scalar.value) {
                out.append(UInt8(scalar.value - base))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// Whether `s` holds a byte that is not UTF-8 (shown to people as `\xNN`).
    public static func hasRawBytes(_ s: String) -> Bool {
        s.unicodeScalars.contains { (base + 0x80...base + 0xFF).contains($0.value) }
    }

    /// Calls `body` with the path's bytes as a NUL-terminated C string.
    public static func withCString<R>(_ s: String, _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var z = bytes(s)
        z.append(0)
        return try z.withUnsafeBufferPointer { b in
            try b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: z.count) { try body($0) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The system calls that take a path, given a path string: the bytes it stands for reach the
/// kernel (Swift's own conversion would pass the UTF-8 of the private-use scalars instead).
/// Each returns what the C call returns; `errno` is left for the caller.
public enum PathCalls {
    /// `open(2)`.
    public static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
        PathString.withCString(path) { Glibc.open($0, flags, mode) }
    }

    /// `stat(2)`.
    public static func stat(_ path: String, _ st: inout Glibc.stat) -> Int32 {
        PathString.withCString(path) { statPath($0, &st) }
    }

    /// `lstat(2)`.
    public static func lstat(_ path: String, _ st: inout Glibc.stat) -> Int32 {
        PathString.withCString(path) { Glibc.lstat($0, &st) }
    }

    /// `mkdir(2)`.
    public static func mkdir(_ path: String, _ mode: mode_t) -> Int32 {
        PathString.withCString(path) { Glibc.mkdir($0, mode) }
    }

    /// `rename(2)`.
    public static func rename(_ from: String, _ to: String) -> Int32 {
        PathString.withCString(from) { f in PathString.withCString(to) { Glibc.rename(f, $0) } }
    }

    /// `link(2)`.
    public static func link(_ from: String, _ to: String) -> Int32 {
        PathString.withCString(from) { f in PathString.withCString(to) { Glibc.link(f, $0) } }
    }

    /// `unlink(2)`.
    @discardableResult
    public static func unlink(_ path: String) -> Int32 {
        PathString.withCString(path) { Glibc.unlink($0) }
    }

    /// `rmdir(2)`.
    @discardableResult
    public static func rmdir(_ path: String) -> Int32 {
        PathString.withCString(path) { Glibc.rmdir($0) }
    }

    /// `mkdir -p`: creates `path` and its missing parents (`mode` less the umask).
    public static func makeDirectories(_ path: String, mode: mode_t = 0o777) -> Result<Void, Errno> {
        var st = Glibc.stat()
        if stat(path, &st) == 0 {
            return (st.st_mode & S_IFMT) == S_IFDIR ? .success(()) : .failure(Errno(ENOTDIR))
        }
        if let i = path.lastIndex(of: "/"), i != path.startIndex {
            if case .failure(let e) = makeDirectories(String(path[..<i]), mode: mode) { return .failure(e) }
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { return .failure(.current) }
        return .success(())
    }

    /// `getcwd(3)` as a path string.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return PathString.string(buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
    }
}

/// `stat(2)` by C string, outside `PathCalls`, where `stat` names the call rather than the type.
private func statPath(_ path: UnsafePointer<CChar>, _ st: inout stat) -> Int32 { stat(path, &st) }

extension PathString {
    /// Environment variables that hold paths, as path strings, read with `getenv(3)`:
    /// `ProcessInfo` would replace bytes that are not UTF-8 with U+FFFD.
    public static func environment(_ names: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for name in names {
            guard let v = getenv(name) else { continue }
            out[name] = string(UnsafeBufferPointer(start: v, count: strlen(v)).map { UInt8(bitPattern: $0) })
        }
        return out
    }
}
