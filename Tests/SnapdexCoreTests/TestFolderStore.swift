import Foundation
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// The real FolderObjectStore, with a record of what was sent and an optional failure after a
/// number of PUTs (a store that goes away part way through a run).
final class TestFolderStore: ObjectStore, @unchecked Sendable {
    let folder: FolderObjectStore
    private let lock = NSLock()
    /// PUTs allowed before every further one fails (nil: no limit).
    var putsBeforeFailure: Int?
    /// Every key sent by `put`, in order.
    private(set) var sentKeys: [String] = []

    struct Gone: Error, CustomStringConvertible { var description: String { "connection reset by the test" } }

    init(root: String) { folder = FolderObjectStore(root: root) }

    var location: String { folder.location }

    func get(_ key: String) throws -> [UInt8]? { try folder.get(key) }

    func put(_ key: String, _ bytes: [UInt8]) throws {
        try lock.withLock {
            if let n = putsBeforeFailure {
                if n <= 0 { throw Gone() }
                putsBeforeFailure = n - 1
            }
            sentKeys.append(key)
        }
        try folder.put(key, bytes)
    }

    func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { try folder.putIfAbsent(key, bytes) }
    func head(_ key: String) throws -> ObjectInfo? { try folder.head(key) }
    func list(prefix: String) throws -> [ObjectInfo] { try folder.list(prefix: prefix) }
    func delete(_ key: String) throws { try folder.delete(key) }
    func requestCounts() -> RequestCounts { folder.requestCounts() }

    /// Moves the object's time back (the store's clock), for gc's horizon.
    func age(_ key: String, seconds: Int64) {
        let path = folder.root + "/" + key
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let t = timespec(tv_sec: st.st_mtim.tv_sec - Int(seconds), tv_nsec: 0)
        var times = [t, t]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }
}
