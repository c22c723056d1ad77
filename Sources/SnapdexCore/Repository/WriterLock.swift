#if canImport(Glibc)
import Glibc
#endif

/// The repository's single-writer lock: an exclusive `flock(2)` on `REPO/lock`, which also
/// holds the writer's pid so that a waiting writer can name it. The kernel releases the lock
/// when the process dies, so a killed writer never leaves it held.
public final class WriterLock {
    private var fd: Int32

    /// The longest wait accepted, in seconds (a year); longer, infinite or NaN waits are clamped here
    /// and refused by the command line.
    public static let maxWait: Double = 31_536_000

    init(path: String, wait seconds: Double) throws {
        fd = try FileIO.openRegular(path, O_RDWR | O_CREAT)
        FileIO.adopt(fd)
        let bounded = seconds.isNaN ? 0 : min(max(seconds, 0), WriterLock.maxWait)
        let deadline = Timestamp.now.nanoseconds.addingReportingOverflow(Int64(bounded * 1e9)).partialValue
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { break }
            let e = errno
            guard e == EWOULDBLOCK || e == EINTR else {
                close(fd)
                throw SnapdexError.io("cannot lock", path, Errno(e))
            }
            if Timestamp.now.nanoseconds >= deadline {
                let holder = (try? FileIO.readAll(path)).flatMap { Int32(String(decoding: $0, as: UTF8.self).trimmingWhitespace) }
                close(fd)
                throw SnapdexError.repositoryLocked(path: String(path.dropLast("/lock".count)), pid: holder)
            }
            usleep(50_000)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Releases the lock; also happens when the process exits. `flock(LOCK_UN)` comes before
    /// `close`: a descriptor inherited by a child (or duplicated) would otherwise keep the
    /// lock held after this writer is done.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
