import ConfoundServer

HostMain.run(arguments: CommandLine.arguments)
