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
func parseTime(_ text: String?, endOfDay: Bool = false) throws -> Timestamp? {
    guard let text else { return nil }
    guard let t = TimeParser.parse(text, endOfDay: endOfDay) else { throw SnapdexError.invalidTime(text) }
    return t
}
