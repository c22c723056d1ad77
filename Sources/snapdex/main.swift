import SnapdexCLI

#if canImport(Glibc)
import Glibc
#endif

exit(SnapdexCommand.runMain())
