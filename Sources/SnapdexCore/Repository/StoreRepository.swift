import Crypto
import Foundation

/// Where a repository on object storage keeps this host's cache, and how big it may grow.
public struct StoreCacheOptions: Sendable {
    /// The cache folder; nil: `$XDG_CACHE_HOME/snapdex/REPO-ID` (else `~/.cache/...`).
    public var directory: String?
    public var limit: Int64

    public init(directory: String? = nil, limit: Int64 = StoreMirror.defaultCacheLimit) {
        self.directory = directory
        self.limit = limit
    }
}

/// The repository's `config` file: its format, and (since Snapdex 0.3.0) an id, which names
/// a repository on object storage's cache folder on each host.
struct RepositoryConfig: Decodable {
    var format: Int
    /// When `init` made the repository (RFC 3339); shown to nobody, kept when the file is
    /// written anew.
    var created: String?
    var id: String?

    /// A new config's bytes: one line, then the checksum member (docs/FORMAT.md).
    static func text(id: String, created: String = Timestamp.now.rfc3339()) -> [UInt8] {
        let object = "{\"format\": \(FormatConstants.repositoryVersion), \"created\": \"\(created)\", \"id\": \"\(id)\"}"
        return SealedJSON.seal(Array(object.utf8), .line)
    }

    static func newID() -> String {
        Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) })
    }

    /// Whether `etag` (as a listing gives it, quoted) is the MD5 of `bytes`.
    static func etagMatches(_ etag: String, _ bytes: [UInt8]) -> Bool {
        var text = Substring(etag)
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        return text.lowercased() == Hex.encode(Array(Insecure.MD5.hash(data: bytes)))
    }
}

extension Repository {
    /// Opens the repository in `store`: its catalog files are mirrored into this host's cache
    /// (only what changed is fetched), which is then used like a local repository whose
    /// missing blocks are fetched from the store.
    /// With `rebuild`, the cache's database is deleted first and rebuilt from the catalog
    /// files (`rescan`: it works when the database is damaged).
    public static func open(store: any ObjectStore, cache: StoreCacheOptions = StoreCacheOptions(), rebuild: Bool = false) throws -> Repository {
        let known = cache.directory ?? StoreMirror.rememberedCache(of: store)
        let (bytes, config, catalogs) = try storeConfig(store, cachedIn: known)
        // A repository written before ids existed is named by where it is.
        let id = config.id.flatMap { PointID.isValid($0) ? $0 : nil } ?? String(Digest.of(Array(store.location.utf8)).hex.prefix(32))
        let mirror = StoreMirror(store: store, root: cache.directory ?? StoreMirror.cacheDirectory(id: id), cacheLimit: cache.limit)
        try mirror.prepare(config: bytes)
        if cache.directory == nil && known != mirror.root { StoreMirror.remember(id: id, of: store) }
        // Not while a writer of this host holds the cache: it may have published a point here
        // that it is still sending, which a pull would drop. Its readers see the cache as is.
        if let lock = try? WriterLock(path: mirror.root + "/lock", wait: 0) {
            defer { lock.release() }
            try mirror.pull(listing: catalogs)
            mirror.trimCacheIfFull(holdingLock: true)
        } else {
            mirror.notes.append("another snapdex of this host is writing to \(store.location); answering from this host's cache of it")
        }
        if rebuild {
            let lock = try WriterLock(path: mirror.root + "/lock", wait: 0)
            defer { lock.release() }
            for suffix in ["", "-wal", "-shm"] { FileIO.remove(mirror.root + "/snapdex.db" + suffix) }
        }
        let repo = try Repository(root: mirror.root, mirror: mirror)
        repo.notes = mirror.notes + repo.notes
        return repo
    }

    /// Creates an empty repository in `store`: its config, written only if there is none.
    @discardableResult
    public static func create(store: any ObjectStore, cache: StoreCacheOptions = StoreCacheOptions()) throws -> Repository {
        let text = RepositoryConfig.text(id: RepositoryConfig.newID())
        guard try store.putIfAbsent("config", text) else { throw SnapdexError.repositoryExists(path: store.location) }
        return try open(store: store, cache: cache)
    }

    /// The store's config, checked, and the store's objects of `catalogs/` when they were
    /// listed on the way (nil: the pull lists them).
    ///
    /// A host that has the config in its cache (`cachedIn`) makes one request where it would
    /// make two: a LIST of the keys that start with `c`, which are the config and the objects
    /// of `catalogs/`. When the listed config's ETag is the MD5 of the cached bytes (S3 and
    /// the gateways give an object written by one PUT that ETag) the store's config is those
    /// bytes; otherwise (changed, or an ETag of another kind) it is read with a GET, as by a
    /// host new to the repository.
    static func storeConfig(_ store: any ObjectStore, cachedIn cache: String?) throws -> ([UInt8], RepositoryConfig, [ObjectInfo]?) {
        guard let cache, let cached = try? FileIO.readAll(cache + "/config") else {
            let (bytes, config) = try storeConfig(store)
            return (bytes, config, nil)
        }
        let listed = try store.list(prefix: "c")
        let catalogs = listed.filter { $0.key.hasPrefix("catalogs/") }
        if let entry = listed.first(where: { $0.key == "config" }), entry.size == Int64(cached.count),
           let etag = entry.etag, RepositoryConfig.etagMatches(etag, cached) {
            return (cached, try checkedConfig(cached, store), catalogs)
        }
        let (bytes, config) = try storeConfig(store)
        return (bytes, config, catalogs)
    }

    static func storeConfig(_ store: any ObjectStore) throws -> ([UInt8], RepositoryConfig) {
        guard let bytes = try store.get("config") else {
            if try !store.list(prefix: "catalogs/").isEmpty { throw SnapdexError.storedConfigDamaged(path: store.location + "/config", reason: "missing") }
            throw SnapdexError.repositoryMissing(path: store.location)
        }
        return (bytes, try checkedConfig(bytes, store))
    }

    private static func checkedConfig(_ bytes: [UInt8], _ store: any ObjectStore) throws -> RepositoryConfig {
        let config: RepositoryConfig
        do {
            config = try RepositoryConfig.decodeFile(bytes)
        } catch {
            throw SnapdexError.storedConfigDamaged(path: store.location + "/config", reason: error.reason)
        }
        guard config.format <= FormatConstants.repositoryVersion else {
            throw SnapdexError.repositoryNewerFormat(path: store.location, found: config.format, supported: FormatConstants.repositoryVersion)
        }
        return config
    }
}
