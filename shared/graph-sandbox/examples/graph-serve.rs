//! Serves the demo Graph sandbox: `cargo run -p atpilot-graph-sandbox --example graph-serve -- 127.0.0.1:0`.
//! Prints the login and Graph base URLs, the app's client id and secret
//! (sandbox values) and the tenant of each Autotask sandbox company.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let addr =
        addr.parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr}: {e}")))?;
    let sb = atpilot_graph_sandbox::Sandbox::start(atpilot_graph_sandbox::Seed::demo(), addr).await?;
    println!("login base {}", sb.login_base());
    println!("graph base {}", sb.graph_base());
    println!("client id  {}  secret {}", sb.client_id(), atpilot_graph_sandbox::CLIENT_SECRET);
    for (id, domain, company, name) in sb.tenants() {
        println!("company {company:>3}  tenant {id}  {domain}  {name}");
    }
    tokio::signal::ctrl_c().await
}
