namespace Ko.Engine;

/// <summary>What an external program the engine ran for a face did (<see cref="KoEngine.KubectlDeleteAsync"/>).</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="StandardOutput">Its standard output (bounded).</param>
/// <param name="StandardError">Its standard error (bounded).</param>
public sealed record KoProgramResult(int ExitCode, string StandardOutput, string StandardError);
