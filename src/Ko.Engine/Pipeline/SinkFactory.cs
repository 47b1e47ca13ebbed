using Ko.Engine.Sinks;

namespace Ko.Engine.Pipeline;

/// <summary>The sinks a plan asks for, as one tee: SBOM files, OCI layout, OCI archive, docker archive, registry (signing what it pushes with a key), daemon.</summary>
internal static class SinkFactory
{
    public static TeeSink For(BuildRun run, Signing.SigningKey? signKey)
    {
        var plan = run.Plan;
        var sinks = new List<IImageSink>();
        if (plan.SbomDirectory is not null)
        {
            sinks.Add(new SbomDirectorySink(plan.SbomDirectory, run.Logger));
        }

        if (plan.OciLayoutPath is not null)
        {
            var layout = new OciLayoutSink(plan.OciLayoutPath, plan.SbomExplicit, run.Logger, run.Progress);
            sinks.Add(signKey is null ? layout : new LayoutSigningSink(layout, plan.OciLayoutPath, signKey, plan.SignAnnotations, plan.AttestSbom));
        }

        if (plan.OciArchivePath is not null)
        {
            sinks.Add(new OciArchiveSink(plan.OciArchivePath, plan.SbomExplicit, run.Logger, run.Progress));
        }

        if (plan.TarballPath is not null)
        {
            sinks.Add(new DockerArchiveSink(plan.TarballPath, run.Logger, run.Progress));
        }

        if (plan.Push)
        {
            var registry = new RegistrySink(run.Registry, plan.SbomAttach);
            sinks.Add(signKey is null ? registry : new SigningSink(registry, run.Registry, signKey, plan.SignAnnotations, plan.AttestSbom));
        }

        if (plan.Local)
        {
            sinks.Add(new DaemonSink(run.Store, plan.Environment, run.Logger, run.Progress));
        }

        return new TeeSink(sinks);
    }
}
