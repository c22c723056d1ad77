import GRDB
import GRDBSQLite

/// The current row of a statement, read by column position: from SQLite's C API when the
/// value is stored as the type asked for (`points` reads 10,000 rows, and a `DatabaseValue`
/// per column costs several times more), else through GRDB's conversion, so that a damaged
/// database's odd values convert exactly as GRDB converts them.
struct SQLiteColumns {
    private let statement: SQLiteStatement?
    private let values: ((Int) -> DatabaseValue)?

    /// The row a cursor over `statement` stands on.
    init(_ statement: Statement) {
        self.statement = statement.sqliteStatement
        values = nil
    }

    /// Any row, through its `DatabaseValue`s (`values(i)` is column i's).
    init(values: @escaping (Int) -> DatabaseValue) {
        statement = nil
        self.values = values
    }

    func value(_ i: Int) -> DatabaseValue {
        if let statement { return DatabaseValue(sqliteStatement: statement, index: CInt(i)) }
        return values!(i)
    }

    func isNull(_ i: Int) -> Bool {
        if let statement { return sqlite3_column_type(statement, CInt(i)) == SQLITE_NULL }
        return value(i).isNull
    }

    /// Whether the value is text or a blob (what `textOrBlob` reads).
    func hasBytes(_ i: Int) -> Bool {
        guard let statement else { return false }
        let type = sqlite3_column_type(statement, CInt(i))
        return type == SQLITE_TEXT || type == SQLITE_BLOB
    }

    func int64(_ i: Int) -> Int64? {
        if let statement, sqlite3_column_type(statement, CInt(i)) == SQLITE_INTEGER { return sqlite3_column_int64(statement, CInt(i)) }
        return Int64.fromDatabaseValue(value(i))
    }

    func string(_ i: Int) -> String? {
        // As GRDB reads text: up to its first NUL.
        if let statement, sqlite3_column_type(statement, CInt(i)) == SQLITE_TEXT, let text = sqlite3_column_text(statement, CInt(i)) {
            return String(cString: text)
        }
        return String.fromDatabaseValue(value(i))
    }

    /// `string(i)`, given as `like` itself when it is that string: no new one is made.
    func string(_ i: Int, like: String?) -> String? {
        if var like, let statement, sqlite3_column_type(statement, CInt(i)) == SQLITE_TEXT {
            // `like` is valid UTF-8, so equal bytes without a NUL are what `string(i)` would
            // make a string of.
            let bytes = textOrBlob(i)
            if like.withUTF8({ $0.count == bytes.count && UnsafeRawBufferPointer($0).elementsEqual(bytes) }) && !bytes.contains(0) { return like }
        }
        return string(i)
    }

    func bool(_ i: Int) -> Bool? { Bool.fromDatabaseValue(value(i)) }

    /// The bytes of a text or blob value, not copied, valid until the cursor moves; empty for
    /// any other type, and for a row that does not come from a statement.
    func textOrBlob(_ i: Int) -> UnsafeRawBufferPointer {
        guard let statement else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        switch sqlite3_column_type(statement, CInt(i)) {
        case SQLITE_TEXT:
            return UnsafeRawBufferPointer(start: sqlite3_column_text(statement, CInt(i)), count: Int(sqlite3_column_bytes(statement, CInt(i))))
        case SQLITE_BLOB:
            return UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, CInt(i)), count: Int(sqlite3_column_bytes(statement, CInt(i))))
        default:
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
    }
}
