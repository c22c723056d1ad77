#if canImport(Glibc)
import Glibc
#endif

/// Temporary names a restore writes under (`.snapdex-PID-N.tmp` in the target,
/// `.snapdex-tar-PID-N.tmp` beside a `--tar FILE`) and how a later restore tells that the
/// process that made one is gone, so the name is left over and can be removed.
enum StaleTemporaries {
    static let restorePrefix = Array(".snapdex-".utf8)
    static let tarPrefix = Array(".snapdex-tar-".utf8)

    static func name(prefix: [UInt8], pid: pid_t, n: UInt32) -> [UInt8] { prefix + Array("\(pid)-\(n).tmp".utf8) }

    /// The pid in a name exactly as `name(prefix:pid:n:)` makes it, or nil for any other name.
    static func pid(in name: [UInt8], prefix: [UInt8]) -> pid_t? {
        let suffix = Array(".tmp".utf8)
        guard name.count > prefix.count + suffix.count, name.starts(with: prefix), name.suffix(suffix.count).elementsEqual(suffix) else { return nil }
        let parts = name[prefix.count..<(name.count - suffix.count)].split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 2,
              let pid = pid_t(String(decoding: parts[0], as: UTF8.self)), let n = UInt32(String(decoding: parts[1], as: UTF8.self)),
              pid > 0, Self.name(prefix: prefix, pid: pid, n: n) == name  // no sign, no leading zeros
        else { return nil }
        return pid
    }

    /// Whether the process that made a temporary last changed at `changed` (its ctime, in
    /// seconds) is gone: no such process, a zombie (killed but not yet reaped: a killed
    /// restore's parent may never reap it), or a process that started after the file was last
    /// changed (the pid was reused). Never this process.
    static func isAbandoned(pid: pid_t, changed: Int) -> Bool {
        guard pid != getpid() else { return false }
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let stat = readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return false }
        // After "pid (comm)": state is the 1st field, starttime (clock ticks after boot) the 20th.
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 19 else { return false }
        if fields[0].first == UInt8(ascii: "Z") || fields[0].first == UInt8(ascii: "X") { return true }
        guard let ticks = Int(String(decoding: fields[19], as: UTF8.self)), let boot = bootTime() else { return false }
        let started = boot + ticks / max(sysconf(Int32(_SC_CLK_TCK)), 1)
        return started > changed + 1
    }

    /// Removes, in the directory `dfd`, every non-directory whose name has `prefix` and whose
    /// process is gone; returns how many.
    static func sweep(in dfd: Int32, prefix: [UInt8]) -> Int {
        guard case .success(let names) = FS.listNames(in: dfd) else { return 0 }
        var removed = 0
        for name in names {
            guard let pid = pid(in: name, prefix: prefix),
                  case .success(let st) = FS.lstat(name, in: dfd), (UInt32(st.st_mode) & 0o170000) != 0o040000,
                  isAbandoned(pid: pid, changed: Int(st.st_ctim.tv_sec))
            else { continue }
            if FS.withCName(name, { unlinkat(dfd, $0, 0) }) == 0 { removed += 1 }
        }
        return removed
    }

    /// Seconds since the epoch when the system booted (`btime` in /proc/stat).
    private static func bootTime() -> Int? {
        guard let text = readText("/proc/stat") else { return nil }
        for line in text.split(separator: 10) where line.starts(with: Array("btime ".utf8)) {
            return Int(String(decoding: line.dropFirst(6), as: UTF8.self))
        }
        return nil
    }

    private static func readText(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
