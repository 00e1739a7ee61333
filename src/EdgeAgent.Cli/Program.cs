return await EdgeAgent.Cli.EdgectlApp.RunAsync(args);
