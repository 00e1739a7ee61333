using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Where bundles live on disk: content-addressed blobs (<c>blobs/SHA256</c>, with <c>blobs/SHA256.parts/data</c> while a file
/// is being fetched) and installed versions (<c>models/NAME/VERSION/</c> holding the envelope and the files).
/// </summary>
public sealed class BundleStore
{
    public BundleStore(IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Root = options.Value.StateDirectory;
        BlobDirectory = Path.Combine(Root, "blobs");
        ModelDirectory = Path.Combine(Root, "models");
    }

    public string Root { get; }

    public string BlobDirectory { get; }

    public string ModelDirectory { get; }

    public string BlobPath(string sha256) => Path.Combine(BlobDirectory, sha256);

    public string PartsDirectory(string sha256) => Path.Combine(BlobDirectory, sha256 + ".parts");

    public string VersionDirectory(string name, string version) => Path.Combine(ModelDirectory, name, version);

    public string EnvelopePath(string name, string version) => Path.Combine(VersionDirectory(name, version), "envelope.json");

    /// <summary>Path of a bundle file inside an installed version; the manifest paths were checked to stay inside it.</summary>
    public string FilePath(string name, string version, BundleFileEntry file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var dir = Path.GetFullPath(VersionDirectory(name, version));
        var full = Path.GetFullPath(Path.Combine(dir, file.Path));
        if (!full.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new BundleRejectedException(RejectionReason.UnsafePath, $"file path '{file.Path}' escapes the bundle folder");
        }

        return full;
    }

    public bool HasBlob(BundleFileEntry file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var info = new FileInfo(BlobPath(file.Sha256));
        return info.Exists && info.Length == file.Length;
    }
}
