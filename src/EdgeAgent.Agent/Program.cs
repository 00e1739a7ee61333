return await EdgeAgent.Agent.AgentProgram.RunAsync(args);
