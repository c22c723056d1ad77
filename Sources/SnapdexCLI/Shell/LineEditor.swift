@preconcurrency import CEditLine
import SnapdexCore

#if canImport(Glibc)
import Glibc
#endif

/// Line editing through libedit's native API (el_init / el_gets), with history in a file and
/// Tab bound to a completion function that edits the line itself, so what it inserts is
/// quoted exactly as the shell's `ls` prints names. Ctrl-C cancels the line being typed (the
/// SIGINT handler raises `Interrupt`; the character reader turns that into ^C, bound to
/// `snapdex-cancel`); Ctrl-D on an empty line ends input.
final class LineEditor {
    /// What reading one line gave.
    enum Input {
        case line(String)
        case cancelled
        case end
    }

    /// What Tab does with the text before the cursor.
    enum Completion {
        /// Replace the last `characters` characters before the cursor with `text`.
        case replace(characters: Int, text: String)
        /// Show these choices under the line and leave it as it is.
        case choices([String])
        case nothing
    }

    private let el: OpaquePointer
    private let history: OpaquePointer
    private let historyFile: String
    private var cancelled = false
    var prompt: () -> String
    let complete: (String) -> Completion

    nonisolated(unsafe) private static weak var current: LineEditor?
    nonisolated(unsafe) private static var promptBytes: [CChar] = [0]

    init(program: String, historyFile: String, prompt: @escaping () -> String, complete: @escaping (String) -> Completion) {
        // libedit decodes typed characters by the locale; without a UTF-8 one it cannot edit
        // non-ASCII names.
        if setlocale(LC_CTYPE, "") == nil || String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        el = el_init(program, stdin, stdout, stderr)
        history = history_init()
        self.historyFile = historyFile
        self.prompt = prompt
        self.complete = complete
        snapdex_history_setup(history, 1000)
        snapdex_history_load(history, historyFile)
        snapdex_el_set_history(el, history)
        snapdex_el_set_emacs(el)
        snapdex_el_set_prompt(el) { _ in
            LineEditor.promptBytes = (LineEditor.current?.prompt() ?? "> ").utf8CString.map { $0 }
            return LineEditor.promptBytes.withUnsafeMutableBufferPointer { $0.baseAddress! }
        }
        snapdex_el_set_getc(el) { _, ch in LineEditor.readCharacter(ch) }
        snapdex_el_add_function(el, "snapdex-complete", "Complete a command or catalog path") { el, _ in
            LineEditor.current?.completeLine() ?? UInt8(CC_NORM)
        }
        snapdex_el_add_function(el, "snapdex-cancel", "Cancel the line") { el, _ in
            LineEditor.current?.cancelled = true
            return UInt8(CC_NEWLINE)
        }
        snapdex_el_bind(el, "^I", "snapdex-complete")
        snapdex_el_bind(el, "^C", "snapdex-cancel")
        LineEditor.current = self
    }

    deinit {
        snapdex_history_save(history, historyFile)
        history_end(history)
        el_end(el)
    }

    /// Reads one line (without its newline).
    func read() -> Input {
        cancelled = false
        // Ctrl-C between commands, before libedit has the terminal: the terminal has shown
        // ^C and dropped what was typed; start a fresh line.
        if Interrupt.requested {
            Interrupt.clear()
            fputs("\n", stdout)
            fflush(stdout)
            return .cancelled
        }
        var count: Int32 = 0
        let raw = el_gets(el, &count)
        if cancelled {
            fputs("^C\n", stdout)
            fflush(stdout)
            return .cancelled
        }
        guard let raw, count > 0 else { return .end }
        var line = String(cString: raw)
        if line.hasSuffix("\n") { line.removeLast() }
        if !line.allSatisfy(\.isWhitespace) { snapdex_history_enter(history, line) }
        return .line(line)
    }

    /// libedit's character reader: one UTF-8 character from standard input, or ^C when
    /// Ctrl-C interrupted the read.
    private static func readCharacter(_ ch: UnsafeMutablePointer<wchar_t>?) -> Int32 {
        var bytes: [UInt8] = []
        while true {
            var b: UInt8 = 0
            // Checked before the read too: a Ctrl-C that came just before it interrupts nothing.
            let n = Interrupt.requested ? -1 : Glibc.read(0, &b, 1)
            if n < 0 && (Interrupt.requested || errno == EINTR) {
                guard Interrupt.requested else { continue }
                Interrupt.clear()
                ch?.pointee = 3  // ^C, bound to snapdex-cancel
                return 1
            }
            guard n == 1 else { return n == 0 ? 0 : -1 }
            bytes.append(b)
            let need = bytes[0] < 0x80 ? 1 : bytes[0] >= 0xf0 ? 4 : bytes[0] >= 0xe0 ? 3 : bytes[0] >= 0xc0 ? 2 : 1
            guard bytes.count >= need else { continue }
            let scalar = String(decoding: bytes, as: UTF8.self).unicodeScalars.first?.value ?? 0xfffd
            ch?.pointee = wchar_t(bitPattern: scalar)
            return 1
        }
    }

    /// Tab: asks `complete` about the text before the cursor and edits the line. Never rings
    /// the bell: with nothing to add it shows the choices, or does nothing.
    private func completeLine() -> UInt8 {
        guard let info = el_line(el) else { return UInt8(CC_NORM) }
        let before = String(decoding: UnsafeRawBufferPointer(start: info.pointee.buffer, count: info.pointee.cursor - info.pointee.buffer), as: UTF8.self)
        switch complete(before) {
        case .replace(let characters, let text):
            el_deletestr(el, Int32(characters))
            el_insertstr(el, text)
            return UInt8(CC_REFRESH)
        case .choices(let names):
            fputs("\n" + LineEditor.columns(names) , stdout)
            fflush(stdout)
            return UInt8(CC_REDISPLAY)
        case .nothing:
            return UInt8(CC_NORM)
        }
    }

    /// Names in columns across the terminal's width, as ls does.
    static func columns(_ names: [String]) -> String {
        var ws = winsize()
        let width = ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? Int(ws.ws_col) : 80
        let cell = (names.map(\.count).max() ?? 0) + 2
        let perRow = max(1, width / cell)
        var text = ""
        for (i, name) in names.enumerated() {
            text += i % perRow == perRow - 1 || i == names.count - 1 ? name + "\n" : name.padding(toLength: cell, withPad: " ", startingAt: 0)
        }
        return text
    }
}
