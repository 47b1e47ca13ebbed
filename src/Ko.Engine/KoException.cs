namespace Ko.Engine;

/// <summary>
/// An error the engine reports to its caller: a stable code (<c>KO1xxx</c> configuration, <c>KO2xxx</c> Go and
/// application inputs, <c>KO3xxx</c> registries and outputs, <c>KO4xxx</c> resolve/apply) and a message that says
/// what happened and what to do. Messages never contain secrets.
/// </summary>
public sealed class KoException : Exception
{
    /// <summary>Creates an error with a stable code and a message for people.</summary>
    /// <param name="code">The stable code, for example <c>KO2003</c>.</param>
    /// <param name="message">What happened and what to do about it.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public KoException(string code, string message, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
    }

    /// <summary>The stable error code, for example <c>KO2003</c>.</summary>
    public string Code { get; }

    /// <summary>
    /// The import path (as given) whose build failed, when the failure belongs to one; null for a failure of the
    /// whole run. <c>resolve</c> maps it back to the <c>ko://</c> reference's file and line.
    /// </summary>
    public string? ImportPath { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>The stable error codes the engine raises.</summary>
public static class KoErrorCodes
{
    /// <summary>A platform string is not <c>os/arch[/variant]</c> or is not known.</summary>
    public const string InvalidPlatform = "KO1001";
    /// <summary>A base image reference cannot be used.</summary>
    public const string InvalidBaseImage = "KO1002";
    /// <summary>Pushing was asked for without a repository.</summary>
    public const string MissingRepository = "KO1003";
    /// <summary>An option has a value that cannot be used.</summary>
    public const string InvalidOption = "KO1004";
    /// <summary><c>.ko.yaml</c> is not valid YAML; the message has file:line:column.</summary>
    public const string ConfigSyntax = "KO1101";
    /// <summary>A <c>.ko.yaml</c> key has a value of the wrong type (or the file cannot be read).</summary>
    public const string ConfigWrongType = "KO1102";
    /// <summary>A template names a key that has no value, or is not a template the engine knows.</summary>
    public const string ConfigTemplate = "KO1103";
    /// <summary><c>GOOS</c>/<c>GOARCH</c>/<c>GOARM</c> set together with <c>--platform</c>, <c>KO_DEFAULTPLATFORMS</c> or <c>defaultPlatforms</c>.</summary>
    public const string PlatformConflict = "KO1104";
    /// <summary><c>-toolexec</c> in flags or <c>GOFLAGS</c>.</summary>
    public const string ToolexecRefused = "KO1105";
    /// <summary>The <c>go</c> tool could not be run.</summary>
    public const string GoNotFound = "KO2001";
    /// <summary>An import path could not be resolved to a package.</summary>
    public const string PackageNotFound = "KO2002";
    /// <summary>An import path names a package that is not <c>package main</c>.</summary>
    public const string NotMainPackage = "KO2003";
    /// <summary><c>go build</c> failed; the message carries the compiler's output.</summary>
    public const string BuildFailed = "KO2004";
    /// <summary>A file under <c>kodata/</c> cannot be read or is not allowed.</summary>
    public const string KodataUnreadable = "KO2005";
    /// <summary>An import path or pattern is not a Go import path or relative package path (for example it starts with <c>-</c>, so go would read it as a flag); the message names it, and for <c>resolve</c> the file:line:column of the reference.</summary>
    public const string InvalidImportPath = "KO2006";
    /// <summary>An external program (go, kubectl, podman, docker, git, a credential helper) could not be started because its command line or environment is larger than the system allows (E2BIG); the message gives the sizes and what to do.</summary>
    public const string CommandLineTooLong = "KO2007";
    /// <summary>An external program wrote more output than the engine reads into memory; the message names the program and the limit.</summary>
    public const string ProgramOutputTooLarge = "KO2008";
    /// <summary>An output (layout, archive, file) cannot be written.</summary>
    public const string OutputNotWritable = "KO3001";
    /// <summary>Pushing to a registry failed.</summary>
    public const string PushFailed = "KO3002";
    /// <summary>A base image could not be read.</summary>
    public const string BaseImageUnreadable = "KO3003";
    /// <summary>A registry refused the credentials (or wants some and none were found); the message names the registry and the user, never the secret, and says to run <c>dotnet ko login</c>.</summary>
    public const string AuthenticationFailed = "KO3004";
    /// <summary>Loading an image into the local docker or podman (<c>--local</c>, a <c>ko.local</c> repository) failed; the message names the tool and carries its error output.</summary>
    public const string DaemonLoadFailed = "KO3005";
    /// <summary>A registry or its token service did not answer (or stopped sending) within a timeout; the message names the host, what did not answer, and the <c>KO_REGISTRY_*_TIMEOUT_MS</c> variable to raise.</summary>
    public const string RegistryTimeout = "KO3006";
    /// <summary>A registry or token-service answer that is read into memory is larger than its limit; the message names the host and the limit.</summary>
    public const string ResponseTooLarge = "KO3007";
    /// <summary>A registry redirected to something ko does not follow: a scheme other than http/https, HTTPS to plain HTTP, or a <c>Location</c> that is not a URL; the message names the registry and the target's scheme.</summary>
    public const string RedirectRefused = "KO3008";
    /// <summary>A host other than the registry (a redirect or upload target) asked for credentials; ko sends a registry's credentials only to that registry and its token service, so the message names the host that refused.</summary>
    public const string CredentialsWithheld = "KO3009";
    /// <summary>The cache (<c>KOCACHE</c>, else <c>~/.cache/ko</c>) cannot be used: it is a file, cannot be written, is full, or holds something other than a blob where a blob belongs; the message names the path.</summary>
    public const string CacheUnusable = "KO3010";
    /// <summary>A file or directory could not be read or written and nothing closer to the cause explained it; the message names the path and the system's reason.</summary>
    public const string FileSystemError = "KO3011";
    /// <summary>An unexpected internal error (a bug in dotnet ko); the message says what failed and asks for a report.</summary>
    public const string InternalError = "KO3012";
    /// <summary>Another run holds the lock on an output (an OCI layout) and did not release it in time; the message names the lock file.</summary>
    public const string OutputLocked = "KO3013";
    /// <summary>An image source (<c>oci:DIR[:REF]</c>, <c>oci-archive:FILE[:REF]</c>, <c>docker-archive:FILE[:REF]</c>, a registry reference) is written wrongly or names an unknown transport; the message shows the forms accepted.</summary>
    public const string InvalidSource = "KO3014";
    /// <summary>An image source does not exist, is not a layout or archive, or holds no (or more than one) entry for the name given; the message lists the names there.</summary>
    public const string SourceNotFound = "KO3015";
    /// <summary>An image source's content is malformed or corrupt (a broken tar, an entry name leaving the archive, a link, a duplicate, a missing blob, a digest mismatch); the message names the archive or layout and the entry.</summary>
    public const string SourceCorrupt = "KO3016";
    /// <summary>An image source could not be read (permissions, an I/O error); the message names the path and the system's reason.</summary>
    public const string SourceUnreadable = "KO3017";
    /// <summary>A manifest is not valid YAML or JSON; the message names file:line:column.</summary>
    public const string InvalidManifest = "KO4001";
    /// <summary>A file or directory given with <c>-f</c> cannot be read.</summary>
    public const string ManifestUnreadable = "KO4002";
    /// <summary>A label selector (<c>-l</c>) cannot be parsed.</summary>
    public const string InvalidSelector = "KO4003";
    /// <summary>A <c>ko://</c> reference is empty or its import path could not be built; the message names file:line:column.</summary>
    public const string InvalidReference = "KO4004";
    /// <summary>The kubeconfig cannot be read or the cluster cannot be reached.</summary>
    public const string ClusterUnreachable = "KO4005";
    /// <summary>An object's kind is not served by the cluster (API discovery does not list it).</summary>
    public const string UnknownKind = "KO4006";
    /// <summary>The cluster refused to apply, create or delete an object; the message carries the server's reason.</summary>
    public const string ApplyFailed = "KO4007";
    /// <summary>An object to delete does not exist and missing objects were not to be ignored.</summary>
    public const string ObjectNotFound = "KO4008";
    /// <summary><c>kubectl</c> could not be run or failed; the message carries its error output.</summary>
    public const string KubectlFailed = "KO4009";
    /// <summary>A document is not a Kubernetes object (no apiVersion, kind or metadata.name).</summary>
    public const string InvalidObject = "KO4010";
    /// <summary>A label selector met a document (or List item) that is not a Kubernetes object.</summary>
    public const string SelectorOnNonObject = "KO4011";
    /// <summary>A signing key file cannot be used: missing, not a regular file, too large, not PEM, not a key type ko signs with (ECDSA P-256), or damaged; the message names the file, never the key.</summary>
    public const string SigningKeyUnreadable = "KO5001";
    /// <summary>An encrypted signing key could not be opened: no password was given (<c>KO_SIGN_PASSWORD</c> or a prompt) or it is the wrong one.</summary>
    public const string SigningKeyPassword = "KO5002";
    /// <summary>A public key file for <c>verify</c> cannot be used (missing, too large, not a PEM ECDSA P-256 public key).</summary>
    public const string PublicKeyUnreadable = "KO5003";
    /// <summary><c>generate-key</c> would replace an existing key file.</summary>
    public const string KeyFileExists = "KO5004";
    /// <summary>A <c>--sign-annotation</c> is not <c>key=value</c> or uses a key verifiers read with another meaning.</summary>
    public const string InvalidSignAnnotation = "KO5005";
    /// <summary><c>verify</c>: the image has no signature (no <c>sha256-&lt;hex&gt;.sig</c> tag, or it holds no simple-signing layer).</summary>
    public const string NoSignature = "KO5006";
    /// <summary><c>verify</c>: signatures exist but none verifies with the public key (another key signed, or a signature or payload was altered).</summary>
    public const string SignatureKeyMismatch = "KO5007";
    /// <summary><c>verify</c>: a signature made with the key names another manifest digest than the image's.</summary>
    public const string SignatureDigestMismatch = "KO5008";
    /// <summary><c>verify</c>: a signature made with the key names another repository than the image's.</summary>
    public const string SignatureIdentityMismatch = "KO5009";
    /// <summary>A signature or attestation manifest, payload or envelope in the registry is malformed (not the shape cosign writes) or too large.</summary>
    public const string SignatureManifestInvalid = "KO5010";
    /// <summary><c>verify --attestations</c>: the image has no attestation (no <c>sha256-&lt;hex&gt;.att</c> tag with a DSSE layer).</summary>
    public const string NoAttestation = "KO5011";
    /// <summary><c>verify --attestations</c>: no attestation verifies with the key, or its in-toto statement names another subject.</summary>
    public const string AttestationMismatch = "KO5012";
    /// <summary><c>--attest-sbom</c>: the image has no SBOM to attest (none attached in the registry, or none made).</summary>
    public const string NoSbomToAttest = "KO5013";
    /// <summary>zstd layers were asked for on a base image with a Docker manifest, which cannot carry them; the message names the base.</summary>
    public const string ZstdNeedsOciBase = "KO3020";
    /// <summary>A <c>ko://</c> import path is not in the build record that resolve/apply/create were given; the message names the file and line.</summary>
    public const string BuildRecordMissingImage = "KO4020";
    /// <summary>A build record file cannot be read, is too large, or is not a build record (the message names the field).</summary>
    public const string BuildRecordInvalid = "KO4021";
    /// <summary>A NUKE task did not finish within its <c>ProcessExecutionTimeout</c> and was cancelled.</summary>
    public const string TaskTimedOut = "KO4022";
}
