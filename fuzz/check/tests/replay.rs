//! Replays every kept fuzz input on stable, without libFuzzer: the corpus (`fuzz/corpus/<target>/`)
//! and the inputs that once broke an invariant (`fuzz/regressions/<target>/`), through the
//! same check functions the libFuzzer targets call.

use std::path::Path;

use clone_core_fuzz_check::TARGETS;

#[test]
fn corpus_and_regressions_replay_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    for (name, check) in TARGETS {
        let mut count = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("readable directory").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                let data = std::fs::read(&path).expect("readable input");
                count += 1;
                if let Err(v) = check(&data) {
                    failures.push(format!("{}: {v}", path.display()));
                }
            }
        }
        // An empty or missing corpus would make this test pass vacuously.
        assert!(count > 0, "no kept inputs for target {name}");
        eprintln!("{name}: {count} inputs");
    }
    assert!(
        failures.is_empty(),
        "{} inputs break an invariant:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
