//! `cargo xtask test --junit PATH`: a JUnit XML report with one `<testsuite>` per suite, holding
//! a testcase for the suite itself (its exit status) and one per case line an arch run printed.
//!
//! The suites are separate processes; each that runs the conformance program or the stub
//! appends its case lines to the file named by [`CASE_LOG_ENV`] ([`record_cases`]), which the
//! test runner reads back after the suite ends.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use crate::runner::CaseResult;

/// The variable naming the per-suite case log (tab-separated: run, case, verdict, detail).
pub const CASE_LOG_ENV: &str = "XTASK_CASE_LOG";

/// Appends `cases` of one arch run (`run` names it, e.g. `aarch64 (qemu-user)`) to the case
/// log, if the test runner asked for one.
pub fn record_cases(run: &str, cases: &[(String, CaseResult)]) {
    let Some(path) = std::env::var_os(CASE_LOG_ENV) else {
        return;
    };
    let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return;
    };
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let mut text = String::new();
    for (name, r) in cases {
        let detail = match r {
            CaseResult::Pass => "",
            CaseResult::Fail(d) | CaseResult::Skip(d) => d,
        };
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}",
            clean(run),
            clean(name),
            r.short(),
            clean(detail)
        );
    }
    let _ = f.write_all(text.as_bytes());
}

/// One case read back from a log.
pub struct Case {
    /// The arch run it belongs to.
    pub run: String,
    /// The case name.
    pub name: String,
    /// Its verdict.
    pub result: CaseResult,
}

/// Reads a case log written by [`record_cases`]; lines it cannot read are skipped.
pub fn read_cases(text: &str) -> Vec<Case> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(4, '\t');
            let (run, name, verdict) = (it.next()?, it.next()?, it.next()?);
            let detail = it.next().unwrap_or("").to_string();
            let result = match verdict {
                "pass" => CaseResult::Pass,
                "FAIL" => CaseResult::Fail(detail),
                "skip" => CaseResult::Skip(detail),
                _ => return None,
            };
            Some(Case {
                run: run.to_string(),
                name: name.to_string(),
                result,
            })
        })
        .collect()
}

/// One suite's outcome.
pub struct SuiteResult {
    /// Suite name.
    pub name: String,
    /// Its command line.
    pub command: String,
    /// Whether it exited 0.
    pub ok: bool,
    /// How long it ran.
    pub took: Duration,
    /// The arch cases it recorded.
    pub cases: Vec<Case>,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The report.
pub fn render(suites: &[SuiteResult]) -> String {
    let count = |s: &SuiteResult| {
        let failed = s
            .cases
            .iter()
            .filter(|c| matches!(c.result, CaseResult::Fail(_)))
            .count()
            + usize::from(!s.ok);
        let skipped = s
            .cases
            .iter()
            .filter(|c| matches!(c.result, CaseResult::Skip(_)))
            .count();
        (s.cases.len() + 1, failed, skipped)
    };
    let (tests, failures, skipped) = suites
        .iter()
        .map(count)
        .fold((0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    let total: f64 = suites.iter().map(|s| s.took.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"cargo xtask test\" tests=\"{tests}\" failures=\"{failures}\" \
         skipped=\"{skipped}\" time=\"{total:.3}\">"
    );
    for s in suites {
        let (t, f, sk) = count(s);
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{f}\" skipped=\"{sk}\" \
             time=\"{:.3}\">",
            esc(&s.name),
            s.took.as_secs_f64()
        );
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"suite exit status\" time=\"{:.3}\">",
            esc(&s.name),
            s.took.as_secs_f64()
        );
        if !s.ok {
            let _ = write!(
                x,
                "<failure message=\"the suite failed\">{}</failure>",
                esc(&s.command)
            );
        }
        x.push_str("</testcase>\n");
        for c in &s.cases {
            let _ = write!(
                x,
                "    <testcase classname=\"{}.{}\" name=\"{}\">",
                esc(&s.name),
                esc(&c.run),
                esc(&c.name)
            );
            match &c.result {
                CaseResult::Pass => {}
                CaseResult::Fail(d) => {
                    let _ = write!(x, "<failure message=\"{}\"/>", esc(d));
                }
                CaseResult::Skip(d) => {
                    let _ = write!(x, "<skipped message=\"{}\"/>", esc(d));
                }
            }
            x.push_str("</testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_round_trip_and_the_report_counts_them() {
        let log = "aarch64 (qemu-user)\ta\tpass\t\n\
                   aarch64 (qemu-user)\tb\tFAIL\tgot <3> & \"4\"\n\
                   x86_64\tc\tskip\tno clone3\n\
                   garbage line\n";
        let cases = read_cases(log);
        assert_eq!(cases.len(), 3);
        let xml = render(&[SuiteResult {
            name: "conformance".into(),
            command: "xtask linux".into(),
            ok: false,
            took: Duration::from_millis(1500),
            cases,
        }]);
        assert!(xml.contains(
            "<testsuites name=\"cargo xtask test\" tests=\"4\" failures=\"2\" skipped=\"1\""
        ));
        assert!(xml.contains("<failure message=\"got &lt;3&gt; &amp; &quot;4&quot;\"/>"));
        assert!(xml.contains(
            "<testcase classname=\"conformance.x86_64\" name=\"c\"><skipped message=\"no clone3\"/>"
        ));
        assert!(xml.contains("<failure message=\"the suite failed\">xtask linux</failure>"));
        assert_eq!(xml.matches("<testcase ").count(), 4);
        assert_eq!(xml.matches("</testcase>").count(), 4);
    }
}
