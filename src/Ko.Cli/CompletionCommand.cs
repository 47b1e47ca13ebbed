using System.CommandLine;
using System.Text;

namespace Ko.Cli;

/// <summary>
/// <c>completion bash|zsh|fish|powershell</c>, as ko's (cobra's) completion command: prints a script that completes
/// the command names and each command's flags for <c>dotnet-ko</c> and <c>ko</c>.
/// </summary>
internal static class CompletionCommand
{
    private static readonly string[] Programs = ["dotnet-ko", "ko"];

    public static Command Create(RootCommand root, TextWriter output)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh, fish or powershell." };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish", "powershell");
        var cmd = new Command("completion", "Print a shell completion script: dotnet ko completion bash > /etc/bash_completion.d/dotnet-ko");
        cmd.Arguments.Add(shell);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var commands = root.Subcommands.Where(c => !c.Hidden).ToDictionary(c => c.Name, Flags, StringComparer.Ordinal);
            var script = r.GetValue(shell) switch
            {
                "bash" => Bash(commands),
                "zsh" => "autoload -U +X bashcompinit && bashcompinit\n" + Bash(commands),
                "fish" => Fish(commands),
                _ => PowerShell(commands),
            };
            await KoCli.WriteResultAsync(output, script).ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }

    private static string Flags(Command c) =>
        string.Join(' ', c.Options.SelectMany(o => o.Aliases.Append(o.Name)).Where(n => n.StartsWith('-')).Distinct().Order(StringComparer.Ordinal));

    private static string Bash(Dictionary<string, string> commands)
    {
        var sb = new StringBuilder("_dotnet_ko() {\n  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n  if [ \"$COMP_CWORD\" -eq 1 ]; then\n");
        sb.Append($"    COMPREPLY=($(compgen -W \"{string.Join(' ', commands.Keys.Order(StringComparer.Ordinal))} help\" -- \"$cur\"))\n    return\n  fi\n  case \"${{COMP_WORDS[1]}}\" in\n");
        foreach (var (name, flags) in commands.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            sb.Append($"    {name}) COMPREPLY=($(compgen -W \"{flags}\" -- \"$cur\")) ;;\n");
        }

        sb.Append("  esac\n}\n");
        foreach (var program in Programs)
        {
            sb.Append($"complete -o default -F _dotnet_ko {program}\n");
        }

        return sb.ToString();
    }

    private static string Fish(Dictionary<string, string> commands)
    {
        var sb = new StringBuilder();
        foreach (var program in Programs)
        {
            foreach (var (name, flags) in commands.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                sb.Append($"complete -c {program} -n __fish_use_subcommand -a {name}\n");
                foreach (var flag in flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(f => f.StartsWith("--", StringComparison.Ordinal)))
                {
                    sb.Append($"complete -c {program} -n '__fish_seen_subcommand_from {name}' -l {flag[2..]}\n");
                }
            }
        }

        return sb.ToString();
    }

    private static string PowerShell(Dictionary<string, string> commands)
    {
        var sb = new StringBuilder("$koCommands = @{\n");
        foreach (var (name, flags) in commands.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            sb.Append($"  '{name}' = '{flags}'\n");
        }

        sb.Append("}\n");
        sb.Append($"Register-ArgumentCompleter -Native -CommandName {string.Join(',', Programs.Select(p => "'" + p + "'"))} -ScriptBlock {{\n");
        sb.Append("  param($wordToComplete, $commandAst, $cursorPosition)\n");
        sb.Append("  $words = $commandAst.CommandElements | ForEach-Object { $_.ToString() }\n");
        sb.Append("  $candidates = if ($words.Count -le 2 -and -not $koCommands.ContainsKey($words[-1])) { $koCommands.Keys } else { $koCommands[$words[1]] -split ' ' }\n");
        sb.Append("  $candidates | Where-Object { $_ -like \"$wordToComplete*\" } | ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }\n}\n");
        return sb.ToString();
    }
}
