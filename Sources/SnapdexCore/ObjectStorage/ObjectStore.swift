/// Whole objects by key: what a repository needs from a place that keeps its files, whether
/// that is a folder or an S3 bucket. Keys are the repository's relative paths
/// (`config`, `catalogs/SOURCE/ID.manifest`, `blocks/XX/HASH`), so both places hold the same
/// layout and a folder written through a store is an ordinary local repository.
///
/// Blocking calls: the repository code is synchronous, and a command does one thing at a time.
public protocol ObjectStore: AnyObject, Sendable {
    /// Where the objects live, for messages (`/srv/repo`, `s3://bucket/prefix`).
    var location: String { get }
    /// What tells this store from every other this host may reach (for S3 the endpoint too,
    /// since two servers may each have a bucket of that name): names this host's cache of it.
    var identity: String { get }
    /// The object's bytes, or nil when there is none.
    func get(_ key: String) throws -> [UInt8]?
    /// Stores `bytes` under `key`. A reader sees the old object or the new one whole, never part.
    func put(_ key: String, _ bytes: [UInt8]) throws
    /// Stores `bytes` only when no object has `key`; false when one already does (locks).
    func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool
    /// The object's size and time, or nil when there is none.
    func head(_ key: String) throws -> ObjectInfo?
    /// Every object whose key starts with `prefix`, in key order.
    func list(prefix: String) throws -> [ObjectInfo]
    /// Removes the object; removing one that is not there is not an error.
    func delete(_ key: String) throws
    /// What this store has asked of its server so far, for `-v` and `--json`.
    func requestCounts() -> RequestCounts
}

extension ObjectStore {
    public var identity: String { location }
}

public struct ObjectInfo: Hashable, Sendable {
    public var key: String
    public var size: Int64
    /// Seconds since the epoch of the last write, when the store knows it.
    public var modifiedSeconds: Int64?
    /// The server's entity tag, quotes included, when its listing gives one (S3 does; for an
    /// object written by one plain PUT it is the MD5 of its bytes in hex).
    public var etag: String?

    public init(key: String, size: Int64, modifiedSeconds: Int64? = nil, etag: String? = nil) {
        self.key = key
        self.size = size
        self.modifiedSeconds = modifiedSeconds
        self.etag = etag
    }
}

/// Requests by kind, and bytes each way: object storage is paid by the request.
public struct RequestCounts: Hashable, Sendable, Codable {
    public var get = 0, put = 0, list = 0, head = 0, delete = 0
    public var bytesSent: Int64 = 0, bytesReceived: Int64 = 0

    public init() {}

    public var total: Int { self.get + self.put + self.list + self.head + self.delete }

    public static func + (a: RequestCounts, b: RequestCounts) -> RequestCounts {
        var sum = a
        sum.get += b.get; sum.put += b.put; sum.list += b.list
        sum.head += b.head; sum.delete += b.delete
        sum.bytesSent += b.bytesSent; sum.bytesReceived += b.bytesReceived
        return sum
    }
}
