#!/usr/bin/env python3
"""Generates Nuke.Ko's immutable settings records and their NUKE-style fluent extensions.

One table below describes every settings type and property; this script writes
../KoSettings.Generated.cs. Run it after changing the table:  python3 src/Nuke.Ko/Generator/generate.py
(tests/Nuke.Ko.Tests GeneratedSettingsTests fails when the committed file is stale)
The extensions follow NUKE's generated tool tasks:
  scalar     SetX(value), ResetX()
  bool       SetX(bool?), ResetX(), EnableX(), DisableX(), ToggleX()
  list       SetX(params T[]), SetX(IEnumerable<T>), AddX(...), RemoveX(...), ClearX()  (+ SetSingular(T) for lists with a singular)
  dictionary SetX(IReadOnlyDictionary), SetSingular(key, value), AddSingular(key, value), RemoveSingular(key), ClearX()
Every extension returns a copy and is [Pure].
"""
import os
import sys

# kind: str (string?), int (int?), bool (bool?), list (string list), dict (string->string), env (string->string?),
#       an engine enum (ENUMS below: SbomFormat?, SbomAttachment?, LayerCompression?)
# (name, kind, doc, singular)
IMAGE = [
    ("WorkingDirectory", "str", "The directory Go runs in (the module's directory); defaults to the current directory. NUKE's <c>AbsolutePath</c> converts implicitly.", None),
    ("Platforms", "list", "Platforms (<c>os/arch[/variant]</c>) or <c>all</c>; empty means the build machine's.", "Platform"),
    ("BaseImage", "str", "The base image: <c>embedded:static</c> (default), <c>scratch</c>, <c>oci:DIR[:TAG]</c> or a registry reference.", None),
    ("Repository", "str", "The repository images are named under (the <c>KO_DOCKER_REPO</c> value).", None),
    ("Tags", "list", "Tags; default <c>latest</c>.", "Tag"),
    ("TagOnly", "bool", "Print and write only <c>name:tag</c> references (ko's <c>--tag-only</c>).", None),
    ("Push", "bool", "Push to the repository's registry; unset means yes (ko's default).", None),
    ("Local", "bool", "Load the images into the local docker or podman instead of pushing (ko's <c>--local</c>).", None),
    ("InsecureRegistry", "bool", "Plain HTTP and no TLS verification for registries (ko's <c>--insecure-registry</c>).", None),
    ("Bare", "bool", "Name images <c>REPO</c> alone (ko's <c>--bare</c>).", None),
    ("PreserveImportPaths", "bool", "Name images <c>REPO/&lt;import path&gt;</c> (ko's <c>-P</c>).", None),
    ("BaseImportPaths", "bool", "Name images <c>REPO/&lt;base name&gt;</c> (ko's <c>-B</c>).", None),
    ("OciLayoutPath", "str", "Write the images into this OCI image layout directory.", None),
    ("OciArchivePath", "str", "Write the images as an OCI layout inside one tar file.", None),
    ("TarballPath", "str", "Write a docker-archive tarball.", None),
    ("ImageRefsPath", "str", "Write the printed references to this file, one a line.", None),
    ("Sbom", "sbom", "The SBOM made for every image (ko's <c>--sbom</c>): SPDX 2.3 JSON (unset, the default), CycloneDX 1.6 JSON, or none. Pushed images get it attached (see <see cref=\"SbomAttach\"/>); OCI layouts and archives carry its blobs.", None),
    ("SbomDirectory", "str", "Also write the SBOMs into this directory (ko's <c>--sbom-dir</c>): <c>APP-OS-ARCH[-VARIANT].FORMAT.json</c> and <c>APP-index.FORMAT.json</c>.", None),
    ("SbomAttach", "sbomattach", "How pushed SBOMs are attached (ko's <c>--sbom-attach</c>): an OCI 1.1 referrer (unset, the default) or ko's <c>sha256-&lt;hex&gt;.sbom</c> tag.", None),
    ("Labels", "dict", "Labels added to the image config.", "Label"),
    ("Annotations", "dict", "Annotations added to manifests and indexes.", "Annotation"),
    ("User", "str", "The user the image runs as.", None),
    ("BuildFlags", "list", "Extra <c>go build</c> flags, one argument each.", "BuildFlag"),
    ("Ldflags", "list", "Linker flags passed as one <c>-ldflags</c> argument.", "Ldflag"),
    ("Jobs", "int", "How many builds run at once; unset means the processor count.", None),
    ("CacheDirectory", "str", "The cache directory; defaults to <c>KOCACHE</c>, else <c>~/.cache/ko</c>.", None),
    ("SignKey", "str", "Sign every pushed image and index with this private key (<c>--sign-key</c>): cosign's encrypted format (password from <c>KO_SIGN_PASSWORD</c>) or a PKCS#8 ECDSA P-256 PEM key; unset means <c>KO_SIGN_KEY</c>, else no signing.", None),
    ("SignAnnotations", "dict", "Annotations written into each signature's <c>optional</c> section (<c>--sign-annotation</c>).", "SignAnnotation"),
    ("AttestSbom", "bool", "Also attach each SBOM as a signed in-toto attestation (<c>--attest-sbom</c>); needs a sign key.", None),
    ("Compression", "compression", "How the kodata and binary layers are compressed (<c>--compression</c>): gzip (unset, the default) or zstd (OCI <c>tar+zstd</c>; needs an OCI base image).", None),
    # ---- build record (issue 15) ----
    ("BuildRecord", "str", "<c>KoBuild</c>: write a JSON build record of the images to this file (<c>--build-record</c>). <c>KoResolve</c>/<c>KoApply</c>/<c>KoCreate</c>: take the images from this record and build nothing.", None),
]
SELECT = [
    ("Files", "list", "Files or directories to read (<c>-f</c>).", "File"),
    ("Recursive", "bool", "Descend into subdirectories of directory arguments (<c>-R</c>).", None),
    ("Selector", "str", "A label selector (<c>-l</c>, e.g. <c>app=web,tier!=db</c>).", None),
]
CLUSTER = [
    ("Kubeconfig", "str", "The kubeconfig file; unset means <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.", None),
    ("Context", "str", "The kubeconfig context; unset means the current one.", None),
    ("Namespace", "str", "The namespace for namespaced objects that name none.", None),
]

# (name, base, abstract, doc, props)
CLASSES = [
    ("KoSettings", None, True, "What every Ko task shares: the environment it runs in. Immutable; change it with the fluent extensions, which return copies.", [
        ("Environment", "env", "Environment variables set on top of the process's (a null value removes one): Go's variables, <c>KO_*</c>, <c>DOCKER_CONFIG</c>. Values never appear in <c>ToString()</c>.", "EnvironmentVariable"),
        ("ProcessToolPath", "str", "The <c>go</c> binary (NUKE's tool path). Unset means <c>KO_GO_PATH</c>, else NUKE's <c>GO_EXE</c>, else <c>go</c> on the <c>PATH</c>.", None),
        ("ProcessExecutionTimeout", "int", "Cancel the task after this many milliseconds (NUKE's execution timeout); it then fails with KO4022. Unset means no limit.", None),
    ]),
    ("KoImageSettings", "KoSettings", True, "How images are built, named and written: shared by <see cref=\"KoBuildSettings\"/> and <see cref=\"KoResolveSettings\"/>.", IMAGE),
    ("KoBuildSettings", "KoImageSettings", False, "Settings of <see cref=\"KoTasks.KoBuild(KoBuildSettings)\"/>: builds import paths into images (<c>ko build</c>).", [
        ("ImportPaths", "list", "Import paths to build: <c>./cmd/app</c>, <c>example.com/mod/cmd/app</c> or <c>ko://...</c>.", "ImportPath"),
    ]),
    ("KoResolveSettings", "KoImageSettings", False, "Settings of <c>KoTasks.KoResolve</c>: builds every <c>ko://</c> reference in YAML and replaces it with the image's digest (<c>ko resolve</c>).", SELECT + [
        ("OutputPath", "str", "Write the resolved YAML to this file as well as returning it.", None),
        # ---- build record (issue 15) ----
        ("Images", "images", "Replace <c>ko://</c> references with these images (what an earlier <c>KoBuild</c> returned) and build nothing; an import path not among them fails with KO4020 naming the file and line. Wins over <see cref=\"KoImageSettings.BuildRecord\"/>.", None),
    ]),
    ("KoClusterSettings", "KoResolveSettings", True, "What <see cref=\"KoApplySettings\"/> and <see cref=\"KoCreateSettings\"/> share: the cluster they talk to.", CLUSTER + [
        ("ContinueOnError", "bool", "Send every object even when one fails (<c>--continue-on-error</c>); the task still fails at the end, naming each failure.", None),
        ("UseKubectl", "bool", "Hand the resolved stream to <c>kubectl apply|create -f -</c> instead of the API client.", None),
        ("KubectlArguments", "list", "Arguments passed to kubectl after <c>-f -</c>.", "KubectlArgument"),
    ]),
    ("KoApplySettings", "KoClusterSettings", False, "Settings of <c>KoTasks.KoApply</c>: resolves and server-side applies (<c>ko apply</c>).", [
        ("ForceConflicts", "bool", "Take ownership of conflicting fields (<c>--force-conflicts</c>).", None),
    ]),
    ("KoCreateSettings", "KoClusterSettings", False, "Settings of <c>KoTasks.KoCreate</c>: resolves and creates (<c>ko create</c>).", []),
    ("KoDeleteSettings", "KoSettings", False, "Settings of <c>KoTasks.KoDelete</c>: deletes the objects the files describe; nothing is built (<c>ko delete</c>).", SELECT + CLUSTER + [
        ("IgnoreNotFound", "bool", "Report a missing object instead of failing; unset means yes (<c>--ignore-not-found</c>).", None),
    ]),
    ("KoLoginSettings", "KoSettings", False, "Settings of <see cref=\"KoTasks.KoLogin(KoLoginSettings)\"/>: checks and stores registry credentials (<c>ko login</c>).", [
        ("Registry", "str", "The registry host, e.g. <c>registry.example:5000</c>.", None),
        ("Username", "str", "The user name.", None),
        ("Password", "secret", "The password or token; never logged and shown as <c>***</c> by <c>ToString()</c>.", None),
        ("InsecureRegistry", "bool", "Plain HTTP and no TLS verification for the registry.", None),
    ]),
    ("KoPushSettings", "KoSettings", False, "Settings of <see cref=\"KoTasks.KoPush(KoPushSettings)\"/>: publishes an image or index built earlier (an OCI layout or archive, a docker archive) to a registry, keeping its digest (<c>dotnet ko push</c>).", [
        ("Source", "str", "What to publish: <c>oci:DIR[:REF]</c>, <c>oci-archive:FILE[:REF]</c>, <c>docker-archive:FILE</c> or a registry reference.", None),
        ("To", "str", "The image name to push to (<c>REGISTRY/REPOSITORY</c>); unset means <c>KO_DOCKER_REPO/&lt;the name's last component in the source&gt;</c>.", None),
        ("Repository", "str", "The repository to push under; unset means <c>KO_DOCKER_REPO</c>.", None),
        ("Bare", "bool", "Push to the repository itself, not to a name under it (<c>--bare</c>).", None),
        ("Tags", "list", "Tags to set; empty means <c>latest</c>.", "Tag"),
        ("InsecureRegistry", "bool", "Plain HTTP and no TLS verification for the registries.", None),
        ("SbomAttach", "sbomattach", "How the SBOMs stored beside the image are attached: referrers (unset, the default) or ko's <c>.sbom</c> tag.", None),
        ("WorkingDirectory", "str", "Where relative source paths start; unset means the current directory.", None),
        ("ImageRefs", "str", "Also write the printed reference (and the SBOMs' references) to this file.", None),
        ("SignKey", "str", "Sign the pushed index and each image with this private key (<c>--sign-key</c>; password from <c>KO_SIGN_PASSWORD</c>); unset means <c>KO_SIGN_KEY</c>, else no signing.", None),
        ("SignAnnotations", "dict", "Annotations written into each signature's <c>optional</c> section (<c>--sign-annotation</c>).", "SignAnnotation"),
        ("AttestSbom", "bool", "Also attest each SBOM stored beside the image as a signed in-toto statement (<c>--attest-sbom</c>); needs a sign key.", None),
    ]),
    # ---- signing (issue 16) ----
    ("KoSignSettings", "KoSettings", False, "Settings of <see cref=\"KoTasks.KoSign(KoSignSettings)\"/>: signs images already in a registry in cosign's format (<c>dotnet ko sign</c>).", [
        ("References", "list", "The images to sign, by tag or digest.", "Reference"),
        ("Key", "str", "The private key: cosign's encrypted format or a PKCS#8 ECDSA P-256 PEM; unset means <c>KO_SIGN_KEY</c>.", None),
        ("Password", "secret", "The encrypted key's password when <c>KO_SIGN_PASSWORD</c> is not set (that variable wins); never logged and shown as <c>***</c> by <c>ToString()</c>.", None),
        ("SignAnnotations", "dict", "Written into each signature's <c>optional</c> section (<c>--sign-annotation</c>).", "SignAnnotation"),
        ("Recursive", "bool", "For an index, also sign each platform image in it.", None),
        ("AttestSbom", "bool", "Also attest each attached SBOM as a signed in-toto statement (<c>.att</c>).", None),
        ("InsecureRegistry", "bool", "Plain HTTP and no TLS verification for the registries.", None),
        ("WorkingDirectory", "str", "Where a relative key path starts; unset means the current directory.", None),
    ]),
    ("KoVerifySettings", "KoSettings", False, "Settings of <see cref=\"KoTasks.KoVerify(KoVerifySettings)\"/>: verifies cosign signatures with a public key (<c>dotnet ko verify</c>).", [
        ("References", "list", "The images to verify, by tag or digest.", "Reference"),
        ("Key", "str", "The public key file (PEM <c>PUBLIC KEY</c>, e.g. <c>cosign.pub</c>); required.", None),
        ("Attestations", "bool", "Also require a signed in-toto attestation (<c>.att</c>) about each image.", None),
        ("InsecureRegistry", "bool", "Plain HTTP and no TLS verification for the registries.", None),
        ("WorkingDirectory", "str", "Where a relative key path starts; unset means the current directory.", None),
    ]),
]

# NUKE's names for properties that exist under ko's name: property -> (alias, alias singular). Both sets of
# extensions write the same property, so NUKE users find SetProcessWorkingDirectory and ko users SetWorkingDirectory.
ALIASES = {
    "WorkingDirectory": ("ProcessWorkingDirectory", None),
    "Environment": ("ProcessEnvironmentVariables", "ProcessEnvironmentVariable"),
}

# Enum kinds, nullable so unset means the engine's default.
# Nuke.Ko's own types (converted to the engine's in KoResultConversion), so a build script needs no using Ko.Engine.*.
ENUMS = {"sbom": "KoSbomFormat?", "sbomattach": "KoSbomAttachment?",
         "compression": "KoLayerCompression?",
         # Not an enum, but set and reset as one: a build's result (issue 15's build record).
         "images": "KoBuildResult?"}

TYPES = {
    "str": "string?", "secret": "string?", "int": "int?", "bool": "bool?", **ENUMS,
    "list": "IReadOnlyList<string>", "dict": "IReadOnlyDictionary<string, string>", "env": "IReadOnlyDictionary<string, string?>",
}
DEFAULTS = {"list": " = [];", "dict": " = KoCollections.EmptyMap<string>();", "env": " = KoCollections.EmptyMap<string?>();"}


def settings(out):
    for name, base, abstract, doc, props in CLASSES:
        out.append(f"/// <summary>{doc}</summary>")
        mods = "abstract " if abstract else ""
        inherit = f" : {base}" if base else ""
        out.append(f"public {mods}partial record {name}{inherit}")
        out.append("{")
        for pname, kind, pdoc, _ in props:
            out.append(f"    /// <summary>{pdoc}</summary>")
            if kind == "secret":
                out.append("    [KoSecret]")
            if kind == "env":
                out.append("    [KoSecret]")
            out.append(f"    public {TYPES[kind]} {pname} {{ get; init; }}{DEFAULTS.get(kind, '')}")
            out.append("")
        if out[-1] == "":
            out.pop()
        out.append("}")
        out.append("")


def method(out, doc, sig, body, settings_type):
    out.append(f"    /// <summary>{doc}</summary>")
    out.append("    [Pure]")
    out.append(f"    public static T {sig} where T : {settings_type}")
    out.append(f"        => (T)(toolSettings with {{ {body} }});")
    out.append("")


def extensions(out):
    for name, _, _, _, props in CLASSES:
        if not props:
            continue
        out.append(f"/// <summary>NUKE-style fluent extensions for <see cref=\"{name}\"/>; each returns a changed copy.</summary>")
        out.append(f"public static class {name}Extensions")
        out.append("{")
        for p, kind, _, singular in props:
            ref = f"<see cref=\"{name}.{p}\"/>"
            ts = f"this T toolSettings"
            cast = f"(({name})toolSettings)"
            def m(doc, sig, body):
                out.append(f"    /// <summary>{doc}</summary>")
                out.append("    [Pure]")
                out.append(f"    public static T {sig} where T : {name}")
                out.append(f"        => (T)({cast} with {{ {p} = {body} }});")
                out.append("")
            names = [(p, singular, "")]
            if p in ALIASES:
                alias, alias_singular = ALIASES[p]
                names.append((alias, alias_singular, f" (NUKE's <c>{alias}</c> name for it)"))
            for n, sg, note in names:
                generate_property(m, ref + note, ts, cast, p, n, kind, sg)
        out.pop()
        out.append("}")
        out.append("")


def generate_property(m, ref, ts, cast, p, n, kind, singular):
    """The extensions of one property p, named after n (the property's own name or NUKE's alias for it)."""
    if kind in ("str", "secret", "int") or kind in ENUMS:
        t = TYPES[kind]
        m(f"Sets {ref}.", f"Set{n}<T>({ts}, {t} {camel(n)})", camel(n))
        m(f"Resets {ref} to unset.", f"Reset{n}<T>({ts})", "null")
    elif kind == "bool":
        m(f"Sets {ref}.", f"Set{n}<T>({ts}, bool? {camel(n)})", camel(n))
        m(f"Resets {ref} to unset.", f"Reset{n}<T>({ts})", "null")
        m(f"Enables {ref}.", f"Enable{n}<T>({ts})", "true")
        m(f"Disables {ref}.", f"Disable{n}<T>({ts})", "false")
        m(f"Toggles {ref} (unset becomes enabled).", f"Toggle{n}<T>({ts})", f"!({cast}.{p} ?? false)")
    elif kind == "list":
        v = camel(n)
        if singular:
            m(f"Sets {ref} to this one value.", f"Set{singular}<T>({ts}, string {camel(singular)})", f"KoCollections.List([{camel(singular)}])")
        m(f"Sets {ref} to these values.", f"Set{n}<T>({ts}, params string[] {v})", f"KoCollections.List({v})")
        m(f"Sets {ref} to these values.", f"Set{n}<T>({ts}, IEnumerable<string> {v})", f"KoCollections.List({v})")
        m(f"Adds values to {ref}.", f"Add{n}<T>({ts}, params string[] {v})", f"KoCollections.Add({cast}.{p}, {v})")
        m(f"Adds values to {ref}.", f"Add{n}<T>({ts}, IEnumerable<string> {v})", f"KoCollections.Add({cast}.{p}, {v})")
        m(f"Removes every occurrence of these values from {ref}.", f"Remove{n}<T>({ts}, params string[] {v})", f"KoCollections.Remove({cast}.{p}, {v})")
        m(f"Removes every occurrence of these values from {ref}.", f"Remove{n}<T>({ts}, IEnumerable<string> {v})", f"KoCollections.Remove({cast}.{p}, {v})")
        m(f"Clears {ref}.", f"Clear{n}<T>({ts})", "[]")
    elif kind in ("dict", "env"):
        vt = "string" if kind == "dict" else "string?"
        s = singular
        k = s[0].lower() + s[1:]
        m(f"Sets {ref} to a copy of these entries.", f"Set{n}<T>({ts}, IReadOnlyDictionary<string, {vt}> {camel(n)})", f"KoCollections.Map({camel(n)})")
        m(f"Sets one entry of {ref}, replacing any value it had.", f"Set{s}<T>({ts}, string {k}Key, {vt} {k}Value)", f"KoCollections.With({cast}.{p}, {k}Key, {k}Value, replace: true)")
        m(f"Adds one entry to {ref}; the key must not be there yet (as NUKE's Add).", f"Add{s}<T>({ts}, string {k}Key, {vt} {k}Value)", f"KoCollections.With({cast}.{p}, {k}Key, {k}Value, replace: false)")
        m(f"Removes one entry from {ref}.", f"Remove{s}<T>({ts}, string {k}Key)", f"KoCollections.Without({cast}.{p}, {k}Key)")
        m(f"Clears {ref}.", f"Clear{n}<T>({ts})", f"KoCollections.EmptyMap<{vt}>()")


def camel(s):
    c = s[0].lower() + s[1:]
    return "@" + c if c in ("namespace", "params", "base") else c


def main():
    out = [
        "// <auto-generated>",
        "// Generated by src/Nuke.Ko/Generator/generate.py from its table; edit the table, not this file.",
        "// </auto-generated>",
        "#nullable enable",
        "using JetBrains.Annotations;",
        "",
        "namespace Nuke.Ko;",
        "",
    ]
    settings(out)
    extensions(out)
    while out[-1] == "":
        out.pop()
    # An output path argument writes elsewhere (the staleness test compares that with the committed file).
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "KoSettings.Generated.cs")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
