import Foundation

extension Repository {
    /// The session log's records, and how many of its lines could not be read (a damaged or
    /// half-written line is counted, never silently dropped).
    public func sessionLog() throws -> (sessions: [SessionRecord], unreadable: Int) {
        guard let bytes = try FileIO.readIfReadable(sessionsPath) else { return ([], 0) }
        var sessions: [SessionRecord] = []
        var unreadable = 0
        let decoder = JSONDecoder()
        for line in bytes.split(separator: 10) {
            if let s = try? decoder.decode(SessionRecord.self, from: Data(line)) {
                sessions.append(s)
            } else {
                unreadable += 1
            }
        }
        return (sessions, unreadable)
    }
}
