namespace Ko.Engine.Go;

/// <summary>
/// How <see cref="GoBinaryStamp.LayerVerifiedAsync{T}"/> finds and records a binary's layer by its Go build ID
/// instead of its content hash.
/// </summary>
/// <typeparam name="T">The layer result.</typeparam>
/// <param name="BeforeBuild">The binary's stat fingerprint just before this run's go build (null: it did not exist).</param>
/// <param name="TryGet">The layer cached under a build ID and binary size, or null.</param>
/// <param name="Remember">Records a layer (made from the binary's hashed bytes) under a build ID and binary size.</param>
internal sealed record BuildIdRoute<T>(Util.FileFingerprint? BeforeBuild, Func<string, long, Task<T?>> TryGet, Func<string, long, T, Task> Remember)
    where T : struct;
