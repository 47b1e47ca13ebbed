namespace Nuke.Ko;

/// <summary>Counts that show what a build or push did and what it could skip.</summary>
/// <param name="GoBuilds">How many <c>go build</c> invocations ran.</param>
/// <param name="LayersWritten">Layers tarred, compressed and hashed in this run.</param>
/// <param name="LayersReused">Layers taken from the cache.</param>
/// <param name="BlobsUploaded">Blobs uploaded to a registry; 0 without a push.</param>
/// <param name="BlobsSkipped">Blobs a registry already had; 0 without a push.</param>
/// <param name="BlobsMounted">Base-image blobs a registry mounted from another of its repositories; 0 without a push.</param>
public sealed record KoBuildStatistics(int GoBuilds, int LayersWritten, int LayersReused, int BlobsUploaded, int BlobsSkipped, int BlobsMounted);
