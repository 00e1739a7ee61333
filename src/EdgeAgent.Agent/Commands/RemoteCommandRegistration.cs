using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeAgent.Agent.Commands;

public static class RemoteCommandRegistration
{
    /// <summary>Adds a remote command verb (<see cref="IRemoteCommand"/>, a singleton) to the agent.</summary>
    public static IServiceCollection AddRemoteCommand<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>(this IServiceCollection services)
        where T : class, IRemoteCommand
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<T>();
        services.AddSingleton<IRemoteCommand>(sp => sp.GetRequiredService<T>());
        return services;
    }
}
