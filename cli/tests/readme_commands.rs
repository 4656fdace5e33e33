//! Every `atpilot` command the README shows exists, with every option it
//! uses: each command line of the README's `bash` blocks (continuation lines
//! joined, comments dropped) is walked through the binary's own `--help`
//! (subcommand by subcommand), and each `--option` on it must be one the
//! command's help lists.

use std::process::Command;

fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let mut out = vec![];
    let mut in_bash = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_bash = line.trim() == "```bash";
            continue;
        }
        if !in_bash {
            continue;
        }
        let code = line.split(" #").next().unwrap_or("").trim_end();
        pending.push_str(code.trim_end_matches('\\'));
        pending.push(' ');
        if code.ends_with('\\') {
            continue;
        }
        let joined = std::mem::take(&mut pending);
        let joined = joined.trim();
        let cmd = match joined.strip_prefix("cargo run -p atpilot -- ") {
            Some(rest) => format!("atpilot {rest}"),
            None => joined.to_string(),
        };
        if cmd.starts_with("atpilot ") {
            // Only the atpilot part of a pipeline (`… > file && $EDITOR file`).
            out.push(cmd.split(" > ").next().unwrap_or_default().split(" && ").next().unwrap_or_default().into());
        }
    }
    out
}

fn help(path: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_atpilot")).args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "atpilot {} --help failed: {}", path.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subcommand names a help text lists under "Commands:".
fn subcommands(help: &str) -> Vec<String> {
    help.split("Commands:")
        .nth(1)
        .map(|s| {
            s.lines()
                .skip(1)
                .take_while(|l| l.starts_with("  "))
                .filter_map(|l| l.split_whitespace().next().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a help text's option list (its lines starting with `-`) names `opt`.
fn has_option(help: &str, opt: &str) -> bool {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        // The flag column ends where the description starts (two spaces).
        .filter_map(|l| l.split("  ").next())
        .any(|flags| flags.split([' ', ',', '=']).any(|w| w.trim_matches(['<', '>', '[', ']']) == opt))
}

/// Checks one command line (alternatives such as `train|predict|eval` each in turn).
fn check(line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let mut path: Vec<Vec<&str>> = vec![vec![]];
    let mut problems = vec![];
    for w in &words {
        let w = w.trim_start_matches(['[', '(']);
        if w.starts_with('-') {
            break;
        }
        let mut next = vec![];
        for p in &path {
            let subs = subcommands(&help(p));
            let alternatives: Vec<&str> = w.split('|').collect();
            if alternatives.iter().all(|a| subs.iter().any(|s| s == a)) {
                next.extend(alternatives.iter().map(|a| [p.clone(), vec![*a]].concat()));
            }
        }
        if next.is_empty() {
            break;
        }
        path = next;
    }
    for p in &path {
        if p.is_empty() {
            problems.push(format!("`{line}`: no atpilot command named {:?}", words.first()));
            continue;
        }
        let text = help(p);
        let subs = subcommands(&text);
        if !subs.is_empty() {
            // A group (`atpilot model`): the next word, if any, must be one of its subcommands.
            if let Some(next) = words.get(p.len()).filter(|w| !w.starts_with('-') && !w.ends_with('…')) {
                problems.push(format!("`{line}`: `atpilot {}` has no subcommand {next}", p.join(" ")));
            }
            continue;
        }
        for w in &words {
            let opt = w.trim_start_matches(['[', '(', '|']).trim_end_matches([']', ')', ',', '|']);
            let opt = opt.split('=').next().unwrap_or(opt);
            if opt.starts_with("--") && !has_option(&text, opt) {
                problems.push(format!("`{line}`: `atpilot {}` has no option {opt}", p.join(" ")));
            }
        }
    }
    problems
}

#[test]
fn every_command_in_the_readme_exists_with_its_options() {
    let commands = readme_commands();
    assert!(commands.len() >= 20, "the README's commands were found: {commands:#?}");
    assert!(commands.iter().any(|c| c.starts_with("atpilot dev")), "the first of the two commands is checked too");
    let problems: Vec<String> = commands.iter().flat_map(|c| check(c)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_catches_a_wrong_command_and_a_wrong_option() {
    assert_eq!(check("atpilot report weekly --sandbox").len(), 0);
    assert_eq!(check("atpilot report weekly --sandbx").len(), 1);
    assert_eq!(check("atpilot reprot weekly").len(), 1);
    assert_eq!(check("atpilot report weeky").len(), 1, "a wrong subcommand of a group");
    assert_eq!(check("atpilot report weekly --config").len(), 0);
    assert!(!has_option("Options:\n  --sandbox  Needs --config and more\n", "--config"), "prose is no option");
    assert_eq!(check("atpilot model train|predict|eval --label x").len(), 2, "predict and eval have no --label");
}
