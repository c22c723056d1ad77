/// `s3://BUCKET` or `s3://BUCKET/PREFIX`: a bucket, and the folder-like prefix inside it that
/// holds one repository (so one bucket can hold several).
public struct ObjectStorageURL: Hashable, Sendable, CustomStringConvertible {
    public var bucket: String
    /// Without leading or trailing `/`; empty for the whole bucket.
    public var prefix: String

    public init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// True for anything written `scheme://...`: such a string is never taken for a local path.
    public static func looksLikeURL(_ text: String) -> Bool {
        guard let r = text.range(of: "://") else { return false }
        let scheme = text[..<r.lowerBound]
        guard let first = scheme.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return scheme.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
    }

    /// Parses `s3://BUCKET[/PREFIX]`, refusing (exit 2) what S3 would refuse or misread.
    public static func parse(_ text: String) throws -> ObjectStorageURL {
        func refuse(_ why: String) -> SnapdexError { .objectStorage(.malformedURL(url: text, why: why)) }
        if text.lowercased().hasPrefix("s3:") && !text.lowercased().hasPrefix("s3://") {
            throw refuse("s3: is followed by two slashes")
        }
        guard text.lowercased().hasPrefix("s3://") else {
            if looksLikeURL(text) {
                let scheme = text[..<text.range(of: "://")!.lowerBound]
                throw refuse("\(scheme):// is not a scheme Snapdex reads (only s3://)")
            }
            throw refuse("it does not start with s3://")
        }
        let rest = String(text.dropFirst(5))
        let slash = rest.firstIndex(of: "/")
        let bucket = String(slash.map { rest[..<$0] } ?? rest[...])
        var prefix = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        if let why = bucketNameProblem(bucket) { throw refuse(why) }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty {
            if prefix.hasPrefix("/") || prefix.contains("//") { throw refuse("the prefix has an empty part (//)") }
            for part in prefix.split(separator: "/") where part == "." || part == ".." {
                throw refuse("the prefix has a '\(part)' part, which servers resolve differently")
            }
            if prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                throw refuse("the prefix has a control character")
            }
            if prefix.contains("?") || prefix.contains("#") { throw refuse("the prefix has a '?' or '#'") }
            if prefix.utf8.count > 512 { throw refuse("the prefix is longer than 512 bytes") }
        }
        return ObjectStorageURL(bucket: bucket, prefix: prefix)
    }

    /// S3's rules for bucket names (what every region accepts), or nil when `name` follows them.
    public static func bucketNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the bucket name is missing" }
        guard (3...63).contains(name.utf8.count) else { return "a bucket name has 3 to 63 characters, '\(name)' has \(name.utf8.count)" }
        let allowed = name.utf8.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
        }
        guard allowed else { return "a bucket name has only lower-case letters, digits, '-' and '.', not '\(name)'" }
        let edges = [name.utf8.first!, name.utf8.last!]
        guard edges.allSatisfy({ $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ".") }) else {
            return "a bucket name starts and ends with a letter or digit, not '\(name)'"
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") { return "'\(name)' has a '.' next to another '.' or a '-'" }
        let parts = name.split(separator: ".")
        if parts.count == 4 && parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return "a bucket name is not an IP address, '\(name)' looks like one" }
        return nil
    }

    /// The object key of a repository-relative key (`config` → `PREFIX/config`).
    public func objectKey(_ key: String) -> String { prefix.isEmpty ? key : prefix + "/" + key }

    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}
