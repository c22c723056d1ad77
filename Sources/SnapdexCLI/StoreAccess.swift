import Foundation
import SnapdexCore

/// Where `--repo` (or SNAPDEX_REPO) points: a folder, or a repository on object storage
/// named by a URL. A URL is never taken for a local path.
enum RepositoryAddress: Equatable {
    case folder(String)
    case objectStore(url: String)

    /// The URL schemes snapdex reaches.
    static let schemes = ["s3", "file"]

    init(_ text: String) {
        // `scheme://...`: letters, digits, '+', '-', '.' before "://", as URLs have.
        if let r = text.range(of: "://"), !text[..<r.lowerBound].isEmpty,
           text[..<r.lowerBound].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) {
            self = .objectStore(url: text)
        } else if Self.schemes.contains(where: { text.lowercased().hasPrefix($0 + ":") }) {
            // `s3:/bucket` or `file:/srv/x` is a mistyped URL far more often than a folder
            // named `s3:`; as a folder it would make one. Refused with the right form instead
            // (a folder of that name is still reachable as ./s3:/bucket).
            self = .objectStore(url: text)
        } else {
            self = .folder(text)
        }
    }
}

/// The object stores this process opened, for the request report of `-v` and `--json`.
enum StoreUsage {
    nonisolated(unsafe) static var stores: [any ObjectStore] = []
    /// Stores of a command whose process is ending (`report(json:exiting:)`).
    nonisolated(unsafe) static var kept: [any ObjectStore] = []

    /// Set by a command whose JSON summary object already carries the requests.
    nonisolated(unsafe) static var reportedInJSON = false

    static var total: RequestCounts { stores.reduce(RequestCounts()) { $0 + $1.requestCounts() } }

    /// With -v, one line on standard error. With --json, standard output holds only the
    /// command's JSON: a command with a summary object puts them in it (`attach`); for a
    /// list, they are one JSON line on standard error (`{"requests": {...}}`), so that each
    /// line of standard output stays an object of the list. Nothing for a local repository.
    /// With `exiting` (the process ends next) the stores are kept, not closed: the exit closes
    /// their connections, where closing each would cost the command's end a thread and a
    /// round through the event loop.
    static func report(json: Bool, exiting: Bool = false) {
        defer {
            if exiting { kept += stores }
            stores.removeAll()
            reportedInJSON = false
        }
        guard !stores.isEmpty else { return }
        let c = total
        Log.info("object storage: \(c.total) request(s): \(c.get) GET, \(c.put) PUT, \(c.list) LIST, \(c.head) HEAD, \(c.delete) DELETE; \(c.bytesSent) byte(s) sent, \(c.bytesReceived) received")
        if json && !reportedInJSON {
            var line = JSONObject()
            line.raw("requests", json: encoded(c))
            Output.current.error(String(decoding: line.encoded, as: UTF8.self))
        }
    }

    /// Puts the requests made so far into a command's JSON summary object (as `requests`),
    /// which is then the only place they are reported in JSON. Nothing for a local repository.
    static func attach(to o: inout JSONObject) {
        guard !stores.isEmpty else { return }
        o.raw("requests", json: encoded(total))
        reportedInJSON = true
    }

    /// Requests as JSON: `{"get":N,"put":N,"list":N,"head":N,"delete":N,"bytes_sent":N,"bytes_received":N}`.
    static func encoded(_ c: RequestCounts) -> [UInt8] {
        var requests = JSONObject()
        requests.number("get", c.get)
        requests.number("put", c.put)
        requests.number("list", c.list)
        requests.number("head", c.head)
        requests.number("delete", c.delete)
        requests.number("bytes_sent", c.bytesSent)
        requests.number("bytes_received", c.bytesReceived)
        return requests.encoded
    }
}

/// `--cache-size`: bytes, with an optional K, M, G or T suffix (powers of 1024).
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.uppercased())
        var unit: Int64 = 1
        if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
        if let last = digits.last, let i = "KMGT".firstIndex(of: last) {
            unit = Int64(1) << (10 * ("KMGT".distance(from: "KMGT".startIndex, to: i) + 1))
            digits.removeLast()
        }
        guard let n = Int64(digits), n >= 0 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : v
    }
}

/// The store a repository URL names, registered for the request report: `file:///PATH`, a
/// folder laid out as object storage (one many hosts share, each with its own cache, locked
/// by lock objects), or `s3://BUCKET/PREFIX`, a bucket on an S3 server.
func objectStore(_ url: String, creating: Bool = false) throws -> any ObjectStore {
    let store: any ObjectStore
    if let scheme = RepositoryAddress.schemes.first(where: { url.lowercased().hasPrefix($0 + ":") }),
       !url.lowercased().hasPrefix(scheme + "://") {
        let form = scheme == "s3" ? "s3://BUCKET/PREFIX" : "file:///PATH"
        throw SnapdexError.invalidArgument("\(url) is not a repository URL: write \(form) (two slashes after \(scheme):), or ./\(url) for a folder of that name")
    }
    if url.hasPrefix("file://") {
        let path = String(url.dropFirst("file://".count))
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw SnapdexError.invalidArgument("\(url) names no absolute folder: write file:///PATH with PATH from the root (three slashes)")
        }
        var root = path
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        // Local writers lock with flock on REPO/lock, object-storage writers with lock
        // objects: one folder used both ways would have two writers at once (a local gc could
        // delete blocks an index here sent for a manifest not yet published).
        if FileManager.default.fileExists(atPath: root + "/lock") {
            throw SnapdexError.invalidArgument("\(root) is a local repository (it has a lock file), not one kept as object storage; use --repo \(ShellWord.quoted(root))")
        }
        store = NamedStore(FolderObjectStore(root: root), location: "file://" + root)
    } else if url.lowercased().hasPrefix("s3://") {
        // Endpoint, credentials and region from the variables every S3 tool reads.
        let s3 = try S3ObjectStore(url: try ObjectStorageURL.parse(url))
        if creating { try s3.createBucketIfMissing() }
        store = s3
    } else {
        throw SnapdexError.invalidArgument("\(url) is not a repository snapdex can reach: --repo takes a directory, file:///PATH or s3://BUCKET/PREFIX")
    }
    StoreUsage.stores.append(store)
    return store
}

/// A store shown by the URL it was named with (messages then print commands that work).
final class NamedStore: ObjectStore, @unchecked Sendable {
    let inner: any ObjectStore
    let location: String
    init(_ inner: any ObjectStore, location: String) {
        self.inner = inner
        self.location = location
    }
    func get(_ key: String) throws -> [UInt8]? { try inner.get(key) }
    func put(_ key: String, _ bytes: [UInt8]) throws { try inner.put(key, bytes) }
    func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { try inner.putIfAbsent(key, bytes) }
    func head(_ key: String) throws -> ObjectInfo? { try inner.head(key) }
    func list(prefix: String) throws -> [ObjectInfo] { try inner.list(prefix: prefix) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func requestCounts() -> RequestCounts { inner.requestCounts() }
}
