import Foundation
import PluginHost

exit(WorkerMain.run(arguments: CommandLine.arguments))
