//! The deployment files in `deploy/` against the program they run: every option of every
//! `dicomweb … adapter …` command line (the systemd unit's `ExecStart=`, the Kubernetes
//! manifests' `command:`/`args:` lists, the command lines in the README's code blocks) is one
//! `dicomweb adapter --help` lists, and every environment variable the files set (the unit's
//! environment file, `Environment=`, a container's `env:`) is one that help says the program
//! reads (`$NAME`), or one a manifest's `args:` use as `$(NAME)` (Kubernetes expands those
//! before the program starts).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A command line found in a file: where, and its words.
struct Found {
    file: PathBuf,
    words: Vec<String>,
}

#[test]
fn every_flag_and_variable_in_deploy_is_one_the_adapter_knows() {
    let output = Command::new(env!("CARGO_BIN_EXE_dicomweb"))
        .args(["adapter", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success(), "dicomweb adapter --help failed");
    let help = String::from_utf8(output.stdout).unwrap();
    let known = flags_in_help(&help);
    assert!(
        known.contains("--listen") && known.contains("--url"),
        "{help}"
    );

    let mut commands = Vec::new();
    let mut variables = Vec::new();
    for file in files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let (found, vars) = if name.ends_with(".service") {
            (exec_starts(&text), unit_variables(&text))
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            let lists = yaml_lists(&text, &["command", "args"]);
            let expanded = kubernetes_expansions(&lists);
            let read = yaml_env_names(&text)
                .into_iter()
                .filter(|variable| !expanded.contains(variable))
                .collect();
            (lists, read)
        } else if name.contains(".env") {
            (Vec::new(), env_file_variables(&text))
        } else if name.ends_with(".md") {
            (readme_commands(&text), Vec::new())
        } else {
            (Vec::new(), Vec::new())
        };
        commands.extend(found.into_iter().map(|words| Found {
            file: file.clone(),
            words,
        }));
        variables.extend(vars.into_iter().map(|v| (file.clone(), v)));
    }

    let adapter_lines: Vec<&Found> = commands
        .iter()
        .filter(|c| c.words.iter().any(|w| w == "adapter"))
        .collect();
    let in_kind = |suffix: &str| {
        adapter_lines
            .iter()
            .filter(|c| c.file.to_string_lossy().ends_with(suffix))
            .count()
    };
    assert!(
        in_kind(".service") >= 1,
        "expected the unit's ExecStart to run `dicomweb adapter`"
    );
    assert!(
        in_kind(".yaml") >= 2,
        "expected the StatefulSet's args and the DICOMweb server patch's args"
    );
    for command in &commands {
        if let Some(first) = command.words.first()
            && !first.starts_with('-')
            && command.words.len() == 1
        {
            assert!(
                first.ends_with("dicomweb"),
                "{}: the container should run dicomweb, not {first}",
                command.file.display()
            );
        }
    }
    let mut checked = 0;
    for command in &adapter_lines {
        for word in &command.words {
            if !word.starts_with('-') {
                continue;
            }
            let flag = word.split('=').next().unwrap_or(word);
            assert!(
                known.contains(flag),
                "{}: {flag} (in `{}`) is not an option of `dicomweb adapter --help`:\n{help}",
                command.file.display(),
                command.words.join(" ")
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} flags found in deploy/");

    assert!(
        variables.len() >= 2,
        "expected DICOMWEB_URL and DICOMWEB_PASSWORD set in deploy/"
    );
    for (file, variable) in &variables {
        assert!(
            help.contains(&format!("${variable}")),
            "{}: {variable} is set, but `dicomweb adapter --help` does not say the program \
             reads ${variable}:\n{help}",
            file.display()
        );
    }
}

#[test]
fn the_parsers_of_this_test_read_what_they_should() {
    let unit = "[Service]\nEnvironment=DICOMWEB_URL=http://x\nExecStart=/bin/dicomweb --quiet \\\n    adapter --aet A\n";
    assert_eq!(
        exec_starts(unit),
        vec![vec!["/bin/dicomweb", "--quiet", "adapter", "--aet", "A"]]
    );
    assert_eq!(unit_variables(unit), vec!["DICOMWEB_URL"]);
    let yaml = "  containers:\n    - name: a\n      command: [\"dicomweb\"]\n      args:\n        - --quiet\n        - adapter\n        - \"32\"\n      env:\n        - name: DICOMWEB_URL\n          value: x\n      ports:\n        - name: dimse\n";
    assert_eq!(
        yaml_lists(yaml, &["command", "args"]),
        vec![vec!["dicomweb"], vec!["--quiet", "adapter", "32"]]
    );
    assert_eq!(yaml_env_names(yaml), vec!["DICOMWEB_URL"]);
    let lists = vec![vec![
        "--replica".to_owned(),
        "$(POD_NAME)".to_owned(),
        "x$(A)y$(B".to_owned(),
    ]];
    assert_eq!(
        kubernetes_expansions(&lists)
            .into_iter()
            .collect::<Vec<_>>(),
        ["A", "POD_NAME"]
    );
    let readme = "text dicomweb adapter --no\n```sh\ndicomweb --quiet adapter \\\n  --aet A\n```\n";
    assert_eq!(
        readme_commands(readme),
        vec![vec!["dicomweb", "--quiet", "adapter", "--aet", "A"]]
    );
    assert_eq!(
        env_file_variables("# c\nDICOMWEB_URL=x\n\nexport DICOMWEB_PASSWORD=y\n"),
        vec!["DICOMWEB_URL", "DICOMWEB_PASSWORD"]
    );
}

/// Every file under `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The options `--help` lists: words starting with `-`, e.g. `-H,` and `--header`.
fn flags_in_help(help: &str) -> BTreeSet<String> {
    help.split_whitespace()
        .filter(|w| w.starts_with('-'))
        .map(|w| w.trim_end_matches(',').to_owned())
        .collect()
}

/// Lines joined where they end with a backslash.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(start) => {
                current.push_str(start);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|w| w.trim_matches(['"', '\'']).to_owned())
        .collect()
}

/// The words of each `ExecStart=` of a systemd unit (its `-@:+!` prefixes dropped).
fn exec_starts(unit: &str) -> Vec<Vec<String>> {
    logical_lines(unit)
        .iter()
        .filter_map(|l| l.trim().strip_prefix("ExecStart="))
        .map(|l| words(l.trim_start_matches(['-', '@', ':', '+', '!'])))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The variables a unit sets with `Environment=`.
fn unit_variables(unit: &str) -> Vec<String> {
    logical_lines(unit)
        .iter()
        .filter_map(|l| l.trim().strip_prefix("Environment="))
        .flat_map(|l| words(l).into_iter())
        .filter_map(|w| w.split_once('=').map(|(name, _)| name.to_owned()))
        .collect()
}

/// The variables an environment file sets (`NAME=value`, `export` allowed, `#` comments).
fn env_file_variables(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches("export ").split_once('='))
        .map(|(name, _)| name.trim().to_owned())
        .collect()
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The items of the block under a `key:` line at index `at`: the following lines that are list
/// items (`- …`) at the key's indent or deeper, and deeper lines under them.
fn block<'a>(lines: &[&'a str], at: usize) -> Vec<&'a str> {
    let key_indent = indent(lines[at]) + usize::from(lines[at].trim_start().starts_with("- ")) * 2;
    let mut out = Vec::new();
    for line in &lines[at + 1..] {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let deeper = indent(line) > key_indent;
        let item_at_key = indent(line) == key_indent && line.trim_start().starts_with("- ");
        if !(deeper || item_at_key) {
            break;
        }
        out.push(*line);
    }
    out
}

/// The key of a YAML line (`key:` or `- key:`), and what follows the colon.
fn yaml_key(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line);
    let (key, rest) = line.split_once(':')?;
    (!key.contains(' ')).then_some((key, rest.trim()))
}

/// The string lists under these keys, block style (`- item`) or flow style (`["a", "b"]`).
fn yaml_lists(text: &str, keys: &[&str]) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let Some((key, rest)) = yaml_key(line) else {
            continue;
        };
        if !keys.contains(&key) {
            continue;
        }
        if let Some(flow) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            out.push(
                flow.split(',')
                    .map(|w| w.trim().trim_matches(['"', '\'']).to_owned())
                    .filter(|w| !w.is_empty())
                    .collect(),
            );
        } else if rest.is_empty() {
            let key_indent = indent(line);
            out.push(
                block(&lines, at)
                    .iter()
                    .filter(|l| indent(l) <= key_indent + 2)
                    .filter_map(|l| l.trim_start().strip_prefix("- "))
                    .map(|w| w.trim().trim_matches(['"', '\'']).to_owned())
                    .collect(),
            );
        }
    }
    out
}

/// The variables Kubernetes expands in these command lines (`$(NAME)`).
fn kubernetes_expansions(lists: &[Vec<String>]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for word in lists.iter().flatten() {
        let mut rest = word.as_str();
        while let Some(start) = rest.find("$(") {
            let after = &rest[start + 2..];
            match after.find(')') {
                Some(end) => {
                    names.insert(after[..end].to_owned());
                    rest = &after[end + 1..];
                }
                None => break,
            }
        }
    }
    names
}

/// The names set in every `env:` list of a manifest.
fn yaml_env_names(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if yaml_key(line).is_some_and(|(key, rest)| key == "env" && rest.is_empty()) {
            let items = block(&lines, at);
            let item_indent = items.first().map(|l| indent(l));
            out.extend(
                items
                    .iter()
                    .filter(|l| Some(indent(l)) == item_indent)
                    .filter_map(|l| l.trim_start().strip_prefix("- name:"))
                    .map(|n| n.trim().trim_matches(['"', '\'']).to_owned()),
            );
        }
    }
    out
}

/// The command lines in a Markdown file's fenced code blocks that run `dicomweb` (a `$ `
/// prompt allowed) or are a unit's `ExecStart=`.
fn readme_commands(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_code = false;
    let mut code = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            if in_code {
                for logical in logical_lines(&code) {
                    let logical = logical.trim().trim_start_matches("$ ");
                    if logical.starts_with("dicomweb ") {
                        out.push(words(logical));
                    } else if logical.starts_with("ExecStart=") {
                        out.extend(exec_starts(logical));
                    }
                }
                code.clear();
            }
            in_code = !in_code;
        } else if in_code {
            code.push_str(line);
            code.push('\n');
        }
    }
    out
}
