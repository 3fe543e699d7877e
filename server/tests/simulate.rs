//! `qhall-server simulate` end to end: the real binary, and the JSON form of `SIMULATION.md`
//! that outside tools read.

use std::process::{Command, Output};

use serde_json::Value;

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qhall-server"))
        .arg("simulate")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = simulate(args);
    assert!(
        out.status.success(),
        "simulate {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn assert_ci(v: &Value, what: &str) {
    assert!(v["mean"].is_f64(), "{what}.mean is not a number: {v}");
    assert!(v["ci95"].is_f64(), "{what}.ci95 is not a number: {v}");
}

fn assert_figures(v: &Value, what: &str) {
    assert!(
        v["customers"].as_f64().is_some_and(|c| c > 0.0),
        "{what}.customers: {v}"
    );
    for key in [
        "service_level",
        "mean_wait_min",
        "median_wait_min",
        "p90_wait_min",
        "p_wait",
    ] {
        assert_ci(&v[key], &format!("{what}.{key}"));
    }
    let sl = v["service_level"]["mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&sl), "{what}: service level {sl}");
}

#[test]
fn the_example_hall_prints_every_policy_in_the_documented_json_form() {
    let v = json(&[
        "scenarios/example.toml",
        "--days",
        "6",
        "--seed",
        "3",
        "--json",
    ]);
    assert_eq!(v["scenario"], "example");
    assert_eq!(v["days"], 6);
    assert_eq!(v["seed"], 3);
    let default = v["default_policy"]
        .as_str()
        .expect("default_policy names a policy");
    let policies = v["policies"].as_array().unwrap();
    let names: Vec<&str> = policies
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    for name in ["fifo", "primary", "target-ratio", default] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for p in policies {
        let name = p["policy"].as_str().unwrap();
        assert_figures(&p["overall"], &format!("{name}.overall"));
        for code in ["A", "B", "C"] {
            assert_figures(&p["by_service"][code], &format!("{name}.by_service.{code}"));
        }
        for key in [
            "formula_mae_min",
            "simulation_mae_min",
            "simulation_bias_min",
        ] {
            assert!(
                p["estimate"][key].is_f64(),
                "{name}.estimate.{key}: {}",
                p["estimate"]
            );
        }
        if name != "fifo" {
            assert_ci(
                &p["vs_fifo"]["overall"]["service_level"],
                &format!("{name}.vs_fifo"),
            );
            assert_ci(
                &p["vs_fifo"]["by_service"]["C"]["service_level"],
                &format!("{name}.vs_fifo.C"),
            );
        }
    }
    // Every policy served the same customers.
    let customers: Vec<f64> = policies
        .iter()
        .map(|p| p["overall"]["customers"].as_f64().unwrap())
        .collect();
    assert!(customers.windows(2).all(|w| w[0] == w[1]), "{customers:?}");
}

#[test]
fn the_same_seed_gives_the_same_result_and_another_seed_another() {
    let args = [
        "scenarios/example.toml",
        "--days",
        "3",
        "--policy",
        "fifo",
        "--json",
    ];
    assert_eq!(json(&args), json(&args));
    let other = json(&[
        "scenarios/example.toml",
        "--days",
        "3",
        "--policy",
        "fifo",
        "--seed",
        "2",
        "--json",
    ]);
    assert_ne!(json(&args)["policies"], other["policies"]);
}

#[test]
fn one_policy_by_name_and_a_steady_state_scenario_with_priority_classes() {
    let v = json(&[
        "scenarios/priority-two-classes-c7.toml",
        "--days",
        "2",
        "--policy",
        "fifo",
        "--json",
    ]);
    assert_eq!(v["policies"].as_array().unwrap().len(), 1);
    assert_eq!(v["steady_state_hours"], 50.0);
    let classes = &v["policies"][0]["by_class"];
    assert_figures(&classes["priority"], "by_class.priority");
    assert_figures(&classes["normal"], "by_class.normal");
}

#[test]
fn without_json_it_prints_tables_and_mistakes_are_explained() {
    let out = simulate(&["scenarios/example.toml", "--days", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Service level")
            && text.contains("target-ratio")
            && text.contains("formula MAE"),
        "{text}"
    );

    let out = simulate(&["scenarios/example.toml", "--policy", "lifo"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"lifo\""));

    let out = simulate(&["scenarios/none.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("none.toml"));
}
