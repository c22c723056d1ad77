/// The one canonical order of catalog entries: directories in post-order (a directory's whole
/// subtree before the directory's own group, siblings by name), each directory's children
/// together and sorted bytewise. Comparing paths component by component, with `/` below every
/// other byte, keeps each subtree contiguous.
public enum CatalogOrder {
    /// Orders two directory paths (catalog form, `[]` for the root). A descendant sorts before
    /// its ancestor.
    public static func compareDirectories(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y {
                if x == PathBytes.slash { return -1 }
                if y == PathBytes.slash { return 1 }
                return x < y ? -1 : 1
            }
            i += 1
        }
        if a.count == b.count { return 0 }
        if a.count < b.count {
            // a ended: an ancestor of b when at a component boundary, else a shorter component.
            return (a.isEmpty || b[i] == PathBytes.slash) ? 1 : -1
        }
        return (b.isEmpty || a[i] == PathBytes.slash) ? -1 : 1
    }

    /// Orders two entry keys (directory, name).
    public static func compare(dir a: [UInt8], name an: [UInt8], dir b: [UInt8], name bn: [UInt8]) -> Int {
        let d = compareDirectories(a, b)
        if d != 0 { return d }
        if an == bn { return 0 }
        return an.lexicographicallyPrecedes(bn) ? -1 : 1
    }
}
