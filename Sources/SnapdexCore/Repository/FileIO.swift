#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// Whole-file reads and atomic writes for the repository's own files (manifests, blocks,
/// configuration). Catalog contents never go through string paths built from snapshot names.
enum FileIO {
    /// The owner new repository files and folders get: set when root opens a repository that
    /// another user owns, so that user can still read what root wrote (nil: the creator's).
    nonisolated(unsafe) static var owner: (uid: uid_t, gid: gid_t)?

    /// Gives an open file the repository's owner (`fchown(2)`), when root writes for another user.
    /// Only a file this process made: a regular file with one link that root owns. Whatever
    /// else the repository's owner put in its place (a hard link to a system file, a device)
    /// keeps its owner, so owning a repository never gains anyone a file root owns.
    static func adopt(_ fd: Int32) {
        guard let owner else { return }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1, st.st_uid == geteuid() else { return }
        _ = fchown(fd, owner.uid, owner.gid)
    }

    /// Gives a path the repository's owner (`lchown(2)`), for files made by others (SQLite's).
    static func adopt(path: String) {
        guard let owner else { return }
        var st = stat()
        guard PathCalls.lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG ? st.st_nlink == 1 : (st.st_mode & S_IFMT) == S_IFDIR,
              st.st_uid == geteuid() else { return }
        _ = PathString.withCString(path) { lchown($0, owner.uid, owner.gid) }
    }

    /// Sets `owner` from the repository folder: its owner when this process is root and it is
    /// not, else nil.
    static func adoptOwner(of root: String) {
        var st = stat()
        guard geteuid() == 0, PathCalls.stat(root, &st) == 0, st.st_uid != 0 else { owner = nil; return }
        owner = (st.st_uid, st.st_gid)
    }
    /// `open(2)` of a repository file, which must be a regular file. `O_NONBLOCK` keeps a FIFO
    /// or a device in its place from blocking the open (a FIFO opened for writing with no
    /// reader fails at once), `O_NOFOLLOW` refuses a symbolic link, and `fstat(2)` whatever
    /// else opened: each is `SnapdexError.notRegularFile` (damage), never read or written.
    static func openRegular(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        let fd: Int32
        switch syscall({ PathCalls.open(path, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, mode) }) {
        case .success(let f): fd = f
        case .failure(let e):
            // ELOOP (a symlink), ENXIO (a FIFO without a reader), EISDIR (a folder opened to write).
            var st = stat()
            if PathCalls.lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                throw SnapdexError.notRegularFile(path: path, kind: ManifestFile.kind(st))
            }
            throw SnapdexError.io("cannot open", path, e)
        }
        do {
            try requireRegular(fd, path)
        } catch {
            close(fd)
            throw error
        }
        // Regular files ignore the flag; cleared so nothing that reads this descriptor depends on that.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Throws `SnapdexError.notRegularFile` unless the open `fd` (of `path`) is a regular file.
    static func requireRegular(_ fd: Int32, _ path: String) throws {
        var st = stat()
        if case .failure(let e) = syscall({ fstat(fd, &st) }) { throw SnapdexError.io("cannot look at", path, e) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SnapdexError.notRegularFile(path: path, kind: ManifestFile.kind(st)) }
    }

    /// Throws `SnapdexError.notRegularFile` when something other than a regular file is at
    /// `path` (nothing there is fine): for files another library opens (SQLite's).
    static func requireRegularOrAbsent(_ path: String) throws {
        var st = stat()
        guard PathCalls.lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SnapdexError.notRegularFile(path: path, kind: ManifestFile.kind(st)) }
    }

    /// The bytes of `path`, or nil when it cannot be read (missing, unreadable), for files
    /// whose absence or loss the caller copes with. One that is not a regular file is still
    /// thrown: that is damage to report, never to read past.
    static func readIfReadable(_ path: String) throws -> [UInt8]? {
        do {
            return try readAll(path)
        } catch let e as SnapdexError where e.isNotRegularFile {
            throw e
        } catch {
            return nil
        }
    }

    static func readAll(_ path: String) throws -> [UInt8] {
        let fd = try openRegular(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var st = stat()
        if fstat(fd, &st) == 0 { out.reserveCapacity(Int(st.st_size)) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { b in syscall { read(fd, b.baseAddress, b.count) } }
            switch n {
            case .failure(let e): throw SnapdexError.io("cannot read", path, e)
            case .success(0): return out
            case .success(let k): out.append(contentsOf: buf[0..<k])
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return PathCalls.lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return PathCalls.stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Writes `bytes` to `path.tmp`, optionally fsyncs it, and renames it over `path`.
    static func writeAtomically(_ path: String, _ bytes: [UInt8], durable: Bool, mode: mode_t = 0o600) throws {
        let tmp = path + ".tmp"
        try write(tmp, bytes, exclusive: false, durable: durable, mode: mode)
        if case .failure(let e) = syscall({ PathCalls.rename(tmp, path) }) {
            PathCalls.unlink(tmp)
            throw SnapdexError.io("cannot rename", tmp, e)
        }
    }

    static func write(_ path: String, _ bytes: [UInt8], exclusive: Bool, durable: Bool, mode: mode_t = 0o600) throws {
        let flags = O_WRONLY | O_CREAT | (exclusive ? O_EXCL : O_TRUNC)
        let fd: Int32
        do {
            fd = try openRegular(path, flags, mode: mode)
        } catch SnapdexError.io(_, _, let e) {
            throw SnapdexError.io("cannot create", path, e)
        }
        adopt(fd)
        var ok = false
        defer {
            close(fd)
            if !ok { PathCalls.unlink(path) }
        }
        try writeAll(fd, bytes, path)
        if durable, case .failure(let e) = syscall({ fsync(fd) }) { throw SnapdexError.io("cannot sync", path, e) }
        ok = true
    }

    /// `write(2)` until every byte of `bytes` is written to `fd` (a short write goes on where
    /// it stopped; EINTR is retried); an error names `path`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws {
        var done = 0
        while done < bytes.count {
            let r = bytes.withUnsafeBytes { b in syscall { Glibc.write(fd, b.baseAddress! + done, b.count - done) } }
            switch r {
            case .failure(let e): throw SnapdexError.io("cannot write", path, e)
            case .success(let n): done += n
            }
        }
    }

    static func syncDirectory(_ path: String) throws {
        let fd = PathCalls.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapdexError.io("cannot open", path, .current) }
        defer { close(fd) }
        if case .failure(let e) = syscall({ fsync(fd) }) { throw SnapdexError.io("cannot sync", path, e) }
    }

    /// `syncfs(2)`: makes everything written on the file system holding `path` durable, at
    /// the cost of one call instead of one fsync per block.
    static func syncFileSystem(_ path: String) throws {
        let fd = PathCalls.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapdexError.io("cannot open", path, .current) }
        defer { close(fd) }
        if case .failure(let e) = syscall({ sdx_syncfs(fd) }) { throw SnapdexError.io("cannot sync", path, e) }
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        if PathCalls.mkdir(path, mode) == 0 {
            adopt(path: path)
        } else if errno != EEXIST {
            throw SnapdexError.io("cannot create directory", path, .current)
        }
    }

    static func remove(_ path: String) { PathCalls.unlink(path) }

    /// Names in a directory (empty when it does not exist).
    static func names(in path: String) -> [String] {
        guard case .success(let fd) = FS.openDirectory(path: path) else { return [] }
        defer { close(fd) }
        guard case .success(let names) = FS.listNames(in: fd) else { return [] }
        return names.map { PathString.string($0) }.sorted()
    }
}
