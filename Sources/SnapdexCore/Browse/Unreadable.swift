extension CatalogReader {
    /// Why `path` is not in this point: a path the walk could not read (it, or a directory
    /// above it), or nil when it simply was not there.
    public func unreadableReason(for path: [UInt8]) -> UnreadablePath? {
        let list = manifest.unreadable
        if let entry = list.listed.first(where: { $0.what == .entry && $0.path == path }) { return entry }
        return list.directory(containing: path)
    }

    /// The error for a path that is not in this point: `pathNotRead` when the point is partial
    /// there, else `pathNotFound`.
    public func missingPathError(pointName: String, path: [UInt8]) -> SnapdexError {
        let shown = String(decoding: PathBytes.display(path), as: UTF8.self)
        if let u = unreadableReason(for: path) {
            return .pathNotRead(point: pointName, path: shown, source: manifest.source, unreadable: u)
        }
        return .pathNotFound(point: pointName, path: shown)
    }

    /// What could not be read when the point was indexed, at `path` itself or inside the
    /// directory `path` (entries missing from it, link targets, hashes).
    public func unreadable(at path: [UInt8]) -> [UnreadablePath] {
        let list = manifest.unreadable
        guard !list.isEmpty else { return [] }
        return list.listed.filter { $0.path == path } + list.children(of: path).filter { $0.path != path }
    }
}
