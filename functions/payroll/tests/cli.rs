//! The `payroll` binary as a user runs it: exit codes, stdout/stderr, batch ordering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_payroll"))
}

/// Run `payroll args...` with `stdin` as standard input.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn payroll");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A unique scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("payroll-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// A valid weekly Texas request: 45 hours at $15.00 (40 regular + 5 overtime = $712.50).
fn valid() -> Value {
    json!({
        "pay_date": "2025-03-14",
        "pay_frequency": "weekly",
        "work_state": "TX",
        "period_start": "2025-03-03",
        "period_end": "2025-03-09",
        "time_entries": [
            {"date": "2025-03-03", "hours": "9", "rate": "15.00"},
            {"date": "2025-03-04", "hours": "9", "rate": "15.00"},
            {"date": "2025-03-05", "hours": "9", "rate": "15.00"},
            {"date": "2025-03-06", "hours": "9", "rate": "15.00"},
            {"date": "2025-03-07", "hours": "9", "rate": "15.00"}
        ],
        "federal_w4": {"form": "2020", "filing_status": "single"}
    })
}

/// Assert the invalid-input contract: exit 2, empty stdout, one stderr line `error: <field>: ...`
/// (`field` empty: any field).
fn assert_invalid(req: &str, field: &str) -> String {
    let o = run(&["calc"], req);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(stdout(&o), "", "nothing on stdout");
    assert_eq!(err.lines().count(), 1, "exactly one line: {err:?}");
    assert!(err.ends_with('\n'));
    let prefix = if field.is_empty() {
        "error: ".to_owned()
    } else {
        format!("error: {field}: ")
    };
    assert!(
        err.starts_with(&prefix),
        "{err:?} should start with {prefix:?}"
    );
    err
}

#[test]
fn valid_request_prints_the_result() {
    let o = run(&["calc"], &valid().to_string());
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "compact: one line");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["gross_pay"], "712.50");
    assert_eq!(r["hours"]["overtime"], "5");
    assert!(r["net_pay"].is_string());
}

#[test]
fn reads_a_file_and_dash_means_stdin_and_pretty_indents() {
    let dir = scratch("file");
    let f = dir.join("req.json");
    std::fs::write(&f, valid().to_string()).unwrap();
    let from_file = run(&["calc", f.to_str().unwrap()], "");
    assert_eq!(from_file.status.code(), Some(0));
    let from_dash = run(&["calc", "-"], &valid().to_string());
    assert_eq!(stdout(&from_file), stdout(&from_dash));
    let pretty = run(&["calc", "--pretty", f.to_str().unwrap()], "");
    assert_eq!(pretty.status.code(), Some(0));
    assert!(stdout(&pretty).lines().count() > 20);
    let a: Value = serde_json::from_str(&stdout(&pretty)).unwrap();
    let b: Value = serde_json::from_str(&stdout(&from_file)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn output_file_for_single_calc() {
    let dir = scratch("single-out");
    let out = dir.join("result.json");
    let o = run(
        &["calc", "--output", out.to_str().unwrap()],
        &valid().to_string(),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["gross_pay"], "712.50");
}

#[test]
fn missing_field_names_it() {
    let mut v = valid();
    v.as_object_mut().unwrap().remove("pay_frequency");
    // The field is named either as the error's field or in its message
    // (`request: missing field `pay_frequency``), depending on how the parser reports it.
    let err = assert_invalid(&v.to_string(), "");
    assert!(
        err.starts_with("error: pay_frequency: ")
            || err.starts_with("error: request: missing field `pay_frequency`"),
        "{err}"
    );
}

#[test]
fn malformed_number() {
    let mut v = valid();
    v["time_entries"][1]["hours"] = json!("8.5.1");
    assert_invalid(&v.to_string(), "time_entries[1].hours");
    // A JSON number instead of a decimal string is refused too.
    v["time_entries"][1]["hours"] = json!(8.5);
    assert_invalid(&v.to_string(), "time_entries[1].hours");
}

#[test]
fn negative_hours() {
    let mut v = valid();
    v["time_entries"][2]["hours"] = json!("-4");
    let err = assert_invalid(&v.to_string(), "time_entries[2].hours");
    assert!(err.contains("negative"), "{err}");
}

#[test]
fn twenty_five_hour_day() {
    let mut v = valid();
    v["time_entries"][0]["hours"] = json!("25");
    assert_invalid(&v.to_string(), "time_entries[0].hours");
}

#[test]
fn unknown_state() {
    let mut v = valid();
    v["work_state"] = json!("ZZ");
    let err = assert_invalid(&v.to_string(), "work_state");
    assert!(err.contains("ZZ"), "{err}");
}

#[test]
fn unsupported_state_with_income_tax() {
    let mut v = valid();
    v["work_state"] = json!("GA");
    let err = assert_invalid(&v.to_string(), "work_state");
    assert!(err.contains("GA"), "{err}");
    assert!(err.contains("not supported"), "{err}");
}

#[test]
fn pay_date_without_rule_pack() {
    let mut v = valid();
    v["pay_date"] = json!("2019-03-14");
    v["period_start"] = json!("2019-03-04");
    v["period_end"] = json!("2019-03-10");
    for (i, day) in ["04", "05", "06", "07", "08"].iter().enumerate() {
        v["time_entries"][i]["date"] = json!(format!("2019-03-{day}"));
    }
    let err = assert_invalid(&v.to_string(), "pay_date");
    assert!(err.contains("2019"), "{err}");
}

#[test]
fn bad_json() {
    // A syntax error names where it is (the field path is where the parser stopped).
    let o = run(&["calc"], "{\"pay_date\": \"2025-03-14\",");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("EOF while parsing") && err.contains("line 1 column 26"),
        "{err}"
    );
    assert_invalid("", "request");
    assert_invalid("\"a string\"", "request");
}

#[test]
fn unknown_field_is_rejected() {
    let mut v = valid();
    v["employe"] = json!({"tipped": true});
    let err = assert_invalid(&v.to_string(), "employe");
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn unreadable_file_is_one_line_exit_2() {
    let o = run(&["calc", "/nonexistent/dir/req.json"], "");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(
        err.starts_with("error: /nonexistent/dir/req.json: cannot read"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = run(&["calc", "--batch", "--pretty", "x.jsonl"], "");
    assert_eq!(o.status.code(), Some(2));
    let o = run(&["frobnicate"], "");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_describes_the_commands() {
    let o = run(&["--help"], "");
    assert_eq!(o.status.code(), Some(0));
    let h = stdout(&o);
    for word in ["calc", "generate", "Exit codes"] {
        assert!(h.contains(word), "{word} missing from:\n{h}");
    }
    let o = run(&["calc", "--help"], "");
    let h = stdout(&o);
    for word in [
        "--batch",
        "--pretty",
        "--output",
        "error: <field>: <message>",
        "line N",
    ] {
        assert!(h.contains(word), "{word} missing from:\n{h}");
    }
}

fn line_for(pay_date: &str, hours: &str) -> String {
    let mut v = valid();
    v["pay_date"] = json!(pay_date);
    v["time_entries"][0]["hours"] = json!(hours);
    v.to_string()
}

#[test]
fn batch_with_a_bad_line_keeps_going() {
    let dir = scratch("batch-bad");
    let input = dir.join("in.jsonl");
    let lines = [
        line_for("2025-03-14", "9"),
        line_for("2025-03-14", "-1"),
        String::new(), // blank: skipped, still counted
        "{not json".to_owned(),
        line_for("2025-03-14", "10"),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let o = run(&["calc", "--batch", input.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(&o));

    let out: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 4, "one output line per non-blank input line");
    assert_eq!(out[0]["gross_pay"], "712.50");
    assert_eq!(out[1]["line"], 2);
    assert_eq!(out[1]["error"]["code"], "invalid_request");
    assert_eq!(out[1]["error"]["field"], "time_entries[0].hours");
    assert_eq!(out[1]["error"]["message"], "must not be negative");
    assert_eq!(out[2]["line"], 4);
    assert_eq!(out[2]["error"]["code"], "invalid_request");
    assert!(
        out[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("key must be a string"),
        "{}",
        out[2]
    );
    // 46 hours: 40 regular + 6 overtime at 15.00 = 600 + 135.
    assert_eq!(out[3]["gross_pay"], "735.00");

    let err = stderr(&o);
    let err_lines: Vec<&str> = err.lines().collect();
    assert_eq!(err_lines.len(), 2, "{err}");
    assert_eq!(
        err_lines[0],
        "line 2: error: time_entries[0].hours: must not be negative"
    );
    assert!(err_lines[1].starts_with("line 4: error: "), "{err}");
    assert!(err_lines[1].contains("key must be a string"), "{err}");
}

#[test]
fn batch_output_order_equals_input_order() {
    // More than one chunk (4096 lines), each line with a distinct, predictable gross pay:
    // hours on the first day vary, the other four days are 9 hours, rate 15.00, FLSA weekly
    // overtime over 40.
    let dir = scratch("batch-order");
    let input = dir.join("in.jsonl");
    let output = dir.join("out.jsonl");
    let n = 5000;
    let mut text = String::new();
    let mut want = Vec::new();
    for i in 0..n {
        let quarters = i % 96; // 0..=23.75 hours on the first day
        let h = Decimal::new(quarters * 25, 2);
        text.push_str(&line_for("2025-03-14", &h.to_string()));
        text.push('\n');
        // Each line rounded once, half away from zero: regular, then overtime at 22.50.
        let total = h + Decimal::from(36);
        let forty = Decimal::from(40);
        let regular = cents(total.min(forty) * Decimal::new(1500, 2));
        let overtime = cents((total - forty).max(Decimal::ZERO) * Decimal::new(2250, 2));
        want.push(regular + overtime);
    }
    std::fs::write(&input, text).unwrap();
    let o = run(
        &[
            "calc",
            "--batch",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(stdout(&o), "");
    let got: Vec<Decimal> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["gross_pay"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "line {}", i + 1);
    }
}

#[test]
fn batch_reads_stdin() {
    let input = format!(
        "{}\n{}\n",
        line_for("2025-03-14", "9"),
        line_for("2025-03-14", "10")
    );
    let o = run(&["calc", "--batch"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let grosses: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["gross_pay"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(grosses, vec!["712.50", "735.00"]);
}

#[test]
fn generate_is_deterministic_and_valid() {
    let a = run(&["generate", "--count", "300", "--seed", "42"], "");
    assert_eq!(a.status.code(), Some(0));
    let b = run(&["generate", "--count", "300", "--seed", "42"], "");
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    let c = run(&["generate", "--count", "300", "--seed", "43"], "");
    assert_ne!(a.stdout, c.stdout);
    assert_eq!(stdout(&a).lines().count(), 300);

    let o = run(&["calc", "--batch"], &stdout(&a));
    assert_eq!(
        o.status.code(),
        Some(0),
        "generated requests are valid: {}",
        stderr(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 300);
}

#[test]
fn examples_calculate() {
    let mut n = 0;
    for e in std::fs::read_dir(examples()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            let o = run(&["calc", p.to_str().unwrap()], "");
            assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
            let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
            assert!(r["gross_pay"].is_string());
            n += 1;
        }
    }
    assert!(n >= 4, "the four examples");
}

#[test]
fn ca_tipped_example_figures() {
    let o = run(
        &[
            "calc",
            examples()
                .join("ca-tipped-server-overtime.json")
                .to_str()
                .unwrap(),
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    // California daily overtime. Week of 03-03: 8, 9.5, 7, 10, 12.5 h -> 39 regular, 7.5 OT
    // (1.5 + 2 + 4), 0.5 DT (over 12). Week of 03-10: 6, 8, 8.75, 9, 11 h -> 38 regular,
    // 4.75 OT. No weekly overtime (regular hours stay under 40).
    assert_eq!(r["hours"]["regular"], "77");
    assert_eq!(r["hours"]["overtime"], "12.25");
    assert_eq!(r["hours"]["double_time"], "0.5");
    // 77 x 17.50 = 1347.50; 12.25 x 26.25 = 321.56; 0.5 x 35.00 = 17.50;
    // cash tips 407.75; charged tips 1552.40.
    assert_eq!(r["gross_pay"], "3646.71");
    let tax = |code: &str| {
        r["taxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["code"] == code)
            .unwrap_or_else(|| panic!("no {code}"))["amount"]
            .clone()
    };
    // 401(k) does not reduce FICA wages: 3646.71 x 6.2% = 226.096; x 1.45% = 52.877.
    assert_eq!(tax("US_SS"), "226.10");
    assert_eq!(tax("US_MEDICARE"), "52.88");
}
