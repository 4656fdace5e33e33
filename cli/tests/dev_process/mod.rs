//! `atpilot dev` as a child process for the browser tests: started on a free
//! loopback port with fast demo traffic, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The running `atpilot dev`; killed and reaped when dropped.
pub struct Dev(std::process::Child);

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `atpilot dev` on `state` (240 tickets a minute on a 300-ticket
/// sandbox) and returns it with its base URL, once it prints "dashboard on".
pub fn start_dev_at(state: &std::path::Path) -> (Dev, String) {
    // Port 0: the system picks a free one as dev binds it (no window in which another test takes it).
    let mut child = Command::new(env!("CARGO_BIN_EXE_atpilot"))
        .args(["dev", "--listen", "127.0.0.1:0", "--state"])
        .arg(state)
        .args(["--tickets-per-minute", "240", "--sandbox-tickets", "300"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("atpilot dev starts");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("dashboard on http://"), "first line: {line:?}");
    // Keep reading what it prints, so its log never meets a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (Dev(child), line.trim().trim_start_matches("dashboard on ").trim_end_matches('/').to_string())
}
