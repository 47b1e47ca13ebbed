namespace JetBrains.Annotations;

/// <summary>
/// The method has no side effects and its result must be used, as NUKE marks its fluent extensions. Kept in the
/// assembly (System.Diagnostics.Contracts' attribute is compiled away) so that Rider, ReSharper and reflection see it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PureAttribute : Attribute;
