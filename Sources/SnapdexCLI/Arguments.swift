import ArgumentParser
import Foundation
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

enum PathArgument {
    static func parse(_ text: String) throws -> [UInt8] {
        guard let p = PathBytes.normalize(text) else {
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
        return try TimeParser.read(text, endOfDay: true)
    } catch SnapdexError.timeOutOfRange(let t, _) {
        throw SnapdexError.timeOutOfRange(t, hint: "for a hold that never ends use `\(option) never`")
    }
}
