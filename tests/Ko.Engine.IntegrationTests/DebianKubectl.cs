namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Debian's kubectl (package kubernetes-client), fetched with <c>apt-get download</c> and unpacked with <c>dpkg -x</c>
/// into a directory of its own, so a kubectl already on the machine is neither used nor replaced. Fails loudly when
/// the package cannot be fetched.
/// </summary>
public static class DebianKubectl
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "ko-test-debian-kubectl");

    /// <summary>The path of the unpacked kubectl, fetching it the first time.</summary>
    public static async Task<string> PathAsync()
    {
        var kubectl = Path.Combine(Root, "usr", "bin", "kubectl");
        await Gate.WaitAsync();
        try
        {
            if (File.Exists(kubectl))
            {
                return kubectl;
            }

            var work = Root + "." + Guid.NewGuid().ToString("N");
            Directory.CreateDirectory(work);
            try
            {
                var download = await Tools.RunAsync("apt-get", ["download", "kubernetes-client"], workingDirectory: work, check: false);
                var deb = Directory.GetFiles(work, "kubernetes-client_*.deb").SingleOrDefault();
                if (download.ExitCode != 0 || deb is null)
                {
                    throw new InvalidOperationException($"prerequisite Debian kubectl is missing: 'apt-get download kubernetes-client' failed (exit {download.ExitCode}): {download.StandardError.Trim()} Run 'apt-get update' (as root) and try again.");
                }

                var unpacked = Path.Combine(work, "root");
                await Tools.RunAsync("dpkg", ["-x", deb, unpacked]);
                try
                {
                    Directory.Move(unpacked, Root);
                }
                catch (IOException) when (File.Exists(kubectl))
                {
                    // Another test run unpacked it first.
                }
            }
            finally
            {
                Directory.Delete(work, recursive: true);
            }

            return File.Exists(kubectl) ? kubectl : throw new InvalidOperationException($"prerequisite Debian kubectl: the kubernetes-client package held no usr/bin/kubectl under {Root}.");
        }
        finally
        {
            Gate.Release();
        }
    }
}
