import Foundation
@testable import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// A minimal ObjectStore over a real folder (the same layout a local repository has), with
/// request counts and an optional failure after a number of PUTs (a store that goes away part
/// way). For the tests until the real stores land; it stores files, nothing in memory.
final class TestFolderStore: ObjectStore, @unchecked Sendable {
    let root: String
    private let lock = NSLock()
    private var counts = RequestCounts()
    /// PUTs allowed before every further one fails (nil: no limit).
    var putsBeforeFailure: Int?
    /// Every key sent by `put`, in order.
    private(set) var sentKeys: [String] = []

    struct Gone: Error, CustomStringConvertible { var description: String { "connection reset by the test" } }

    init(root: String) {
        self.root = root
        Tree.mkdir(root)
    }

    var location: String { "test-store:" + root }

    private func count(_ body: (inout RequestCounts) -> Void) { lock.withLock { body(&counts) } }

    func get(_ key: String) throws -> [UInt8]? {
        count { $0.get += 1 }
        guard let d = FileManager.default.contents(atPath: root + "/" + key) else { return nil }
        count { $0.bytesReceived += Int64(d.count) }
        return [UInt8](d)
    }

    func put(_ key: String, _ bytes: [UInt8]) throws {
        try lock.withLock {
            if let n = putsBeforeFailure {
                if n <= 0 { throw Gone() }
                putsBeforeFailure = n - 1
            }
            counts.put += 1
            counts.bytesSent += Int64(bytes.count)
            sentKeys.append(key)
        }
        let path = root + "/" + key
        Tree.mkdir((path as NSString).deletingLastPathComponent)
        let tmp = path + ".\(UInt64.random(in: 0...UInt64.max)).part"
        try Data(bytes).write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else { throw Gone() }
    }

    func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        count { $0.put += 1 }
        let path = root + "/" + key
        Tree.mkdir((path as NSString).deletingLastPathComponent)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { return false }
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return true
    }

    func head(_ key: String) throws -> ObjectInfo? {
        count { $0.head += 1 }
        return info(key)
    }

    private func info(_ key: String) -> ObjectInfo? {
        var st = stat()
        guard stat(root + "/" + key, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return ObjectInfo(key: key, size: Int64(st.st_size), modifiedSeconds: Int64(st.st_mtim.tv_sec))
    }

    func list(prefix: String) throws -> [ObjectInfo] {
        count { $0.list += 1 }
        var out: [ObjectInfo] = []
        let e = FileManager.default.enumerator(atPath: root)
        while let rel = e?.nextObject() as? String {
            guard rel.hasPrefix(prefix), !rel.hasSuffix(".part"), let i = info(rel) else { continue }
            out.append(i)
        }
        return out.sorted { $0.key < $1.key }
    }

    func delete(_ key: String) throws {
        count { $0.delete += 1 }
        unlink(root + "/" + key)
    }

    func requestCounts() -> RequestCounts { lock.withLock { counts } }

    /// Sets the object's time (the store's clock), for gc's horizon.
    func age(_ key: String, seconds: Int64) {
        var st = stat()
        guard stat(root + "/" + key, &st) == 0 else { return }
        var times = [timespec(tv_sec: st.st_mtim.tv_sec - Int(seconds), tv_nsec: 0), timespec(tv_sec: st.st_mtim.tv_sec - Int(seconds), tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, root + "/" + key, &times, 0)
    }
}
