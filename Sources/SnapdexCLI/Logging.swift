import Logging
import SnapdexCore

/// Messages for people on standard error, through swift-log: warnings by default, progress
/// details with -v, errors only with -q. Snapdex prints no colour, so there is none to turn
/// off for pipes or NO_COLOR.
enum Log {
    nonisolated(unsafe) static var level: Logger.Level = .warning
    nonisolated(unsafe) private static var bootstrapped = false

    static var logger: Logger {
        if !bootstrapped {
            bootstrapped = true
            LoggingSystem.bootstrap { _ in StandardErrorHandler() }
        }
        var l = Logger(label: "snapdex")
        l.logLevel = level
        return l
    }

    /// `-q`: commands print nothing but errors (reports such as "indexed ..." are left out;
    /// output asked for, such as --json, is still printed).
    static var quiet: Bool { level >= .error }

    static func warning(_ message: String) { logger.warning("\(message)") }
    static func info(_ message: String) { logger.info("\(message)") }
}

/// Writes `snapdex: LEVEL: message` lines through Output, so tests capture them too.
struct StandardErrorHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        Output.current.error("snapdex: \(event.level == .info || event.level == .debug ? "" : "\(event.level): ")\(event.message)")
    }
}
