extension Repository {
    /// Lists `path` in a point: a directory's children (with `recursive`, every group of its
    /// subtree in catalog order), or the entry itself when `path` is not a directory.
    /// Reads only the chunks that hold what is listed.
    public func list(point: PointRecord, path: [UInt8], recursive: Bool, level: DecodeLevel = .full,
                     _ body: (DirectoryGroup) throws -> Void) throws {
        let reader = try self.reader(for: point)
        try list(reader: reader, pointName: String(point.id.prefix(12)), path: path, recursive: recursive, level: level, body)
    }

    public func list(reader: CatalogReader, pointName: String, path: [UInt8], recursive: Bool, level: DecodeLevel = .full,
                     _ body: (DirectoryGroup) throws -> Void) throws {
        if !recursive || !path.isEmpty {
            guard let entry = try reader.entry(at: path, level: level) else {
                throw reader.missingPathError(pointName: pointName, path: path)
            }
            guard entry.type == .directory else {
                try body(DirectoryGroup(path: PathBytes.split(path).dir, entries: [entry]))
                return
            }
        }
        if !recursive {
            try body(DirectoryGroup(path: path, entries: try reader.list(path, level: level) ?? []))
            return
        }
        try reader.forEachGroup(under: path, level: level) { group in
            var g = group
            if g.path.isEmpty { g.entries.removeAll { $0.name.isEmpty } }
            try body(g)
            return true
        }
    }
}
