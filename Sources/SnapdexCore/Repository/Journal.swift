/// What a writer is about to change, written durably to `REPO/journal` before it changes any
/// file, so that the next writer can finish the change from the files alone. One line each:
///
///     add SOURCE ID         an index being published (its manifest is the commit point)
///     remove SOURCE ID      a point being forgotten, or replaced by the added one
///     rewrite SOURCE ID     a manifest whose stored values are being changed
///     policy [NAME=VALUE]…  the change: the retention policy to store in each rewritten manifest
///     zone NAME             with a policy change: the calendar zone stored with it
///     retain NANOSECONDS|none   the change: the retain-until to store
///     source NAME           the policy change is also the source's policy for new indexes
///     snapshot HEX          the change: the snapshot folder (its path bytes in hex) that now
///                           holds the point, found by its identity after a rotation moved it
///     sha256 HEX            last: the SHA-256 of every byte before this line
///
/// A journal whose checksum is missing or does not match, or with a line that does not parse,
/// is `damage`: one flipped bit could turn an `add` into nothing and leave its `remove`, or
/// change a policy's value, so none of it is rolled forward. Lines that name an invalid source
/// or id never count: nothing read from a repository file is used as a path unchecked.
struct Journal: Equatable {
    struct Point: Equatable {
        var source: String
        var id: String
    }

    enum Change: Equatable {
        case policy([Manifest.PolicySetting], zone: String?)
        case retainUntil(Timestamp?)
        case snapshotPath(String)

        func apply(to m: inout Manifest) {
            switch self {
            case .policy(let settings, let zone): (m.policy, m.calendarZone) = (settings, zone)
            case .retainUntil(let t): m.retainUntil = t
            case .snapshotPath(let p): m.snapshotPath = p
            }
        }
    }

    var adds: [Point] = []
    var removes: [Point] = []
    var rewrites: [Point] = []
    var change: Change?
    var policySource: String?
    /// `point SOURCE ID` lines of format-1 journals: added or removed, the files decide.
    var unknown: [Point] = []
    /// Why the file read cannot be trusted (see the type's comment); nil for a whole journal.
    var damage: String?

    var points: [Point] { adds + removes + rewrites + unknown }

    func encode() -> [UInt8] {
        var text = ""
        for p in adds { text += "add \(p.source) \(p.id)\n" }
        for p in removes { text += "remove \(p.source) \(p.id)\n" }
        for p in rewrites { text += "rewrite \(p.source) \(p.id)\n" }
        switch change {
        case .policy(let settings, let zone)?:
            text += (["policy"] + settings.map { "\($0.name)=\($0.value)" }).joined(separator: " ") + "\n"
            if let zone { text += "zone \(zone)\n" }
        case .retainUntil(let t)?: text += "retain \(t.map { String($0.nanoseconds) } ?? "none")\n"
        case .snapshotPath(let p)?: text += "snapshot \(Hex.encode(PathString.bytes(p)))\n"
        case nil: break
        }
        if let policySource { text += "source \(policySource)\n" }
        return Array(text.utf8) + Array("sha256 \(Digest.of(Array(text.utf8)).hex)\n".utf8)
    }

    /// The journal in `bytes`; what it names is read even when it is damaged (readers only ask
    /// which points it names), but a writer must not roll forward one with `damage`.
    static func decode(_ bytes: [UInt8]) -> Journal {
        var j = Journal()
        var zone: String?
        var body = bytes[...]
        if let checksum = Self.checksumLine(bytes) {
            body = bytes[..<(bytes.count - checksum.length)]
            if Digest.of(body).hex != checksum.hex { j.damage = "its checksum does not match its lines" }
        } else {
            j.damage = bytes.isEmpty ? "it is empty" : "no checksum line: an older Snapdex wrote it, or it was cut short"
        }
        for (n, line) in String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty { continue }
            let f = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard let verb = f.first else { continue }
            if !Self.isWellFormed(f), j.damage == nil { j.damage = "line \(n + 1) is not one Snapdex writes" }
            if f.count == 3, ["add", "remove", "rewrite", "point"].contains(verb),
               (try? SourceConfig.validate(name: f[1])) != nil, PointID.isValid(f[2]) {
                let p = Point(source: f[1], id: f[2])
                switch verb {
                case "add": j.adds.append(p)
                case "remove": j.removes.append(p)
                case "rewrite": j.rewrites.append(p)
                default: j.unknown.append(p)
                }
            } else if verb == "policy" {
                var settings: [Manifest.PolicySetting] = []
                for pair in f.dropFirst() {
                    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2, !kv[0].isEmpty, kv[0].utf8.allSatisfy({ (97...122).contains($0) || $0 == 45 }),
                          let v = Int64(kv[1]) else { settings = []; break }
                    settings.append(Manifest.PolicySetting(name: kv[0], value: v))
                }
                if settings.count == f.count - 1 { j.change = .policy(settings, zone: nil) }
            } else if verb == "zone", f.count == 2, CalendarZone(offset: f[1]) != nil || f[1].utf8.allSatisfy({ $0 > 32 && $0 < 127 }) {
                zone = f[1]
            } else if verb == "source", f.count == 2, (try? SourceConfig.validate(name: f[1])) != nil {
                j.policySource = f[1]
            } else if verb == "snapshot", f.count == 2, let bytes = Hex.decode(f[1]), bytes.first == PathBytes.slash,
                      !bytes.contains(0) {
                // Only an absolute path without NUL: the point's snapshot folder is read from it.
                j.change = .snapshotPath(PathString.string(bytes))
            } else if verb == "retain", f.count == 2 {
                if f[1] == "none" { j.change = .retainUntil(nil) } else if let ns = Int64(f[1]) { j.change = .retainUntil(Timestamp(nanoseconds: ns)) }
            }
        }
        if case .policy(let settings, _)? = j.change { j.change = .policy(settings, zone: zone) }
        // A rewrite whose change cannot be read is not applied at all.
        if j.change == nil { j.rewrites = [] }
        return j
    }

    /// The trailing `sha256 HEX\n` line: its hex digits and its length in bytes.
    private static func checksumLine(_ bytes: [UInt8]) -> (hex: String, length: Int)? {
        let length = 7 + 64 + 1
        guard bytes.count >= length, bytes.last == 10 else { return nil }
        let line = bytes[(bytes.count - length)...]
        guard line.starts(with: Array("sha256 ".utf8)), bytes.count == length || bytes[bytes.count - length - 1] == 10 else { return nil }
        let hex = String(decoding: line.dropFirst(7).dropLast(), as: UTF8.self)
        guard hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return (hex, length)
    }

    /// Whether a line's fields are exactly what `encode` writes (a verb it knows, its fields'
    /// count and form); an invalid source name or id in a well-formed line is still ignored.
    private static func isWellFormed(_ f: [String]) -> Bool {
        switch f[0] {
        case "add", "remove", "rewrite", "point": return f.count == 3 && !f[1].isEmpty && PointID.isValid(f[2])
        case "policy":
            return f.dropFirst().allSatisfy { pair in
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return kv.count == 2 && !kv[0].isEmpty && kv[0].utf8.allSatisfy { (97...122).contains($0) || $0 == 45 } && Int64(kv[1]) != nil
            }
        case "zone", "source": return f.count == 2 && !f[1].isEmpty
        case "snapshot": return f.count == 2 && Hex.decode(f[1]) != nil
        case "retain": return f.count == 2 && (f[1] == "none" || Int64(f[1]) != nil)
        default: return false
        }
    }
}
