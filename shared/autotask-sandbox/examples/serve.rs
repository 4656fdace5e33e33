//! Serves the sandbox without the CLI: `cargo run -p atpilot-autotask-sandbox --example serve -- 127.0.0.1:0 [tickets]`.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into()).parse().expect("address");
    let tickets = args.next().map(|t| t.parse().expect("tickets")).unwrap_or(2_000);
    let cfg = atpilot_autotask_sandbox::SandboxConfig { tickets, ..Default::default() };
    atpilot_autotask_sandbox::serve_forever(cfg, addr, |a| println!("sandbox listening on http://{a}")).await
}
