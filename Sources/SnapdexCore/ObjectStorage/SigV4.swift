import Crypto
import Foundation

/// AWS Signature Version 4 for requests signed in the Authorization header, as S3 and every
/// S3-compatible gateway check them. Pure functions over values: the canonical request, the
/// string to sign, the signing key and the header are each exposed so that tests compare
/// every stage with AWS's published examples.
public struct SigV4Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    /// `s3` for object storage; AWS's generic test suite signs for `service`.
    public var service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The SHA-256 of an empty payload, which GET, HEAD, DELETE and LIST send.
    public static let emptyPayloadHash = hexSHA256([])

    /// Adds what signing needs and the Authorization header to `request`: `x-amz-date`,
    /// `x-amz-content-sha256` for S3 (which refuses a request without it), and
    /// `x-amz-security-token` for session credentials, which is signed like any header.
    public func sign(_ request: inout SigV4Request, at date: Date) {
        let stamp = SigV4Time(date)
        request.setHeader("x-amz-date", stamp.dateTime)
        if service == "s3" { request.setHeader("x-amz-content-sha256", request.payloadHash) }
        if let token = credentials.sessionToken { request.setHeader("x-amz-security-token", token) }
        request.setHeader("authorization", authorization(request, stamp: stamp))
    }

    /// The Authorization header's value for a request whose headers are already complete.
    public func authorization(_ request: SigV4Request, stamp: SigV4Time) -> String {
        let canonical = request.canonical()
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical.text, stamp: stamp), day: stamp.day)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(day: stamp.day)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    public func scope(day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    public func stringToSign(canonicalRequest: String, stamp: SigV4Time) -> String {
        ["AWS4-HMAC-SHA256", stamp.dateTime, scope(day: stamp.day), Self.hexSHA256(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
    }

    /// HMAC chain secret → day → region → service → "aws4_request"; the result signs the day's requests.
    public func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    public func signature(stringToSign: String, day: String) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: day))))
    }

    public static func hexSHA256(_ bytes: [UInt8]) -> String { Hex.encode(Array(SHA256.hash(data: bytes))) }
}

/// The parts of an HTTP request that a signature covers.
public struct SigV4Request: Sendable, Equatable {
    public var method: String
    /// The path as sent: already URI-encoded (`SigV4Encoding.path`), starting with `/`.
    public var encodedPath: String
    /// Query parameters, not encoded; a parameter without a value (`?lifecycle`) has "".
    public var query: [(name: String, value: String)]
    /// Header names in any case; values as sent. `host` must be among them.
    public var headers: [(name: String, value: String)]
    /// Hex SHA-256 of the body.
    public var payloadHash: String

    public init(method: String, encodedPath: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)], payloadHash: String = SigV4Signer.emptyPayloadHash) {
        self.method = method
        self.encodedPath = encodedPath
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    public static func == (a: SigV4Request, b: SigV4Request) -> Bool {
        a.method == b.method && a.encodedPath == b.encodedPath && a.payloadHash == b.payloadHash
            && a.query.map { [$0.name, $0.value] } == b.query.map { [$0.name, $0.value] }
            && a.headers.map { [$0.name, $0.value] } == b.headers.map { [$0.name, $0.value] }
    }

    /// Replaces every header of that name (in any case) with one.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The query as sent on the wire, in the canonical order (a server accepts any order, and
    /// sending the signed one leaves nothing to differ).
    public var encodedQuery: String { SigV4Encoding.canonicalQuery(query) }

    /// The canonical request (method, path, query, headers, signed header names, payload hash)
    /// and the signed header names. Every header given is signed: the caller passes only those
    /// a proxy may not rewrite.
    public func canonical() -> (text: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers { merged[name.lowercased(), default: []].append(SigV4Encoding.trimmedHeaderValue(value)) }
        let names = merged.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        let text = [method, encodedPath, encodedQuery, canonicalHeaders, signed, payloadHash].joined(separator: "\n")
        return (text, signed)
    }
}

/// The request's time, in the two forms a signature uses.
public struct SigV4Time: Sendable, Equatable {
    /// `20150830T123600Z`
    public var dateTime: String
    /// `20150830`
    public var day: String

    public init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        day = "\(parts.tm_year + 1900)" + two(parts.tm_mon + 1) + two(parts.tm_mday)
        dateTime = day + "T" + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "Z"
    }
}

/// URI encoding as S3 defines it for signatures: every byte but `A-Z a-z 0-9 - . _ ~` becomes
/// `%XY` (upper-case hex); `/` stays in paths and is encoded in query strings. S3 encodes a
/// key once (other services encode paths twice; S3 does not).
public enum SigV4Encoding {
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0xF)]))
            }
        }
        return out
    }

    /// An object's path: `/` then the key, each byte encoded, slashes kept.
    public static func path(_ rawPath: String) -> String { encode(rawPath, keepSlash: true) }

    /// Names and values encoded, sorted by encoded name then value, joined by `&`.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name, keepSlash: false), encode($0.value, keepSlash: false)) }
            .sorted { a, b in
                a.0 != b.0 ? Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
                    : Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Leading and trailing spaces removed, runs of spaces inside made one.
    public static func trimmedHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
