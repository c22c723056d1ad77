import SnapdexCLI
SnapdexCommand.main()
