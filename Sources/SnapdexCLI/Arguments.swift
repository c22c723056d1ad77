import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Refuses an empty path argument (exit 2): the system would read "" as the current
/// directory, which is never what was meant. `.` names the current directory.
func refuseEmptyPaths(_ arguments: KeyValuePairs<String, String?>) throws {
    for (name, value) in arguments where value?.isEmpty == true {
        throw ValidationError("\(name) is an empty path; name a directory (`.` is the current one)")
    }
}

enum PathArgument {
    static func parse(_ text: String) throws -> [UInt8] {
        guard let p = PathBytes.normalize(PathString.bytes(text)) else {
            throw SnapdexError.invalidArgument("path \(text) climbs above the snapshot root")
        }
        return p
    }
}

/// A time option: ISO 8601; with `endOfDay`, a date alone means its last nanosecond.
/// Exactly representable or refused (exit 2), never wrapped.
func parseTime(_ text: String?, endOfDay: Bool = false) throws -> Timestamp? {
    guard let text else { return nil }
    return try TimeParser.read(text, endOfDay: endOfDay)
}

/// A hold's end (`--until`, `--keep-until`): a time as `parseTime` with `endOfDay`, or `never`.
/// A time past 2262 cannot be stored, so its refusal names `never` (`option`) instead.
func parseHold(_ text: String?, option: String) throws -> Timestamp? {
    guard let text else { return nil }
    if text == "never" { return .never }
    do {
        let t = try TimeParser.read(text, endOfDay: true)
        // The last storable nanosecond is the sentinel of a hold with no end: a typed time must
        // never become one.
        guard !t.isNever else {
            throw SnapdexError.invalidArgument("\(text) is the last nanosecond snapdex can store, which stands for a hold with no end; use `\(option) never` for that, or an earlier time")
        }
        return t
    } catch SnapdexError.timeOutOfRange(let t, _) {
        throw SnapdexError.timeOutOfRange(t, hint: "for a hold that never ends use `\(option) never`")
    }
}
