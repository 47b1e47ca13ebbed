namespace Ko.Engine.Registry;

/// <summary>
/// Retries 408/429/5xx responses and I/O failures with backoff and jitter, honouring <c>Retry-After</c>, bounded by
/// <see cref="RegistryOptions.MaxAttempts"/> and <see cref="RegistryOptions.RetryBudget"/>. (Being written: until
/// then it passes requests through once.)
/// </summary>
internal sealed class RetryHandler(RegistryOptions options) : DelegatingHandler
{
    internal RegistryOptions Options { get; } = options;
}
