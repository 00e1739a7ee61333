using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>
/// The built web app, embedded into edgectl as resources named <c>dashboard/PATH</c> (from
/// <c>src/EdgeAgent.Cli/Dashboard/wwwroot/</c>), served with content types, ETags and Cache-Control.
/// </summary>
internal sealed class StaticAssets
{
    public const string ResourcePrefix = "dashboard/";

    private readonly Dictionary<string, Asset> _files;

    private StaticAssets(Dictionary<string, Asset> files) => _files = files;

    public IReadOnlyCollection<string> Paths => _files.Keys;

    public static StaticAssets Load(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var types = new FileExtensionContentTypeProvider();
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            var normalized = name.Replace('\\', '/');
            if (!normalized.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var path = normalized[ResourcePrefix.Length..];
            var type = types.TryGetContentType(path, out var known) ? known : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type is "application/json" or "image/svg+xml")
            {
                type += "; charset=utf-8";
            }

            files[path] = new Asset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"", CacheControlOf(path));
        }

        return new StaticAssets(files);
    }

    /// <summary>Serves <paramref name="path"/> (no leading slash) when it is an embedded file; false when it is not.</summary>
    public async Task<bool> TryServeAsync(HttpContext context, string path)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_files.TryGetValue(path, out var asset))
        {
            return false;
        }

        var response = context.Response;
        response.Headers.ETag = asset.ETag;
        response.Headers.CacheControl = asset.CacheControl;
        response.Headers["X-Content-Type-Options"] = "nosniff";
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return true;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(asset.Content, context.RequestAborted);
        }

        return true;
    }

    /// <summary>
    /// A build's hashed file names (<c>assets/index-3f9a1c2b.js</c>) never change content: cached for a year. Anything
    /// else, index.html first, is revalidated with its ETag on every load, so a new edgectl serves its new app at once.
    /// </summary>
    private static string CacheControlOf(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var dash = name.LastIndexOfAny(['-', '.']);
        var hashed = path.StartsWith("assets/", StringComparison.Ordinal) && dash >= 0 && name.Length - dash - 1 >= 8
            && name[(dash + 1)..].All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        return hashed ? "public, max-age=31536000, immutable" : "no-cache";
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag, string CacheControl);
}
