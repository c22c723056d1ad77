#if canImport(Glibc)
import Glibc
#endif

/// The file `restore --tar FILE` writes: a temporary file beside FILE, moved into place only
/// when the archive is complete, so a failed restore never leaves a truncated archive and an
/// existing FILE is replaced only with `--overwrite`.
public final class ArchiveFile {
    public let path: String
    /// The descriptor the archive is written to.
    public let fd: Int32
    /// The temporary name, or nil when FILE is a device or fifo written directly (`/dev/null`).
    private let temporary: String?
    private let overwrite: Bool
    /// FILE existed before: a failure leaves it as it was.
    public let replacing: Bool
    /// Written straight to FILE, a device or fifo: what was written cannot be taken back.
    public var isDirect: Bool { temporary == nil }
    private var isOpen = true
    /// Temporaries of killed `--tar` runs removed from FILE's directory.
    public private(set) var staleTempFilesRemoved = 0

    /// GNU tar's rule: an archive is binary, never for a terminal.
    public static func refuseTerminal(_ fd: Int32) throws {
        if isatty(fd) != 0 { throw SnapdexError.archiveToTerminal }
    }

    /// What is at `path` now, checked as `create` would; changes nothing (for `--dry-run`).
    /// Returns true when FILE is a device or fifo to write to directly.
    @discardableResult
    public static func check(_ path: String, overwrite: Bool) throws -> (direct: Bool, exists: Bool) {
        var st = stat()
        guard PathCalls.lstat(path, &st) == 0 else {
            if errno == ENOENT { return (false, false) }
            throw SnapdexError.io("cannot look at", path, .current)
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: throw SnapdexError.invalidArgument("\(path) is a directory; name the archive file, such as \(path)/restore.tar")
        case S_IFCHR, S_IFIFO: return (true, true)
        default:
            if !overwrite { throw SnapdexError.archiveExists(path: path) }
            return (false, true)
        }
    }

    public init(creating path: String, overwrite: Bool) throws {
        self.path = path
        self.overwrite = overwrite
        let (direct, exists) = try Self.check(path, overwrite: overwrite)
        replacing = exists
        if direct {
            temporary = nil
            fd = PathCalls.open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw SnapdexError.io("cannot open", path, .current) }
            do { try Self.refuseTerminal(fd) } catch { Glibc.close(fd); throw error }
            return
        }
        // A killed `--tar FILE` left its temporary beside FILE: remove those whose process is gone.
        let dir = Self.directory(of: path)
        if case .success(let dfd) = FS.openDirectory(path: dir.isEmpty ? "." : dir) {
            staleTempFilesRemoved = StaleTemporaries.sweep(in: dfd, prefix: StaleTemporaries.tarPrefix)
            Glibc.close(dfd)
        }
        // Not FILE's name plus a suffix: that could pass NAME_MAX.
        let name = StaleTemporaries.name(prefix: StaleTemporaries.tarPrefix, pid: getpid(), n: UInt32.random(in: 0...UInt32.max))
        let tmp = dir + String(decoding: name, as: UTF8.self)
        temporary = tmp
        fd = PathCalls.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SnapdexError.io("cannot create a temporary file beside", path, .current) }
    }

    /// Makes the archive durable and moves it to FILE (over an old one only with --overwrite).
    public func publish() throws {
        guard isOpen, let tmp = temporary else {
            close()
            return
        }
        do {
            if case .failure(let e) = syscall({ fsync(fd) }) { throw SnapdexError.io("cannot sync", tmp, e) }
            close()
            if overwrite {
                if PathCalls.rename(tmp, path) != 0 { throw SnapdexError.io("cannot rename to \(path):", tmp, .current) }
            } else {
                // link(2) never replaces: FILE made meanwhile by someone else is kept.
                if PathCalls.link(tmp, path) != 0 {
                    if errno == EEXIST { throw SnapdexError.archiveExists(path: path) }
                    throw SnapdexError.io("cannot link to \(path):", tmp, .current)
                }
                PathCalls.unlink(tmp)
            }
        } catch {
            discard()
            throw error
        }
        let dir = Self.directory(of: path)
        try? FileIO.syncDirectory(dir.isEmpty ? "." : dir)
    }

    /// FILE's directory with its trailing slash (`/` for `/x.tar`), or "" for a bare name.
    static func directory(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[...$0]) } ?? ""
    }

    /// Removes the partial archive; FILE, if it was there, is untouched.
    public func discard() {
        close()
        if let temporary { PathCalls.unlink(temporary) }
    }

    private func close() {
        if isOpen { Glibc.close(fd) }
        isOpen = false
    }
}
