using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Agent.Diagnostics;

/// <summary>
/// The agent's effective configuration as a support bundle carries it: every key with a value, sorted, secrets replaced
/// by <see cref="Redacted"/>. A key whose name says it holds a secret (password, secret, token, credential, private
/// key, API key) is redacted, except a key that names a file (<c>...File</c>, <c>...Path</c>): its path stays and the
/// file is never read. User info in URLs (<c>mqtt://user:pass@host</c>) is redacted too.
/// </summary>
public static partial class ConfigRedaction
{
    public const string Redacted = "(redacted)";

    private static readonly string[] SecretWords = ["password", "secret", "token", "credential", "privatekey", "apikey"];

    [GeneratedRegex(@"(?<=://)[^/@\s]+@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlUserInfo();

    public static SortedDictionary<string, string> Redact(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Redact(configuration.AsEnumerable());
    }

    public static SortedDictionary<string, string> Redact(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var result = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in settings)
        {
            if (value is null)
            {
                continue;
            }

            result[key] = IsSecret(key) ? Redacted : UrlUserInfo().Replace(value, Redacted + "@");
        }

        return result;
    }

    public static bool IsSecret(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split(':');
        var last = segments[^1];
        if (last.EndsWith("File", StringComparison.OrdinalIgnoreCase) || last.EndsWith("Path", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var segment in segments)
        {
            var flat = segment.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
            if (SecretWords.Any(word => flat.Contains(word, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }
}
