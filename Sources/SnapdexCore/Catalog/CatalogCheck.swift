/// Checks the names and order of a catalog's groups as they are decoded, chunk after chunk:
/// what no file system can hold is damage even when every block verifies. A name must not be
/// empty (but for the snapshot root's own entry), `.`, `..`, nor contain `/` or NUL; a
/// directory's names are strictly increasing (so never repeated); directories come in catalog
/// order.
struct CatalogCheck {
    private var previousDir: [UInt8]?
    private var lastName: [UInt8]?

    /// Forgets the position, after a chunk that could not be read: the next chunk is checked
    /// on its own.
    mutating func reset() {
        previousDir = nil
        lastName = nil
    }

    /// The first problem in the next chunk's groups, or nil.
    mutating func check(_ groups: [DirectoryGroup]) -> String? {
        for g in groups {
            guard RestorePlanner.isSafePath(g.path) else { return "impossible directory path \(Self.visible(g.path, path: true))" }
            if g.path != previousDir {
                if let p = previousDir, CatalogOrder.compareDirectories(p, g.path) >= 0 {
                    return "directory \(Self.visible(g.path, path: true)) is out of catalog order"
                }
                previousDir = g.path
                lastName = nil
            }
            for e in g.entries {
                let isRoot = g.path.isEmpty && lastName == nil && e.name.isEmpty
                if !isRoot {
                    guard RestorePlanner.isSafeName(e.name) else {
                        return "impossible name \(Self.visible(e.name)) in directory \(Self.visible(g.path, path: true))"
                    }
                    if let last = lastName, !last.lexicographicallyPrecedes(e.name) {
                        return last == e.name
                            ? "name \(Self.visible(e.name)) appears twice in directory \(Self.visible(g.path, path: true))"
                            : "names out of order in directory \(Self.visible(g.path, path: true))"
                    }
                }
                lastName = e.name
            }
        }
        return nil
    }

    /// Bytes as one printable, quoted line: printable ASCII kept, the rest as `\xNN`; a path
    /// is shown from the root.
    static func visible(_ bytes: [UInt8], path: Bool = false) -> String {
        var s = path ? "'/" : "'"
        for b in bytes {
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") && b != UInt8(ascii: "'") {
                s.append(Character(Unicode.Scalar(b)))
            } else {
                s += "\\x" + Hex.encode([b])
            }
        }
        return s + "'"
    }
}
