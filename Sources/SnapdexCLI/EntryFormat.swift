import ArgumentParser
import Foundation
import SnapdexCore

/// One entry as a JSON object (docs/JSON.md, "ls").
enum EntryJSON {
    static func encode(_ e: FileEntry, dir: [UInt8]) -> [UInt8] { object(e, dir: dir).encoded }

    /// Without `state`, the fields a content-level decode leaves empty (ctime, inode, nlink,
    /// directory totals) are left out.
    static func object(_ e: FileEntry, dir: [UInt8], state: Bool = true) -> JSONObject {
        let path = PathBytes.display(PathBytes.join(dir, e.name))
        var o = JSONObject()
        o.string("path", bytes: path)
        if !isUTF8(path) { o.string("path_b64", Data(path).base64EncodedString()) }
        o.string("type", e.type.word)
        o.number("size", e.size)
        o.string("mode", Format.octalMode(e.permissions))
        o.number("uid", e.uid)
        o.number("gid", e.gid)
        o.string("mtime", e.mtime.rfc3339(fraction: true))
        if let b = e.mtime.boundJSON { o.string("mtime_bound", b) }
        if state {
            o.string("ctime", e.ctime.rfc3339(fraction: true))
            if let b = e.ctime.boundJSON { o.string("ctime_bound", b) }
        }
        if e.type == .symlink {
            o.string("target", bytes: e.target)
            if !isUTF8(e.target) { o.string("target_b64", Data(e.target).base64EncodedString()) }
        }
        if e.type == .charDevice || e.type == .blockDevice { o.number("device", e.device) }
        o.string("hash", e.hash?.hex)
        guard state else { return o }
        o.number("nlink", e.nlink)
        o.number("inode", e.inode)
        if e.type == .directory {
            o.number("children", e.children)
            o.number("tree_files", e.treeFiles)
            o.number("tree_bytes", e.treeBytes)
        }
        return o
    }

    static func isUTF8(_ b: [UInt8]) -> Bool { String(validating: b, as: UTF8.self) != nil }
}

enum LongFormat {
    /// With `human`, the size as GNU `ls -lh` prints it.
    static func line(_ e: FileEntry, human: Bool = false) -> [UInt8] {
        let size = e.type == .charDevice || e.type == .blockDevice ? "\(e.device >> 8 & 0xfff), \(e.device & 0xff)"
            : human ? Format.shortBytes(e.size) : "\(e.size)"
        let time = TimeDisplay.minutes(e.mtime)
        var s = Array("\(Format.permissions(e)) \(Format.pad("\(e.nlink)", 3, right: true)) \(Format.pad("\(e.uid)", 5)) \(Format.pad("\(e.gid)", 5)) \(Format.pad(size, 10, right: true)) \(time) ".utf8)
        s += Format.quoted(e.name.isEmpty ? [UInt8(ascii: "/")] : e.name)
        if e.type == .symlink { s += Array(" -> ".utf8) + Format.quoted(e.target) }
        return s
    }
}

extension FileTime {
    /// `mtime_bound`/`ctime_bound` (docs/JSON.md): `at_or_after` or `at_or_before` for a bound
    /// an older catalog kept, nil (no field) for the time itself.
    var boundJSON: String? {
        switch bound {
        case .exact: nil
        case .atOrAfter: "at_or_after"
        case .atOrBefore: "at_or_before"
        }
    }
}
