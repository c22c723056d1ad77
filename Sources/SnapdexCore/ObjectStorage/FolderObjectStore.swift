import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An ObjectStore that is a local folder laid out as a local repository: key `a/b/c` is the
/// file `ROOT/a/b/c`. What it writes is what a local repository writes (block files 0400,
/// other files 0600, folders 0700), so the folder is an ordinary repository to every command.
///
/// Every call walks from a descriptor of the root with `openat`, never following a symlink, so
/// a key cannot reach outside the folder. A put writes `NAME.RANDOM.tmp`, fsyncs it, renames it into
/// place and fsyncs the folder: a reader sees the old file or the new one, and a put that
/// returned survives a crash. `.tmp` is the suffix a local repository's own recovery and gc
/// remove, so a killed put leaves nothing they do not clean.
public final class FolderObjectStore: ObjectStore, @unchecked Sendable {
    public let root: String
    public var location: String { root }
    private let lock = NSLock()
    private var counts = RequestCounts()

    /// A store over the folder `root` (made, with its parents, by the first put).
    public init(root: String) {
        self.root = root
    }

    public func requestCounts() -> RequestCounts { lock.withLock { counts } }

    private func count(_ body: (inout RequestCounts) -> Void) { lock.withLock { body(&counts) } }

    public func get(_ key: String) throws -> [UInt8]? {
        let (dirs, name) = try FolderObjectStore.split(key)
        count { $0.get += 1 }
        guard let dfd = try openParent(dirs, create: false) else { return nil }
        defer { close(dfd) }
        let fd: Int32
        switch FS.withCName(name, { n in syscall { openat(dfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) } }) {
        case .success(let f): fd = f
        case .failure(let e) where e == .noEntry: return nil
        case .failure(let e): throw SnapdexError.io("cannot open", path(key), e)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { b in syscall { read(fd, b.baseAddress, b.count) } }
            switch n {
            case .failure(let e): throw SnapdexError.io("cannot read", path(key), e)
            case .success(0):
                count { $0.bytesReceived += Int64(out.count) }
                return out
            case .success(let k): out.append(contentsOf: buf[0..<k])
            }
        }
    }

    public func put(_ key: String, _ bytes: [UInt8]) throws {
        _ = try store(key, bytes, replace: true)
    }

    public func putIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool {
        try store(key, bytes, replace: false)
    }

    public func head(_ key: String) throws -> ObjectInfo? {
        let (dirs, name) = try FolderObjectStore.split(key)
        count { $0.head += 1 }
        guard let dfd = try openParent(dirs, create: false) else { return nil }
        defer { close(dfd) }
        switch FS.lstat(name, in: dfd) {
        case .success(let st) where (st.st_mode & S_IFMT) == S_IFREG:
            return ObjectInfo(key: key, size: Int64(st.st_size), modifiedSeconds: Int64(st.st_mtim.tv_sec))
        case .success: return nil
        case .failure(let e) where e == .noEntry: return nil
        case .failure(let e): throw SnapdexError.io("cannot stat", path(key), e)
        }
    }

    /// Walks the folders under the longest folder the prefix names, so listing
    /// `catalogs/home/` reads only that folder.
    public func list(prefix: String) throws -> [ObjectInfo] {
        count { $0.list += 1 }
        var folder = Array(prefix.utf8)
        while let last = folder.last, last != PathBytes.slash { folder.removeLast() }
        if !folder.isEmpty { folder.removeLast() }
        let dirs = folder.isEmpty ? [] : folder.split(separator: PathBytes.slash, omittingEmptySubsequences: false).map(Array.init)
        guard dirs.allSatisfy(FolderObjectStore.isName) else { throw SnapdexError.objectKeyInvalid(key: prefix) }
        guard let dfd = try openParent(dirs, create: false) else { return [] }
        defer { close(dfd) }
        var out: [ObjectInfo] = []
        let wanted = Array(prefix.utf8)
        try walk(dfd, prefix: folder.isEmpty ? [] : folder + [PathBytes.slash], wanted: wanted, into: &out)
        return out.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }

    public func delete(_ key: String) throws {
        let (dirs, name) = try FolderObjectStore.split(key)
        count { $0.delete += 1 }
        guard let dfd = try openParent(dirs, create: false) else { return }
        defer { close(dfd) }
        if case .failure(let e) = FS.withCName(name, { n in syscall { unlinkat(dfd, n, 0) } }), e != .noEntry {
            throw SnapdexError.io("cannot remove", path(key), e)
        }
    }

    // MARK: Inside

    private func path(_ key: String) -> String { root + "/" + key }

    /// Writes `NAME.RANDOM.tmp`, fsyncs it, then renames it over the key (or, without `replace`,
    /// links it to the key, which fails when the key exists), and fsyncs the folder.
    private func store(_ key: String, _ bytes: [UInt8], replace: Bool) throws -> Bool {
        let (dirs, name) = try FolderObjectStore.split(key)
        count { $0.put += 1 }
        guard let dfd = try openParent(dirs, create: true) else { throw SnapdexError.io("cannot create directory", path(key), .noEntry) }
        defer { close(dfd) }
        // Its own temporary: writers on other hosts may put the same key at once (two index
        // runs sending one block), and must not remove or rename each other's.
        let unique = "." + String(UInt64.random(in: 0...UInt64.max), radix: 16) + ".tmp"
        let tmp = name + Array(unique.utf8)
        let shown = path(key) + unique
        let mode: mode_t = key.hasPrefix("blocks/") ? 0o400 : 0o600
        let fd: Int32
        switch FS.withCName(tmp, { t in syscall { openat(dfd, t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) } }) {
        case .success(let f): fd = f
        case .failure(let e): throw SnapdexError.io("cannot create", shown, e)
        }
        FileIO.adopt(fd)
        var placed = false
        defer { if !placed { _ = FS.withCName(tmp) { unlinkat(dfd, $0, 0) } } }
        do {
            defer { close(fd) }
            try FileIO.writeAll(fd, bytes, shown)
            if case .failure(let e) = syscall({ fsync(fd) }) { throw SnapdexError.io("cannot sync", shown, e) }
        }
        if replace {
            let r = FS.withCName(tmp) { t in FS.withCName(name) { n in syscall { renameat(dfd, t, dfd, n) } } }
            if case .failure(let e) = r { throw SnapdexError.io("cannot rename", shown, e) }
            placed = true
        } else {
            let r = FS.withCName(tmp) { t in FS.withCName(name) { n in syscall { linkat(dfd, t, dfd, n, 0) } } }
            _ = FS.withCName(tmp) { unlinkat(dfd, $0, 0) }
            placed = true
            switch r {
            case .failure(let e) where e == .exists: return false
            case .failure(let e): throw SnapdexError.io("cannot link", path(key), e)
            case .success: break
            }
        }
        if case .failure(let e) = syscall({ fsync(dfd) }) { throw SnapdexError.io("cannot sync", path(key), e) }
        count { $0.bytesSent += Int64(bytes.count) }
        return true
    }

    /// A descriptor of the folder holding a key, from the root down, one `openat` per
    /// component; nil when one is missing (and `create` is false).
    private func openParent(_ dirs: [[UInt8]], create: Bool) throws -> Int32? {
        if create, !FileIO.isDirectory(root) {
            if case .failure(let e) = PathCalls.makeDirectories(root, mode: 0o700) { throw SnapdexError.io("cannot create directory", root, e) }
        }
        var fd: Int32
        switch FS.openDirectory(path: root) {
        case .success(let f): fd = f
        case .failure(let e) where e == .noEntry && !create: return nil
        case .failure(let e): throw SnapdexError.io("cannot open", root, e)
        }
        var walked = root
        for d in dirs {
            walked += "/" + PathString.string(d)
            var next = FS.openDirectory(d, in: fd)
            if case .failure(let e) = next, e == .noEntry, create {
                if FS.withCName(d, { mkdirat(fd, $0, 0o700) }) == 0 {
                    _ = FS.withCName(d) { n in fchownat(fd, n, FileIO.owner?.uid ?? UInt32.max, FileIO.owner?.gid ?? UInt32.max, AT_SYMLINK_NOFOLLOW) }
                    _ = fsync(fd)
                } else if errno != EEXIST {
                    let e = Errno.current
                    close(fd)
                    throw SnapdexError.io("cannot create directory", walked, e)
                }
                next = FS.openDirectory(d, in: fd)
            }
            close(fd)
            switch next {
            case .success(let f): fd = f
            case .failure(let e) where (e == .noEntry || e == .notDirectory) && !create: return nil
            case .failure(let e): throw SnapdexError.io("cannot open", walked, e)
            }
        }
        return fd
    }

    /// Every regular file under `dfd` whose key starts with `wanted`, skipping `.tmp` files (a
    /// put in progress or one a kill interrupted) and anything that is not a file or folder.
    private func walk(_ dfd: Int32, prefix: [UInt8], wanted: [UInt8], into out: inout [ObjectInfo]) throws {
        let names: [[UInt8]]
        switch FS.listNames(in: dfd) {
        case .success(let n): names = n
        case .failure(let e): throw SnapdexError.io("cannot list", root + "/" + PathString.string(prefix), e)
        }
        for name in names {
            let key = prefix + name
            // Only folders on the way to the prefix, or under it, are worth entering.
            let n = min(key.count, wanted.count)
            guard key[0..<n].elementsEqual(wanted[0..<n]) else { continue }
            guard case .success(let st) = FS.lstat(name, in: dfd) else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                guard case .success(let sub) = FS.openDirectory(name, in: dfd) else { continue }
                defer { close(sub) }
                try walk(sub, prefix: key + [PathBytes.slash], wanted: wanted, into: &out)
            case S_IFREG where key.count >= wanted.count && !name.ends(with: Array(".tmp".utf8)):
                out.append(ObjectInfo(key: PathString.string(key), size: Int64(st.st_size), modifiedSeconds: Int64(st.st_mtim.tv_sec)))
            default: continue
            }
        }
    }

    /// A key's folders and file name. Keys are relative paths of plain names: no empty
    /// component, no `.` or `..`, no NUL, and never a name ending in `.tmp` (the suffix of a
    /// put in progress).
    static func split(_ key: String) throws -> (dirs: [[UInt8]], name: [UInt8]) {
        let parts = Array(key.utf8).split(separator: PathBytes.slash, omittingEmptySubsequences: false).map(Array.init)
        guard let name = parts.last, parts.allSatisfy(isName), !name.ends(with: Array(".tmp".utf8)) else {
            throw SnapdexError.objectKeyInvalid(key: key)
        }
        return (Array(parts.dropLast()), name)
    }

    static func isName(_ n: [UInt8]) -> Bool {
        !n.isEmpty && n != [46] && n != [46, 46] && !n.contains(0) && n.count <= 255
    }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix) }
}
