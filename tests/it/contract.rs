//! The contracts, checked by a fuzzer no one here wrote: schemathesis (PyPI, pinned in
//! scripts/setup), driven only by docs/openapi.yaml and docs/centre-openapi.yaml, against a
//! real `kiosk hub` and a real `kiosk centre` on 127.0.0.1. It sends schema-valid requests
//! (which must not be refused as malformed) and schema-violating ones (which must be), with
//! and without tokens, and checks every answer against the documented responses. Bounded:
//! a fixed seed and 25 examples per operation; the SSE stream is left out.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{free_port, kiosk_bin};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_up(port: u16) {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

fn schemathesis() -> PathBuf {
    let st = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/st");
    assert!(
        st.exists(),
        "schemathesis is not installed: run scripts/setup"
    );
    st
}

/// One bounded run; panics with schemathesis's report when it finds anything.
fn fuzz(spec: &str, port: u16, token: &str, paths: &[&str], dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The counter token opens counter 1 only: give path parameters that value.
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, "[parameters]\nnumber = 1\n").unwrap();
    let mut cmd = Command::new(schemathesis());
    cmd.arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(root.join(spec))
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "all", "--max-examples", "25", "--seed", "16"])
        .args(["--generation-database", "none", "--request-timeout", "5"])
        .args(["--phases", "examples,coverage,fuzzing", "--no-color"])
        .current_dir(dir);
    for p in paths {
        cmd.args(["--include-path", p]);
    }
    let out = cmd.output().expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{spec} {paths:?}: schemathesis found the server and the contract disagree:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = stdout
        .lines()
        .find(|l| l.contains("generated"))
        .unwrap_or_default()
        .to_string();
    println!("{spec} {paths:?}: {cases}");
    assert!(cases.contains("passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_and_the_receiver_do_what_their_contracts_say() {
    schemathesis();
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    // The hub: the demo config on a free port, no centre, issuing unthrottled (the fuzzer
    // would otherwise mostly meet the rate limit, which has its own test).
    let port = free_port();
    let demo = std::fs::read_to_string(root.join("kiosk-config/demo.toml")).unwrap();
    let config = demo
        .replace(
            "listen = \"127.0.0.1:8080\"",
            &format!("listen = \"127.0.0.1:{port}\"\nissue_per_minute = 600"),
        )
        .replace("url = \"http://127.0.0.1:8090/api/v1/reports\"", "");
    let hub_toml = dir.path().join("hub.toml");
    std::fs::write(&hub_toml, config).unwrap();
    let _hub = Server(
        Command::new(kiosk_bin())
            .arg("--config")
            .arg(&hub_toml)
            .arg("--db")
            .arg(dir.path().join("hub.sqlite"))
            .arg("hub")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_up(port);
    let client = reqwest::Client::new();
    let login = client
        .post(format!("http://127.0.0.1:{port}/api/login"))
        .header("content-type", "application/json")
        .body(r#"{"counter": 1, "pin": "1111"}"#)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let counter_token = login["token"].as_str().unwrap().to_string();
    // One ticket, so that device events have one to name.
    let issued = client
        .post(format!("http://127.0.0.1:{port}/api/tickets"))
        .bearer_auth("demo-kiosk-token-change-me")
        .header("content-type", "application/json")
        .body(r#"{"service": "ho-tich"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 201);
    fuzz(
        "docs/openapi.yaml",
        port,
        &counter_token,
        &[
            "/api/status",
            "/api/board",
            "/api/login",
            "/api/counters/{number}",
            "/api/counters/{number}/call",
            "/api/counters/{number}/transfer",
            "/api/counters/{number}/pause",
            "/api/counters/{number}/{action}",
        ],
        dir.path(),
    );
    fuzz(
        "docs/openapi.yaml",
        port,
        "demo-kiosk-token-change-me",
        &["/api/tickets", "/api/device-events"],
        dir.path(),
    );

    // The receiver, with one point and one viewer.
    let cport = free_port();
    let centre_toml = dir.path().join("centre.toml");
    std::fs::write(
        &centre_toml,
        format!(
            "listen = \"127.0.0.1:{cport}\"\ndb_path = \"{}\"\n\
             [[point]]\npath = \"hn.ttpvhcc/cn-07/demo\"\ntoken = \"point-token-0123456789\"\n\
             [[viewer]]\nname = \"fuzz\"\ntoken = \"viewer-token-0123456789\"\n",
            dir.path().join("centre.sqlite").display()
        ),
    )
    .unwrap();
    let _centre = Server(
        Command::new(kiosk_bin())
            .arg("centre")
            .arg("--config")
            .arg(&centre_toml)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_up(cport);
    fuzz(
        "docs/centre-openapi.yaml",
        cport,
        "point-token-0123456789",
        &["/api/v1/reports", "/api/v1/bundles/current"],
        dir.path(),
    );
    fuzz(
        "docs/centre-openapi.yaml",
        cport,
        "viewer-token-0123456789",
        &[
            "/healthz",
            "/api/points",
            "/api/point",
            "/api/assistant-misses",
            "/api/v1/track",
        ],
        dir.path(),
    );
}
