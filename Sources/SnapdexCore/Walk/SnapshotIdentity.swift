#if canImport(Glibc)
import Glibc
#endif

/// What identifies a snapshot folder, whatever its name: the folder's device and inode, and a
/// fingerprint of up to 8 of its entries (name, inode, mtime). A rotation that renames the
/// folder (rsnapshot's `mv daily.0 daily.1`) keeps all of it; a copy made in its place
/// (`cp -al daily.1 daily.0`) has another folder inode, so it is another snapshot even when
/// its name and mtime are the old ones. Stored as manifest tag 13 (docs/FORMAT.md).
public struct SnapshotIdentity: Equatable, Sendable {
    public struct Sample: Equatable, Sendable {
        public var name: [UInt8]
        public var inode: UInt64
        public var mtime: Int64
        public init(name: [UInt8], inode: UInt64, mtime: Int64) {
            self.name = name
            self.inode = inode
            self.mtime = mtime
        }
    }

    public static let maxSamples = 8

    public var device: UInt64
    public var inode: UInt64
    public var samples: [Sample]

    public init(device: UInt64, inode: UInt64, samples: [Sample]) {
        self.device = device
        self.inode = inode
        self.samples = samples
    }

    /// Reads the identity of the folder at `path` (`open(2)`, `fstat(2)`, `fstatat(2)` of
    /// the sampled names): the names in byte order, spread evenly when there are more than 8.
    public static func of(directory path: String) -> Result<SnapshotIdentity, Errno> {
        let fd: Int32
        switch FS.openDirectory(path: path) {
        case .failure(let e): return .failure(e)
        case .success(let f): fd = f
        }
        defer { FS.closeFD(fd) }
        let st: stat
        switch FS.fstat(fd) {
        case .failure(let e): return .failure(e)
        case .success(let s): st = s
        }
        let names: [[UInt8]]
        switch FS.listNames(in: fd) {
        case .failure(let e): return .failure(e)
        case .success(let n): names = n.sorted { $0.lexicographicallyPrecedes($1) }
        }
        let picked = names.count <= maxSamples
            ? names : (0..<maxSamples).map { names[$0 * names.count / maxSamples] }
        var samples: [Sample] = []
        for name in picked {
            // A name that vanished between the listing and the stat is left out.
            guard case .success(let e) = FS.lstat(name, in: fd) else { continue }
            samples.append(Sample(name: name, inode: UInt64(e.st_ino), mtime: e.fileMTime.storedNanoseconds))
        }
        return .success(SnapshotIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), samples: samples))
    }

    /// Whether a folder whose identity is `found` holds the snapshot this identity recorded.
    /// At the recorded path, the same device and inode are enough: entries changed in place
    /// are still this snapshot, and restore and cat refuse those one by one by their catalog
    /// entries. After a remount (ZFS and btrfs snapshots get a new device number) the inode
    /// and the sampled names and inodes must agree. Anywhere else (a rotation renamed the
    /// folder) the device, the inode and every sample with its mtime must agree, so that a
    /// new folder that reuses a deleted one's inode number is not taken for it.
    public func isHeld(by found: SnapshotIdentity, atRecordedPath: Bool) -> Bool {
        guard inode == found.inode else { return false }
        if atRecordedPath {
            return device == found.device
                || samples.elementsEqual(found.samples) { $0.name == $1.name && $0.inode == $1.inode }
        }
        return device == found.device && samples == found.samples
    }
}
