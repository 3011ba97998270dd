//! `cargo xtask targets [--check]`: generates `targets/<name>.json` from the pinned nightly's
//! built-in target specs plus the small, reviewed patches in `targets/patches/<name>.json`.
//!
//! Custom target JSON changes shape between nightlies (style-anchors §3: integer widths,
//! `rustc-abi`, destabilisation behind `-Zjson-target-spec`), so the files are never written by
//! hand: each one is "this built-in, with these fields set and these removed". `--check`
//! regenerates in memory and reports every field that differs from the committed file, which is
//! how a nightly bump shows its consequences. Every generated file is also handed back to the
//! pinned `rustc`, so a spec the nightly would reject fails here rather than in a build.
//!
//! Patch format: `{"base": "<built-in triple>", "notes": "<why>", "set": {..}, "remove": [..]}`.
//! `set` replaces whole top-level values; `remove` deletes top-level keys and must name keys the
//! base really has (a silently vanished field is exactly what a nightly bump should surface).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value};
use xshell::cmd;

use crate::build::{project_root, sh};

/// Options for `cargo xtask targets`.
#[derive(clap::Args)]
pub struct Args {
    /// Do not write anything; fail with a per-field summary if a committed file is out of date.
    #[arg(long)]
    pub check: bool,
}

/// One parsed `targets/patches/<name>.json`.
struct Patch {
    name: String,
    base: String,
    notes: String,
    set: Map<String, Value>,
    remove: Vec<String>,
}

/// Generates (or with `--check`, verifies) every target in `targets/patches/`.
pub fn run(args: Args) -> Result<()> {
    let root = project_root();
    let channel = toolchain_channel(&root)?;
    let patches = read_patches(&root)?;
    ensure!(!patches.is_empty(), "no patches found in targets/patches/");
    let mut outputs: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut base_cache: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for patch in &patches {
        if !base_cache.contains_key(&patch.base) {
            let dumped = dump_builtin(&channel, &patch.base)?;
            base_cache.insert(patch.base.clone(), dumped);
        }
        let base = &base_cache[&patch.base];
        let spec = apply(patch, base)?;
        let text = to_pretty(&Value::Object(spec))?;
        outputs.insert(
            root.join("targets").join(format!("{}.json", patch.name)),
            text,
        );
    }
    outputs.insert(root.join("targets/README.md"), readme(&channel, &patches));

    // Let the pinned nightly parse every generated spec before anything is trusted.
    let scratch = std::env::temp_dir().join(format!("clone-core-targets-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    for patch in &patches {
        let path = root.join("targets").join(format!("{}.json", patch.name));
        let probe = scratch.join(format!("{}.json", patch.name));
        std::fs::write(&probe, &outputs[&path])?;
        validate_with_rustc(&channel, &probe)
            .with_context(|| format!("rustc {channel} rejects the generated {}", patch.name))?;
    }
    let _ = std::fs::remove_dir_all(&scratch);

    if args.check {
        check(&root, &patches, &outputs, &channel)
    } else {
        for (path, text) in &outputs {
            let old = std::fs::read_to_string(path).unwrap_or_default();
            if old != *text {
                std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", rel(&root, path));
            } else {
                println!("unchanged {}", rel(&root, path));
            }
        }
        warn_orphans(&root, &patches)?;
        Ok(())
    }
}

/// The `channel` of `rust-toolchain.toml`: the nightly whose built-ins the files come from.
pub fn toolchain_channel(root: &Path) -> Result<String> {
    let text = std::fs::read_to_string(root.join("rust-toolchain.toml"))
        .context("reading rust-toolchain.toml")?;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("channel") {
            let value = rest.trim_start().trim_start_matches('=').trim();
            let value = value.trim_matches('"');
            if !value.is_empty() {
                return Ok(value.to_string());
            }
        }
    }
    bail!("rust-toolchain.toml has no `channel = \"…\"` line")
}

fn read_patches(root: &Path) -> Result<Vec<Patch>> {
    let dir = root.join("targets/patches");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| parse_patch(p)).collect()
}

fn parse_patch(path: &Path) -> Result<Patch> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .context("patch file name is not UTF-8")?
        .to_string();
    let text = std::fs::read_to_string(path)?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let Value::Object(mut obj) = value else {
        bail!("{}: a patch must be a JSON object", path.display());
    };
    let base = match obj.remove("base") {
        Some(Value::String(s)) => s,
        _ => bail!("{}: missing string field \"base\"", path.display()),
    };
    let notes = match obj.remove("notes") {
        None => String::new(),
        Some(Value::String(s)) => s,
        Some(_) => bail!("{}: \"notes\" must be a string", path.display()),
    };
    let set = match obj.remove("set") {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => bail!("{}: \"set\" must be an object", path.display()),
    };
    let remove = match obj.remove("remove") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => bail!("{}: \"remove\" must list strings", path.display()),
            })
            .collect::<Result<_>>()?,
        Some(_) => bail!("{}: \"remove\" must be an array", path.display()),
    };
    // Unknown keys are most likely typos of the three above; refuse them.
    if let Some(k) = obj.keys().next() {
        bail!(
            "{}: unknown key {k:?} (allowed: base, notes, set, remove)",
            path.display()
        );
    }
    Ok(Patch {
        name,
        base,
        notes,
        set,
        remove,
    })
}

/// `rustc +<channel> -Z unstable-options --print target-spec-json --target <builtin>`.
fn dump_builtin(channel: &str, triple: &str) -> Result<Map<String, Value>> {
    let sh = sh()?;
    let text = cmd!(
        sh,
        "rustc +{channel} -Z unstable-options --print target-spec-json --target {triple}"
    )
    .env_remove("RUSTUP_TOOLCHAIN")
    .env_remove("RUSTC")
    .quiet()
    .read()
    .with_context(|| format!("dumping the built-in target {triple} with rustc +{channel}"))?;
    match serde_json::from_str(&text)? {
        Value::Object(m) => Ok(m),
        _ => bail!("rustc printed a non-object spec for {triple}"),
    }
}

/// Parses a spec file with the pinned rustc (the same code path as a build would take).
fn validate_with_rustc(channel: &str, path: &Path) -> Result<()> {
    let sh = sh()?;
    cmd!(
        sh,
        "rustc +{channel} -Z unstable-options --print target-spec-json --target {path}"
    )
    .env_remove("RUSTUP_TOOLCHAIN")
    .env_remove("RUSTC")
    .quiet()
    .ignore_stdout()
    .run()?;
    Ok(())
}

/// Base minus `metadata` (descriptive only, and rejected in custom specs by some nightlies),
/// minus `remove`, plus `set`.
fn apply(patch: &Patch, base: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut spec = base.clone();
    spec.remove("metadata");
    for key in &patch.remove {
        ensure!(
            spec.remove(key).is_some(),
            "targets/patches/{}.json removes {key:?}, but the built-in {} (this nightly) has no such \
             field; update the patch",
            patch.name,
            patch.base
        );
    }
    for (k, v) in &patch.set {
        spec.insert(k.clone(), v.clone());
    }
    Ok(spec)
}

/// Pretty JSON with keys sorted at every level and a trailing newline, so diffs stay minimal.
fn to_pretty(value: &Value) -> Result<String> {
    let mut text = serde_json::to_string_pretty(&sorted(value))?;
    text.push('\n');
    Ok(text)
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let ordered: BTreeMap<&String, &Value> = m.iter().collect();
            let mut out = Map::new();
            for (k, v) in ordered {
                out.insert(k.clone(), sorted(v));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn check(
    root: &Path,
    patches: &[Patch],
    outputs: &BTreeMap<PathBuf, String>,
    channel: &str,
) -> Result<()> {
    let mut problems = Vec::new();
    for (path, text) in outputs {
        let shown = rel(root, path);
        match std::fs::read_to_string(path) {
            Err(_) => problems.push(format!("{shown}: missing (run `cargo xtask targets`)")),
            Ok(old) if old == *text => {}
            Ok(old) => {
                let detail = if path.extension().is_some_and(|e| e == "json") {
                    field_diff(&old, text)
                } else {
                    "content differs".to_string()
                };
                problems.push(format!("{shown}: out of date: {detail}"));
            }
        }
    }
    problems.extend(orphans(root, patches)?);
    if problems.is_empty() {
        println!(
            "targets: {} specs and README.md match {channel} and targets/patches/",
            patches.len()
        );
        Ok(())
    } else {
        for p in &problems {
            eprintln!("  {p}");
        }
        bail!(
            "{} file(s) in targets/ differ from what {channel} generates; run `cargo xtask targets` \
             and review the diff",
            problems.len()
        )
    }
}

/// Which top-level fields were added, removed or changed between the committed and the
/// regenerated spec.
fn field_diff(old: &str, new: &str) -> String {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (
        serde_json::from_str::<Value>(old),
        serde_json::from_str::<Value>(new),
    ) else {
        return "committed file is not a JSON object".into();
    };
    let mut out = String::new();
    for (k, v) in &new {
        match old.get(k) {
            None => {
                let _ = write!(out, "+{k}={v} ");
            }
            Some(o) if o != v => {
                let _ = write!(out, "~{k}: {o} -> {v} ");
            }
            _ => {}
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            let _ = write!(out, "-{k} ");
        }
    }
    if out.is_empty() {
        "formatting only".into()
    } else {
        out.trim_end().to_string()
    }
}

fn orphans(root: &Path, patches: &[Patch]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root.join("targets"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            if !patches.iter().any(|p| p.name == stem) {
                out.push(format!(
                    "{}: no targets/patches/{stem}.json generates it",
                    rel(root, &path)
                ));
            }
        }
    }
    Ok(out)
}

fn warn_orphans(root: &Path, patches: &[Patch]) -> Result<()> {
    for o in orphans(root, patches)? {
        eprintln!("warning: {o}");
    }
    Ok(())
}

fn readme(channel: &str, patches: &[Patch]) -> String {
    let mut s = String::new();
    s.push_str(
        "<!-- Generated by `cargo xtask targets` from targets/patches/*.json; edit those, not this. -->\n\
         # Custom target specs\n\n",
    );
    let _ = writeln!(
        s,
        "Every `*.json` here is generated by `cargo xtask targets` from the built-in spec of the \
         pinned nightly **`{channel}`** (rust-toolchain.toml), dumped with \
         `rustc -Z unstable-options --print target-spec-json --target <base>`, minus its \
         `metadata`, with the fields of `patches/<name>.json` set or removed. Do not edit them by \
         hand: change the patch and regenerate. `cargo xtask targets --check` regenerates in \
         memory, has the pinned rustc parse each result, and lists every field that differs \
         from the committed file, so a nightly bump shows what it changes.\n"
    );
    s.push_str(
        "Building with them needs `-Zbuild-std=core,alloc,compiler_builtins`, \
         `-Zbuild-std-features=compiler-builtins-mem` and `-Zjson-target-spec` \
         (`xtask/src/build.rs` passes all three).\n\n",
    );
    s.push_str(
        "All `*-linux-user` targets share one set of changes to their `*-linux-gnu` (or, for \
         x86_64, `*-linux-none`) base: a libc-free static executable with its own `_start` and raw \
         syscalls; `panic-strategy` abort; static relocation and no PIE (nothing has to relocate \
         the image before `_start` runs); `crt-static-default`; linked directly by `rust-lld` with \
         the `gnu-lld` flavour (no C compiler driver, no crt objects, so `env`, the cc-driver \
         `pre-link-args` and `link-self-contained` go); `has-thread-local` false because the TLS \
         register belongs to the clone tests. The `*-kernel-stub` targets are for the bare-metal \
         kernel stub (`kernel-stub/`).\n\n",
    );
    s.push_str("| Target | Built-in base | Arch-specific notes |\n|---|---|---|\n");
    for p in patches {
        let notes = if p.notes.is_empty() {
            "—".to_string()
        } else {
            p.notes.replace('|', "\\|")
        };
        let _ = writeln!(s, "| `{}` | `{}` | {} |", p.name, p.base, notes);
    }
    s
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
