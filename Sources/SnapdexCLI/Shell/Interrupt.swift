#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C in the browse shell: a SIGINT handler that only raises a flag, so the shell decides
/// what an interrupt means (cancel the line being typed, or stop the running command) and is
/// never killed by one. Installed without SA_RESTART, so a blocked read returns EINTR.
enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    /// Whether Ctrl-C was pressed since the last `clear()`.
    static var requested: Bool { flag != 0 }

    static func clear() { flag = 0 }

    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Interrupt.flag = 1 }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        // A parent may have started us with SIGINT blocked (the mask is inherited).
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    /// The command that was running when Ctrl-C came stops with this.
    struct Cancelled: Error, CustomStringConvertible {
        var description: String { "interrupted" }
    }

    /// Throws `Cancelled` when Ctrl-C was pressed; long loops call it between steps.
    static func check() throws { if requested { throw Cancelled() } }
}
